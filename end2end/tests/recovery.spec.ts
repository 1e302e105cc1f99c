// Recovery for someone who lost their passkey: the operator's one-time link, opened in a browser
// with a new authenticator, adds a new passkey and signs in with it.
import { expect, test } from "./strict";
import { ADMIN_TOKEN, addAuthenticator, credentialsOf, hydrated, removeAuthenticator, uniqueEmail } from "./helpers";

test("the operator's recovery link adds a new passkey on a new authenticator and signs in", async ({ page, request }) => {
  const email = uniqueEmail("lost");
  const lost = await addAuthenticator(page);
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByTestId("passkey-sign-up").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await page.context().clearCookies();
  // The device is gone.
  await removeAuthenticator(lost);

  const made = await request.post("/admin/recovery-links", {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    data: { email },
  });
  expect(made.status()).toBe(201);
  const { url } = await made.json();

  const fresh = await addAuthenticator(page);
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Recover your account" })).toBeVisible();
  await hydrated(page);
  await page.getByTestId("recover").click();
  await expect(page).toHaveURL(/\/passkeys\?done=recovered$/);
  await expect(page.getByText("Your account is recovered")).toBeVisible();
  await expect(page.getByTestId("passkey")).toHaveCount(2);
  expect(await credentialsOf(fresh)).toHaveLength(1);

  // The link worked once.
  await page.context().clearCookies();
  await page.goto(url);
  await hydrated(page);
  await page.getByTestId("recover").click();
  await expect(page.getByTestId("notice").filter({ visible: true })).toHaveText(
    "This recovery link is wrong, already used or expired. Ask for a new one.",
  );
});
