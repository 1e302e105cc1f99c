// "Sign in with Latchkey": a tiny app on another origin, built on openid-client (an OpenID-certified
// client library), sends the browser to Latchkey; the user signs in with a passkey on Latchkey's own
// pages, allows the app on the consent page, and comes back to the app, which shows the user's
// email from the verified ID token and userinfo. Signing out of the app goes through Latchkey's
// end_session, which ends the portal sign-in too.
import { createServer, type Server } from "node:http";
import * as client from "openid-client";
import { expect, test } from "./strict";
import { APP_ORIGIN, OIDC_APP, addAuthenticator, hydrated, setAutofill, shot, signOut, uniqueEmail } from "./helpers";

/**
 * The app: `/` has a sign-in link, `/login` starts the authorization code flow with PKCE, state and
 * nonce, `/callback` finishes it (openid-client checks state, `iss`, the code exchange, the ID
 * token's signature through the JWKS, its nonce and claims), `/logout` sends the browser to
 * Latchkey's end_session with the ID token as hint.
 */
async function serveApp(issuer: string): Promise<Server> {
  const config = await client.discovery(new URL(issuer), OIDC_APP.clientId, OIDC_APP.secret, undefined, {
    execute: [client.allowInsecureRequests], // the test server is http://localhost
  });
  let pending: { verifier: string; state: string; nonce: string } | undefined;
  let idToken: string | undefined;
  const page = (body: string) => `<!doctype html><html><head><title>Example App</title></head><body>${body}</body></html>`;

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", APP_ORIGIN);
    const html = (body: string) => response.writeHead(200, { "content-type": "text/html" }).end(page(body));
    try {
      if (url.pathname === "/") {
        html(`<a href="/login" data-testid="app-sign-in">Sign in with Latchkey</a>`);
      } else if (url.pathname === "/login") {
        pending = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
        const location = client.buildAuthorizationUrl(config, {
          redirect_uri: OIDC_APP.redirectUri,
          scope: "openid email profile",
          code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
          code_challenge_method: "S256",
          state: pending.state,
          nonce: pending.nonce,
        });
        response.writeHead(302, { location: location.href }).end();
      } else if (url.pathname === "/callback") {
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: pending!.verifier,
          expectedState: pending!.state,
          expectedNonce: pending!.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims()!;
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        idToken = tokens.id_token;
        html(
          `<p>Signed in as <span data-testid="app-user">${claims.email}</span>` +
            ` (userinfo: <span data-testid="app-userinfo">${info.email}</span>,` +
            ` amr: <span data-testid="app-amr">${(claims.amr as string[]).join(" ")}</span>)</p>` +
            `<a href="/logout" data-testid="app-sign-out">Sign out</a>`,
        );
      } else if (url.pathname === "/logout") {
        const location = client.buildEndSessionUrl(config, {
          id_token_hint: idToken!,
          post_logout_redirect_uri: OIDC_APP.signedOutUri,
          state: "bye",
        });
        response.writeHead(302, { location: location.href }).end();
      } else if (url.pathname === "/signed-out") {
        html(`<p data-testid="app-signed-out">Signed out (${url.searchParams.get("state")})</p>`);
      } else {
        response.writeHead(404).end();
      }
    } catch (error) {
      response.writeHead(500, { "content-type": "text/plain" }).end(`app error: ${error}`);
    }
  });
  await new Promise<void>((listening) => server.listen(Number(new URL(APP_ORIGIN).port), "127.0.0.1", listening));
  return server;
}

test("an app signs a user in with a passkey through Latchkey and signs out through end_session", async ({ page, baseURL }) => {
  // An account with a passkey, signed out again.
  await addAuthenticator(page);
  await setAutofill(page, false);
  const email = uniqueEmail("oidc");
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByTestId("passkey-sign-up").click();
  await expect(page).toHaveURL(/\/passkeys$/);
  await signOut(page);

  const app = await serveApp(baseURL!);
  try {
    await page.goto(`${APP_ORIGIN}/`);
    await page.getByTestId("app-sign-in").click();

    // Latchkey's sign-in page, naming the app; the passkey button signs in.
    await expect(page.getByTestId("sign-in-reason")).toHaveText(`${OIDC_APP.name} wants you to sign in.`);
    expect(new URL(page.url()).origin).toBe(baseURL);
    await hydrated(page);
    await shot(page, "sign-in-for-app");
    await page.getByTestId("passkey-sign-in").click();

    // The consent page, once per app.
    await expect(page.getByTestId("consent-app")).toHaveText(OIDC_APP.name);
    await expect(page.getByTestId("consent-email")).toHaveText(email);
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
