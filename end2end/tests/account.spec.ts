// The account's lifecycle through the real pages: sign-ins seen and ended from another browser,
// confirming it's you in place before a dangerous change once the sign-in is old, changing the
// password, and deleting the account.
import { expect, test } from "./strict";
import { QUICK_REAUTH, addAuthenticator, credentialsOf, hydrated, removeAuthenticator, shot, signUpWithPassword, uniqueEmail } from "./helpers";

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

test("after the re-authentication window, adding a passkey asks to confirm it's you in place, then goes through", async ({ page }) => {
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
  const prompt = page.getByTestId("confirm-prompt").filter({ visible: true });
  await expect(prompt).toContainText("Confirm it's you");
  await expect(page).toHaveURL(/\/passkeys/);
  await expect(page).not.toHaveURL(/again=1/);
  expect(await credentialsOf(authenticator)).toHaveLength(0);

  // A wrong password is refused in place; the right one confirms, and the passkey is made.
  await prompt.getByTestId("confirm-password").fill("wrong password");
  await prompt.getByTestId("confirm-with-password").click();
  await expect(prompt.getByTestId("notice")).toHaveText("The email or password is not correct.");
  await prompt.getByTestId("confirm-password").fill("correct horse battery");
  await prompt.getByTestId("confirm-with-password").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  expect(await credentialsOf(authenticator)).toHaveLength(1);
});

test("change password: an old sign-in confirms with its passkey in place, the new password works and the old does not", async ({ page }) => {
  const portal = QUICK_REAUTH.origin;
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("new-password");
  await page.goto(`${portal}/sign-up`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);
  await hydrated(page);
  await page.getByTestId("add-passkey").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);

  await page.goto(`${portal}/account`);
  await expect(page.getByTestId("password-state")).toContainText("as well as your passkeys");
  await page.waitForTimeout((QUICK_REAUTH.windowSecs + 1.5) * 1000);
  await expect(page.locator(".confirm-first[data-hydrated=true]:has(#password-form)")).toHaveCount(1);
  await page.getByLabel(/^New password/).fill("a much better passphrase");
  await page.getByTestId("set-password").click();
  const prompt = page.getByTestId("confirm-prompt").filter({ visible: true });
  await prompt.getByTestId("confirm-with-passkey").click();
  await expect(page.getByText("Your password was saved.")).toBeVisible();
  const activity = page.getByTestId("activity");
  await expect(activity.first()).toHaveText(/Password changed/);
  await expect(activity.nth(1)).toHaveText(/Signed in with the passkey/);
  await shot(page, "account-activity");

  // Signed out and without the passkey (the sign-in page's autofill would use it), by password.
  await removeAuthenticator(authenticator);
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(new RegExp(`^${portal}/\\?signed_out=1$`));
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page.getByTestId("notice").filter({ visible: true })).toHaveText("The email or password is not correct.");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a much better passphrase");
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);
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

