// "Sign in with Latchkey" in Firefox ESR, as tests/sign-in-with-latchkey.spec.ts in Chromium: the
// suite's app on APP_ORIGIN (tests/oidc-app.ts, built on openid-client) sends the browser to
// Latchkey, the user signs in with a passkey from WebDriver's virtual authenticator, allows the app,
// and comes back signed in; signing out of the app goes through Latchkey's end_session.
import { expect, test } from "./fixtures";
import { signOut, signUpWithPasskey } from "./steps";
import { APP_ORIGIN, OIDC_APP, uniqueEmail } from "../tests/helpers";
import { serveApp } from "../tests/oidc-app";

test("an app signs a user in with a passkey through Latchkey and signs out through end_session", async ({ firefox, authenticator, baseURL }) => {
  // An account with a passkey, signed out again.
  const email = uniqueEmail("oidc-firefox");
  await signUpWithPasskey(firefox, email);
  expect(await authenticator.credentials()).toHaveLength(1);
  await signOut(firefox);

  const app = await serveApp(baseURL!);
  try {
    await firefox.goto(`${APP_ORIGIN}/`);
    await firefox.click(await firefox.byTestId("app-sign-in"));

    // Latchkey's sign-in page, naming the app; the passkey button signs in.
    await expect.poll(() => firefox.text("[data-testid=sign-in-reason]")).toBe(`${OIDC_APP.name} wants you to sign in.`);
    expect((await firefox.url()).origin).toBe(baseURL);
    await firefox.hydrated();
    await firefox.click(await firefox.byTestId("passkey-sign-in"));

    // The consent page, once per app.
    await expect.poll(() => firefox.text("[data-testid=consent-app]")).toBe(OIDC_APP.name);
    expect(await firefox.text("[data-testid=consent-email]")).toBe(email);
    await firefox.click(await firefox.byTestId("consent-allow"));

    // Back at the app, signed in.
    await expect.poll(() => firefox.text("[data-testid=app-user]")).toBe(email);
    expect(await firefox.text("[data-testid=app-userinfo]")).toBe(email);
    expect(await firefox.text("[data-testid=app-amr]")).toBe("pop mfa");
    expect((await firefox.url()).origin).toBe(APP_ORIGIN);

    // Signing in again goes straight back: Latchkey's sign-in and the consent are remembered.
    await firefox.goto(`${APP_ORIGIN}/login`);
    await expect.poll(() => firefox.text("[data-testid=app-user]")).toBe(email);

    // Signing out of the app ends the portal sign-in too.
    await firefox.click(await firefox.byTestId("app-sign-out"));
    await expect.poll(() => firefox.text("[data-testid=app-signed-out]")).toBe("Signed out (bye)");
    await firefox.goto("/account");
    await firefox.waitForURL(/\/\?next=%2Faccount$|\/\?next=\/account$/);
  } finally {
    app.close();
  }
});

test("someone new, sent by the app, creates an account with a passkey and goes on to the app", async ({ firefox, authenticator, baseURL }) => {
  const app = await serveApp(baseURL!);
  try {
    await firefox.goto(`${APP_ORIGIN}/`);
    await firefox.click(await firefox.byTestId("app-sign-in"));
    await expect.poll(() => firefox.text("[data-testid=sign-in-reason]")).toBe(`${OIDC_APP.name} wants you to sign in.`);
    await firefox.click(await firefox.locate("a[href^='/sign-up?next=']")); // "Create an account"

    const email = uniqueEmail("oidc-new-firefox");
    await firefox.waitForURL(/\/sign-up\?next=/);
    await firefox.hydrated();
    await firefox.fill("Email", email);
    await firefox.click(await firefox.byTestId("passkey-sign-up"));

    await expect.poll(() => firefox.text("[data-testid=consent-email]")).toBe(email);
    await firefox.click(await firefox.byTestId("consent-allow"));
    await expect.poll(() => firefox.text("[data-testid=app-user]")).toBe(email);
    expect(await authenticator.credentials()).toHaveLength(1);
  } finally {
    app.close();
  }
});
