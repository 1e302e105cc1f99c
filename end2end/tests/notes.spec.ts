// The example protected page (app/src/pages/notes.rs): a signed-out visitor is sent to sign in and
// brought back, by password and by passkey; signed-in links appear only once signed in.
import { expect, test } from "./strict";
import { addAuthenticator, hydrated, setAutofill, signOut, uniqueEmail } from "./helpers";

test("a protected page sends a signed-out visitor to sign in and back", async ({ page }) => {
  await addAuthenticator(page);
  const email = uniqueEmail("notes");
  const registered = await page.request.post("/auth/register", { data: { email, password: "correct horse battery" } });
  expect(registered.status()).toBe(201);

  await page.goto("/notes");
  await expect(page).toHaveURL(/\/\?next=\/notes$/);
  await expect(page.getByTestId("sign-in-reason")).toHaveText("Please sign in to see this page.");
  await expect(page.getByRole("navigation", { name: "Account" })).toHaveCount(0);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page).toHaveURL(/\/notes$/);
  await expect(page.getByTestId("notes-owner")).toHaveText(email);
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Notes" })).toBeVisible();

  // The same with a passkey: add one, sign out, come back to /notes through the passkey button.
  await page.goto("/passkeys");
  await hydrated(page);
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await setAutofill(page, false);
  await signOut(page);
  await page.goto("/notes");
  await expect(page).toHaveURL(/\/\?next=\/notes$/);
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page).toHaveURL(/\/notes$/);
  await expect(page.getByTestId("notes-owner")).toHaveText(email);
});
