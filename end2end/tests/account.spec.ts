// The account's lifecycle through the real pages: sign-ins seen and ended from another browser, and
// signing in again before a dangerous change once the sign-in is old.
import { expect, test } from "./strict";
import { QUICK_REAUTH, addAuthenticator, credentialsOf, hydrated, shot, uniqueEmail } from "./helpers";

test("a sign-in in a second browser is listed and ended from the first, which signs the second out", async ({ page, browser }) => {
  const email = uniqueEmail("two-browsers");
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);

  // A second browser (its own cookies) signs in to the same account.
  const elsewhere = await browser.newContext();
  const second = await elsewhere.newPage();
  await second.goto("/");
  await second.getByLabel("Email").fill(email);
  await second.getByLabel("Password").fill("correct horse battery");
  await second.getByRole("button", { name: "Sign in with password" }).click();
  await expect(second).toHaveURL(/\/passkeys/);

  await page.goto("/account");
  await expect(page.getByTestId("sign-in")).toHaveCount(2);
  await expect(page.getByTestId("this-device")).toHaveCount(1);
  await shot(page, "account-sign-ins");
  const other = page.getByTestId("sign-in").filter({ hasNot: page.getByTestId("this-device") });
  await expect(other).toContainText("Password");
  await other.getByRole("button", { name: "End" }).click();
  await expect(page.getByText("That sign-in was ended.")).toBeVisible();
  await expect(page.getByTestId("sign-in")).toHaveCount(1);

  // The second browser is signed out on its next request; the first is not.
  await second.goto("/account");
  await expect(second).toHaveURL(/\/\?next=\/account$/);
  await page.reload();
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await elsewhere.close();
});

test("after the re-authentication window, adding a passkey asks to sign in again, then goes through", async ({ page }) => {
  const portal = QUICK_REAUTH.origin;
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("confirm");
  await page.goto(`${portal}/sign-up`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);

  // Outlive the window: the sign-in is now too old to add a passkey.
  await page.waitForTimeout((QUICK_REAUTH.windowSecs + 1.5) * 1000);
  await hydrated(page);
  await page.getByTestId("add-passkey").click();
  await expect(page).toHaveURL(/\/\?next=\/passkeys&again=1$/);
  await expect(page.getByTestId("sign-in-reason")).toHaveText("To make this change, confirm it's you: sign in again.");
  expect(await credentialsOf(authenticator)).toHaveLength(0);

  // Signed in again, back on the passkeys page, the same click goes through.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page).toHaveURL(/\/passkeys$/);
  await hydrated(page);
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  expect(await credentialsOf(authenticator)).toHaveLength(1);
});

test("an account is deleted from its page, and the browser's passkey provider is told to forget its passkey", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("leaving");
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByTestId("passkey-sign-up").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  expect(await credentialsOf(authenticator)).toHaveLength(1);

  await page.goto("/account");
  // The island calls the Signal API once the account is gone; without it the form deletes silently.
  await expect(page.locator("form[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Type your email to confirm").fill(email);
  await page.getByTestId("delete-account").click();
  await expect(page.getByTestId("sign-in-reason")).toHaveText("Your account was deleted, with its passkeys and sign-ins.");
  // signalAllAcceptedCredentials with no passkeys: the authenticator drops this account's.
  await expect.poll(async () => (await credentialsOf(authenticator)).length).toBe(0);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/\?next=\/account$/);
});
