// What a new user hit, kept from coming back: the forms' failures, Enter on the sign-up page, and a
// phone's width.
import { expect, test } from "./strict";
import {
  PRODUCT_NAME, addAuthenticator, credentialsOf, hydrated, setAutofill, shot, signOut, signUpWithPasskey, signUpWithPassword,
  uniqueEmail,
} from "./helpers";

test("a wrong password keeps the email, leaves the address plain and puts the focus and the error on the password", async ({ page }) => {
  const email = uniqueEmail("wrong-password");
  await signUpWithPassword(page, email);
  await signOut(page);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not my password");
  await page.getByRole("button", { name: "Sign in with password" }).click();

  const password = page.getByLabel("Password");
  await expect(page.locator("#password-form-error")).toContainText("email or password");
  expect(new URL(page.url()).search, "no error written in the address").toBe("?signed_out=1");
  await expect(page.getByTestId("sign-in-reason"), "no longer news").toHaveCount(0);
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(password).toHaveValue("");
  await expect(password).toBeFocused();
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(password).toHaveAttribute("aria-describedby", "password-form-error");

  // The error was for that one answer: a reload shows the plain page.
  await page.reload();
  await expect(page.locator("#password-form-error")).toBeHidden();
  await expect(page.getByLabel("Email")).toHaveValue("");

  // Sign-up: a taken address keeps what was typed, with the focus and the error on the email.
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page.locator("#password-form-error")).toBeVisible();
  expect(new URL(page.url()).search).toBe("");
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByLabel("Email")).toBeFocused();
  await expect(page.getByLabel("Email")).toHaveAttribute("aria-describedby", "password-form-error");
});

test("an error written into the sign-in page's address is not shown", async ({ page }) => {
  const body = JSON.stringify({ error: "invalid_credentials", message: "Your account is locked: call 555-0100." });
  const err = Buffer.from(body).toString("base64url");
  await page.goto(`/?__path=/api/password_sign_in&__err=${err}`);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByText("555-0100")).toHaveCount(0);
});

test("Enter in the sign-up email field creates the account with a passkey", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  await setAutofill(page, false);
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(uniqueEmail("enter"));
  await page.getByLabel("Email").press("Enter");

  await expect(page).toHaveURL(/\/passkeys\?welcome=1$/);
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  expect(await credentialsOf(authenticator)).toHaveLength(1);
});

test("at a phone's width, the delete confirmation fits its card and the page does not scroll sideways", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await addAuthenticator(page);
  await setAutofill(page, false);
  await signUpWithPasskey(page, uniqueEmail("phone"));

  await hydrated(page);
  await page.getByRole("button", { name: "Delete…" }).click();
  const label = page.getByText("Also sign out where it was used to sign in");
  await expect(label).toBeVisible();

  const card = await page.locator(".card").boundingBox();
  const box = await label.boundingBox();
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
  expect(widths.scroll, "no sideways scrolling").toBeLessThanOrEqual(widths.view);
  expect(box!.x + box!.width, "the label ends inside the card").toBeLessThanOrEqual(card!.x + card!.width);
  // One line, or two at most: not a word per line.
  const lineHeight = await label.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 24);
  expect(box!.height, "the label's lines").toBeLessThanOrEqual(lineHeight * 2.5);
});

test("a signed-in visitor has a home: who they are, their passkeys, the header's account link and sign-out", async ({ page }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  const email = uniqueEmail("home");
  await signUpWithPasskey(page, email);

  // Each page names itself, and the navigation marks where the visitor is.
  await expect(page).toHaveTitle(`Passkeys · ${PRODUCT_NAME}`);
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Passkeys" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Account" })).not.toHaveAttribute("aria-current", "page");

  // The logo leads home, not to the sign-in form again.
  await page.getByRole("link", { name: PRODUCT_NAME }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page).toHaveTitle(`Home · ${PRODUCT_NAME}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
  await expect(page.getByTestId("signed-in-as")).toContainText(email);
  await expect(page.getByTestId("glance-passkey")).toHaveCount(1);
  await expect(page.getByTestId("passkey-sign-in")).toHaveCount(0);
  await shot(page, "home");
  await expect(page.getByTestId("signed-in-user")).toContainText(email);

  // Sign-out is in the header on every page, and the page after it says so.
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/\?signed_out=1$/);
  await expect(page.getByTestId("sign-in-reason")).toHaveText("You are signed out.");
  await expect(page.getByTestId("signed-in-user")).toHaveCount(0);
});

test("an address that is no page says so, with a heading and the way home", async ({ page }) => {
  const answer = await page.goto("/no-such-page");
  expect(answer?.status()).toBe(404);
  await expect(page).toHaveTitle(`Page not found · ${PRODUCT_NAME}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("a new account is welcomed and told of its confirmation mail, and the passkey offer can be taken or declined", async ({ page }) => {
  const email = uniqueEmail("welcome");
  await signUpWithPassword(page, email);

  await expect(page.getByTestId("welcome")).toContainText(`Welcome to ${PRODUCT_NAME}. Your account is ready.`);
  await expect(page.getByTestId("welcome-mail")).toContainText(`We sent a link to ${email}`);
  const offer = page.getByTestId("passkey-offer");
  await expect(offer.getByTestId("add-passkey")).toBeVisible();
  await offer.getByTestId("offer-not-now").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
});