test("past the re-authentication window, every guarded change asks to confirm it's you in place, then goes through", async ({ page }) => {
  const portal = QUICK_REAUTH.origin;
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // A WASM panic is printed as a console error; a refused request's status is not an error of the page.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  await addAuthenticator(page);
  const email = uniqueEmail("guarded");
  await page.goto(`${portal}/sign-up`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys/);
  const outlive = () => page.waitForTimeout((QUICK_REAUTH.windowSecs + 1.5) * 1000);
  // The prompt opens where the person is: no page posted without JavaScript, no error in the address.
  const confirmInPlace = async (form: string, how: "password" | "passkey") => {
    const prompt = page.getByTestId("confirm-prompt").filter({ visible: true });
    await expect(prompt, form).toContainText("Confirm it's you");
    await expect(page).not.toHaveURL(/__err|again=1/);
    if (how === "password") {
      await prompt.getByTestId("confirm-password").fill("correct horse battery");
      await prompt.getByTestId("confirm-with-password").click();
    } else {
      await prompt.getByTestId("confirm-with-passkey").click();
    }
  };
  const guarded = (form: string) => page.locator(`.confirm-first[data-hydrated=true]:has(#${form})`);
  // A passkey to confirm with; the window is short enough that adding it may ask first, too.
  const addPasskey = async () => {
    await hydrated(page);
    await page.getByTestId("add-passkey").click();
    const prompt = page.getByTestId("confirm-prompt").filter({ visible: true });
    await expect(page.getByTestId("passkey").or(prompt).first()).toBeVisible();
    if (await prompt.isVisible()) await confirmInPlace("add-passkey", "password");
    await expect(page.getByTestId("passkey")).toHaveCount(1);
  };
  await addPasskey();

  // Deleting a passkey.
  await outlive();
  await page.getByRole("button", { name: "Delete…" }).click();
  await expect(guarded("delete-passkey")).toHaveCount(1);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await confirmInPlace("delete-passkey", "password");
  await expect(page.getByText("The passkey was deleted.")).toBeVisible();
  await expect(page.getByTestId("passkey")).toHaveCount(0);

  await addPasskey();

  // Changing the email address.
  await page.goto(`${portal}/account`);
  await outlive();
  await expect(guarded("change-email-form")).toHaveCount(1);
  await page.getByTestId("open-change-email").click();
  await page.getByLabel("New email address").fill(uniqueEmail("guarded-new"));
  await page.getByTestId("change-email").click();
  // The prompt takes the focus, and Escape closes it, giving the focus back to the form.
  const open = page.getByTestId("confirm-prompt").filter({ visible: true });
  await expect(open.getByTestId("confirm-with-passkey")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(open).toHaveCount(0);
  expect(await page.evaluate(() => document.activeElement?.closest("#change-email-form") !== null), "focus back on the form").toBe(true);
  await page.getByTestId("change-email").click();
  await confirmInPlace("change-email-form", "passkey");
  await expect(page.getByTestId("pending-email")).toBeVisible();

  // Removing the password.
  await outlive();
  await expect(guarded("remove-password-form")).toHaveCount(1);
  await page.getByTestId("remove-password").click();
  await confirmInPlace("remove-password-form", "passkey");
  await expect(page.getByText(/Your password was removed/)).toBeVisible();

  // Deleting the account.
  await outlive();
  await expect(page.locator("form[data-hydrated=true]")).toHaveCount(1);
  await page.getByLabel("Type your email to confirm").fill(email);
  await page.getByTestId("delete-account").click();
  await confirmInPlace("delete-account", "passkey");
  await expect(page.getByTestId("sign-in-reason")).toHaveText("Your account was deleted, with its passkeys and sign-ins.");
  expect(errors, "errors in the pages' consoles").toEqual([]);
});

test("times are shown in the visitor's time zone: the exact time on hover, and older dates", async ({ browser }) => {
  // Kathmandu is UTC+5:45, so its minutes differ from UTC's whatever the hour.
  const context = await browser.newContext({ timezoneId: "Asia/Kathmandu" });
  const page = await context.newPage();
  await signUpWithPassword(page, uniqueEmail("time-zone"));
  await page.goto("/account");
  const created = page.getByTestId("activity").locator("time").last();
  const at = new Date((await created.getAttribute("datetime"))!);
  const local = new Date(at.getTime() + (5 * 60 + 45) * 60000);
  const minutes = String(local.getUTCMinutes()).padStart(2, "0");
  await expect(created).toHaveText("just now");
  await expect(created).toHaveAttribute("title", new RegExp(`\\b${local.getUTCDate()}, ${local.getUTCFullYear()}, \\d{1,2}:${minutes}\\b`));
  await expect(created).not.toHaveAttribute("title", /UTC/);

  // A month later (the browser's clock), the same event is a date, in Kathmandu's calendar.
  await page.clock.install({ time: at.getTime() + 30 * 86400000 });
  await page.goto("/account");
  const day = local.toLocaleDateString("en", { timeZone: "UTC", dateStyle: "medium" });
  await expect(page.getByTestId("activity").locator("time").last()).toHaveText(day);
  await context.close();
});
