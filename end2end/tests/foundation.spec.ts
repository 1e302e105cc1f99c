// The foundation: the server-rendered page hydrates, and the hydrated page reaches navigator.credentials
// with a CDP virtual authenticator attached.
import { expect, test } from "./strict";
import { PRODUCT_NAME, addAuthenticator, credentialsOf, hydrated, uniqueEmail } from "./helpers";

test("the sign-in page hydrates and can use a virtual authenticator", async ({ page }) => {
  const authenticator = await addAuthenticator(page);

  await page.goto("/");
  await expect(page.getByRole("heading", { name: `Sign in to ${PRODUCT_NAME}` })).toBeVisible();
  // The passkey button is disabled in the server-rendered HTML; only the hydrated WASM enables it.
  await hydrated(page);

  const created = await page.evaluate(async () => {
    const credential = (await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "Probe" },
        user: { id: new Uint8Array([1, 2, 3, 4]), name: "probe@example.com", displayName: "Probe" },
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        pubKeyCredParams: [{ type: "public-key", alg: -7 }],
        authenticatorSelection: { residentKey: "required", userVerification: "required" },
      },
    })) as PublicKeyCredential;
    return credential.type;
  });
  expect(created).toBe("public-key");
  expect(await credentialsOf(authenticator)).toHaveLength(1);
});

test("the product name set in configuration names the pages and the passkey prompts", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);

  await expect(page).toHaveTitle(`Sign in · ${PRODUCT_NAME}`);
  await expect(page.getByRole("heading", { name: `Sign in to ${PRODUCT_NAME}` })).toBeVisible();
  await expect(page.locator("header a.brand")).toHaveText(PRODUCT_NAME);
  const rpName = await page.evaluate(async (email) => {
    const post = (path: string, body: object, token?: string) =>
      fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const tokens = await post("/auth/register", { email, password: "correct horse battery" });
    const options = await post("/auth/passkeys/register/begin", {}, tokens.access_token);
    return options.rp.name;
  }, uniqueEmail("renamed"));
  expect(rpName).toBe(PRODUCT_NAME);
});
