// The app that signs its users in with Latchkey through OpenID Connect in the suite, served on
// APP_ORIGIN by the test itself; shared by the Chromium and Firefox specs of "Sign in with Latchkey".
import { createServer, type Server } from "node:http";
import * as client from "openid-client";
import { APP_ORIGIN, OIDC_APP } from "./helpers";

/**
 * The app: `/` has a sign-in link, `/login` starts the authorization code flow with PKCE, state and
 * nonce, `/callback` finishes it (openid-client checks state, `iss`, the code exchange, the ID
 * token's signature through the JWKS, its nonce and claims), `/logout` sends the browser to
 * Latchkey's end_session with the ID token as hint. `app` is its registration in the issuer's
 * clients file (OIDC_APP on the main portal, STAFF_APP on the mailing one).
 */
export async function serveApp(issuer: string, app: typeof OIDC_APP = OIDC_APP): Promise<Server> {
  const config = await client.discovery(new URL(issuer), app.clientId, app.secret, undefined, {
    execute: [client.allowInsecureRequests], // the test server is http://localhost
  });
  let pending: { verifier: string; state: string; nonce: string } | undefined;
  let idToken: string | undefined;
  const page = (body: string) => `<!doctype html><html><head><title>${app.name}</title></head><body>${body}</body></html>`;

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", APP_ORIGIN);
    const html = (body: string) => response.writeHead(200, { "content-type": "text/html" }).end(page(body));
    try {
      if (url.pathname === "/") {
        html(`<a href="/login" data-testid="app-sign-in">Sign in with Latchkey</a>`);
      } else if (url.pathname === "/login") {
        pending = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
        const location = client.buildAuthorizationUrl(config, {
          redirect_uri: app.redirectUri,
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
          post_logout_redirect_uri: app.signedOutUri,
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
