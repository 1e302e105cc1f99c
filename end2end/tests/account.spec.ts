// The account's lifecycle through the real pages: sign-ins seen and ended from another browser.
import { expect, test } from "./strict";
import { shot, uniqueEmail } from "./helpers";

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
