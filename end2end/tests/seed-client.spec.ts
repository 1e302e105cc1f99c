// A real client written for the seed: the npm @simplewebauthn/browser package, called exactly as the
// seed's documentation does, registers and signs in through Latchkey's REST API.
import { readFileSync } from "node:fs";
import { expect, test } from "./strict";
import { addAuthenticator, credentialsOf, uniqueEmail } from "./helpers";

const page_html = readFileSync("seed-client/index.html", "utf8");
const library = readFileSync("node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js", "utf8");

test("@simplewebauthn/browser registers and signs in through the REST API", async ({ page, request }) => {
  const authenticator = await addAuthenticator(page);
  // The client page is served on the portal's own origin (as an app would serve it), so its
  // fetch calls and WebAuthn requests are same-origin with the REST API.
  await page.route("**/seed-client/index.html", (route) => route.fulfill({ contentType: "text/html", body: page_html }));
  await page.route("**/seed-client/simplewebauthn-browser.js", (route) =>
    route.fulfill({ contentType: "text/javascript", body: library }));
  const email = uniqueEmail("seed-client");
  const registered = await request.post("/auth/register", { data: { email, password: "correct horse battery" } });
  expect(registered.status()).toBe(201);
  const { access_token } = await registered.json();

  await page.goto("/seed-client/index.html");
  const passkey = await page.evaluate(([token]) => (window as any).registerPasskey(token, "MacBook Touch ID"), [access_token]);
  expect(passkey.name).toBe("MacBook Touch ID");
  expect(passkey.id).toBe((await credentialsOf(authenticator))[0].credentialId.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));

  const targeted = await page.evaluate(([address]) => (window as any).signInWithPasskey(address), [email]);
  expect(targeted.token_type).toBe("bearer");
  const discoverable = await page.evaluate(() => (window as any).signInWithPasskey(undefined));
  expect(discoverable.token_type).toBe("bearer");

  const me = await request.get("/auth/me", { headers: { Authorization: `Bearer ${discoverable.access_token}` } });
  expect((await me.json()).email).toBe(email);
  const list = await request.get("/auth/passkeys", { headers: { Authorization: `Bearer ${access_token}` } });
  const [item] = await list.json();
  expect(item.name).toBe("MacBook Touch ID");
  expect(item.last_used_at).not.toBeNull();
});
