// An app on another origin (another port of localhost, as an app on another site would be) runs the
// seed's client against Latchkey: its page calls the REST API cross-origin (LATCHKEY_CORS_ORIGINS)
// and its passkey ceremonies carry its own origin, which the server accepts as a related origin
// (LATCHKEY_RELATED_ORIGINS). A page of an origin that is not configured can do neither.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { expect, test } from "./strict";
import { APP_ORIGIN, addAuthenticator, uniqueEmail } from "./helpers";

const library = readFileSync("node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js", "utf8");

/** The seed client with one change: its API calls go to Latchkey's origin instead of its own. */
function clientPage(latchkey: string): string {
  const html = readFileSync("seed-client/index.html", "utf8");
  const page = html.replaceAll('fetch("/auth/', `fetch("${latchkey}/auth/`);
  expect(page.split(latchkey).length - 1, "every API call of the seed client").toBe(4);
  return page;
}

/**
 * Serves the app's two files on `origin`'s port of localhost. A real listener, not request
 * interception: Chromium treats an intercepted page as outside the local network and would refuse
 * its calls to localhost for that reason alone.
 */
async function serveApp(origin: string, latchkey: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === "/app.html") {
      response.writeHead(200, { "content-type": "text/html" }).end(clientPage(latchkey));
    } else if (request.url === "/seed-client/simplewebauthn-browser.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(library);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((listening) => server.listen(Number(new URL(origin).port), "127.0.0.1", listening));
  return server;
}

test("an app on another origin registers and signs in with a passkey through the REST API", async ({ page, request, baseURL }) => {
  const related = await request.get("/.well-known/webauthn");
  expect((await related.json()).origins).toEqual([APP_ORIGIN]);

  await addAuthenticator(page);
  const email = uniqueEmail("other-origin");
  const registered = await request.post("/auth/register", { data: { email, password: "correct horse battery" } });
  const { access_token } = await registered.json();
  const app = await serveApp(APP_ORIGIN, baseURL!);
  await page.goto(`${APP_ORIGIN}/app.html`);
  expect(await page.evaluate(() => location.origin)).toBe(APP_ORIGIN);

  const passkey = await page.evaluate(([token]) => (window as any).registerPasskey(token, "From the app"), [access_token]);
  expect(passkey.name).toBe("From the app");
  const signedIn = await page.evaluate(([address]) => (window as any).signInWithPasskey(address), [email]);
  expect(signedIn.token_type).toBe("bearer");
  const me = await request.get("/auth/me", { headers: { authorization: `Bearer ${signedIn.access_token}` } });
  expect((await me.json()).email).toBe(email);
  app.close();
});

test("a page of an origin that is not configured cannot call the API", async ({ page, baseURL }) => {
  const stranger = APP_ORIGIN.replace(/:(\d+)$/, (_, port) => `:${Number(port) + 1}`);
  const app = await serveApp(stranger, baseURL!);
  await page.goto(`${stranger}/app.html`);
  const outcome = await page.evaluate(() =>
    (window as any).signInWithPasskey("nobody@example.com").then(() => "answered", (e: Error) => e.message));
  app.close();
  expect(outcome).toMatch(/Failed to fetch/);
});
