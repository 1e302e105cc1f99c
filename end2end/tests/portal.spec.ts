// The portal through its real pages, with Chromium's virtual authenticators.
import { expect, test } from "./strict";
import { addAuthenticator, credentialsOf, hydrated, removeAuthenticator, setAutofill, shot, signOut, signUpWithPasskey, uniqueEmail } from "./helpers";

test("password sign-up, add a passkey, passkey sign-in, autofill, rename, delete, deleted passkey refused", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("ada");

  await page.goto("/sign-up");
  await shot(page, "sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys\?offer=1&welcome=1$/);
  await expect(page.getByTestId("passkey-offer")).toBeVisible();

  await hydrated(page);
  await page.getByLabel(/Name for the new passkey/).fill("Laptop");
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await expect(page.getByTestId("passkey")).toContainText("Laptop");
  await expect(page.getByTestId("passkey")).toContainText("This device only");
  await expect(page.getByTestId("second-passkey-hint")).toBeVisible();
  await shot(page, "passkeys");
  expect(await credentialsOf(authenticator)).toHaveLength(1);

  await page.goto("/account");
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await shot(page, "account");
  // One button, no username.
  await setAutofill(page, false);
  await signOut(page);
  await expect(page).toHaveURL(/\/\?signed_out=1$/);
  await hydrated(page);
  await shot(page, "sign-in");
  await page.getByTestId("passkey-sign-in").click();
  await expect(page).toHaveURL(/\/passkeys$/);
  await expect(page.getByTestId("passkey")).toContainText("Last used");

  // Autofill: the conditional request started when the sign-in page loads is answered by the authenticator.
  await setAutofill(page, true);
  await signOut(page);
  await expect(page).toHaveURL(/\/passkeys$/);

  // Rename inline.
  await hydrated(page);
  await page.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("Passkey name").fill("Work laptop");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("passkey")).toContainText("Work laptop");

  // Delete, with confirmation. The Signal API (signalAllAcceptedCredentials) tells the authenticator.
  const [stored] = await credentialsOf(authenticator);
  await page.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await expect(page.getByTestId("passkey")).toHaveCount(0);
  await expect.poll(async () => (await credentialsOf(authenticator)).length).toBe(0);

  // A device that missed the signal still holds the deleted passkey: signing in with it is refused
  // with a plain sentence, and signalUnknownCredential removes it from that device too.
  await authenticator.cdp.send("WebAuthn.addCredential", { authenticatorId: authenticator.id, credential: stored });
  await setAutofill(page, false);
  await signOut(page);
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByTestId("notice").first()).toContainText("not known here");
  await expect(page).toHaveURL(/\/\?signed_out=1$/);
  await shot(page, "sign-in-unknown-passkey");
  await expect.poll(async () => (await credentialsOf(authenticator)).length).toBe(0);
});

test("passkey-only sign-up", async ({ page }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  const email = uniqueEmail("passkey-only");
  await signUpWithPasskey(page, email);
  await expect(page.getByTestId("passkey")).toHaveCount(1);

  await signOut(page);
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page).toHaveURL(/\/passkeys$/);
  await page.goto("/account");
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("two authenticators on one account", async ({ page }) => {
  const first = await addAuthenticator(page);
  await setAutofill(page, false);
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail("two-keys"));
  await page.getByTestId("passkey-sign-up").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);

  await removeAuthenticator(first);
  const second = await addAuthenticator(page);
  await hydrated(page);
  await page.getByLabel(/Name for the new passkey/).fill("Security key");
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkey")).toHaveCount(2);
  await expect(page.getByTestId("second-passkey-hint")).toBeHidden();

  await signOut(page);
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page).toHaveURL(/\/passkeys$/);
  expect((await credentialsOf(second))[0].signCount).toBeGreaterThanOrEqual(1);
});

test("a passkey already on this device gets a plain message", async ({ page }) => {
  await addAuthenticator(page);
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail("twice"));
  await page.getByTestId("passkey-sign-up").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);

  await hydrated(page);
  await page.getByTestId("add-passkey").click();
  await expect(page.locator(".add-passkey [data-testid=notice]")).toContainText("already registered on this device");
});

test("a prompt that finds no passkey says what to do", async ({ page }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByTestId("notice").first()).toContainText("closed or timed out");
});

test("the password form works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const email = uniqueEmail("no-js");
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);

  await page.goto("/account");
  await page.getByTestId("sign-out").click();
  await page.goto("/");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page.getByText("The email or password is not correct.")).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);
  await context.close();
});

test("server functions refuse calls from other origins", async ({ request }) => {
  const answer = await request.post("/api/passkey_sign_in_options", {
    headers: { Origin: "http://evil.localhost:3100", "Content-Type": "application/x-www-form-urlencoded" },
    data: "",
  });
  expect(answer.status()).toBe(403);
  expect((await answer.json()).error).toBe("forbidden_origin");
});
