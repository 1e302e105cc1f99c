// "Sign in with Latchkey": a tiny app on another origin, built on openid-client (an OpenID-certified
// client library), sends the browser to Latchkey; the user signs in with a passkey on Latchkey's own
// pages, allows the app on the consent page, and comes back to the app, which shows the user's
// email from the verified ID token and userinfo. Signing out of the app goes through Latchkey's
// end_session, which ends the portal sign-in too.
import { expect, test } from "./strict";
import { APP_ORIGIN, OIDC_APP, addAuthenticator, expectAccessible, hydrated, setAutofill, shot, signOut, signUpWithPasskey, uniqueEmail } from "./helpers";
import { serveApp } from "./oidc-app";

test("an app signs a user in with a passkey through Latchkey and signs out through end_session", async ({ page, baseURL }) => {
  // An account with a passkey, signed out again.
  await addAuthenticator(page);
  await setAutofill(page, false);
  const email = uniqueEmail("oidc");
  await signUpWithPasskey(page, email);
  await signOut(page);

  const app = await serveApp(baseURL!);
  try {
    await page.goto(`${APP_ORIGIN}/`);
    await page.getByTestId("app-sign-in").click();

    // Latchkey's sign-in page, naming the app; the passkey button signs in.
    await expect(page.getByTestId("sign-in-reason")).toHaveText(`${OIDC_APP.name} wants you to sign in.`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Sign in to ${OIDC_APP.name}`);
    await expect(page.getByTestId("app-origin")).toContainText(`${OIDC_APP.name} is at ${APP_ORIGIN}`);
    expect(new URL(page.url()).origin).toBe(baseURL);
    await hydrated(page);
    await shot(page, "sign-in-for-app");
    await page.getByTestId("passkey-sign-in").click();

    // The consent page, once per app.
    await expect(page.getByTestId("consent-app")).toHaveText(OIDC_APP.name);
    await expect(page.getByTestId("consent-email")).toHaveText(email);
    await expect(page.getByTestId("app-origin")).toContainText(APP_ORIGIN);
    await expect(page.getByTestId("consent-not-you")).toHaveAttribute("href", /^\/\?next=\/oidc\/authorize\/resume%3Frequest%3D/);
    await shot(page, "consent");
    await page.getByTestId("consent-allow").click();

    // Back at the app, signed in.
    await expect(page.getByTestId("app-user")).toHaveText(email);
    await expect(page.getByTestId("app-userinfo")).toHaveText(email);
    await expect(page.getByTestId("app-amr")).toHaveText("pop mfa");
    expect(new URL(page.url()).origin).toBe(APP_ORIGIN);

    // Signing in again goes straight back: Latchkey's sign-in and the consent are remembered.
    await page.goto(`${APP_ORIGIN}/login`);
    await expect(page.getByTestId("app-user")).toHaveText(email);

    // "Your apps" on the account page lists it, signed in; "Remove access" signs it out, and the
    // next sign-in asks for consent again.
    await page.goto("/account");
    const listed = page.locator(`[data-testid="your-app"][data-client-id="${OIDC_APP.clientId}"]`);
    await expect(listed).toContainText(OIDC_APP.name);
    await expect(listed).toContainText("Allowed · signed in");
    await expectAccessible(page, "the account page with an app");
    await listed.getByTestId("remove-app-access").click();
    await expect(page).toHaveURL(/\/account\?done=app_removed$/);
    await expect(page.getByTestId("notice").filter({ visible: true })).toContainText("The app's access is removed");
    await expect(listed).toContainText("Open to your account");
    await expect(listed.getByTestId("remove-app-access")).toHaveCount(0);
    await page.goto(`${APP_ORIGIN}/login`);
    await expect(page.getByTestId("consent-app")).toHaveText(OIDC_APP.name);
    await page.getByTestId("consent-allow").click();
    await expect(page.getByTestId("app-user")).toHaveText(email);

    // Signing out of the app ends the portal sign-in too.
    await page.getByTestId("app-sign-out").click();
    await expect(page.getByTestId("app-signed-out")).toHaveText("Signed out (bye)");
    await page.goto("/account");
    await expect(page).toHaveURL(/\/\?next=%2Faccount$|\/\?next=\/account$/);
  } finally {
    app.close();
  }
});

test("someone new, sent by the app, creates an account with a passkey and goes on to the app", async ({ page, baseURL }) => {
  await addAuthenticator(page);
  await setAutofill(page, false);
  const app = await serveApp(baseURL!);
  try {
    await page.goto(`${APP_ORIGIN}/`);
    await page.getByTestId("app-sign-in").click();
    await expect(page.getByTestId("sign-in-reason")).toHaveText(`${OIDC_APP.name} wants you to sign in.`);
    await page.getByRole("link", { name: "Create an account" }).click();

    const email = uniqueEmail("oidc-new");
    await expect(page).toHaveURL(/\/sign-up\?next=/);
    // Sign-up keeps the app: its name and where it is.
    await expect(page.getByTestId("sign-in-reason")).toHaveText(`${OIDC_APP.name} wants you to sign in.`);
    await expect(page.getByTestId("app-origin")).toContainText(APP_ORIGIN);
    await hydrated(page);
    await page.getByLabel("Email").fill(email);
    await page.getByTestId("passkey-sign-up").click();

    await expect(page.getByTestId("consent-email")).toHaveText(email);
    await page.getByTestId("consent-allow").click();
    await expect(page.getByTestId("app-user")).toHaveText(email);
  } finally {
    app.close();
  }
});
