// The foundation: the server-rendered page hydrates, and the hydrated page reaches navigator.credentials
// with a CDP virtual authenticator attached.
import { expect, test } from "@playwright/test";
import { addAuthenticator, credentialsOf, hydrated } from "./helpers";

test("the sign-in page hydrates and can use a virtual authenticator", async ({ page }) => {
  const authenticator = await addAuthenticator(page);

  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in to Latchkey" })).toBeVisible();
  // The passkey button is disabled in the server-rendered HTML; only the hydrated WASM enables it.
  await hydrated(page);

  const created = await page.evaluate(async () => {
    const credential = (await navigator.credentials.create({
      publicKey: {
        rp: { id: location.hostname, name: "Latchkey" },
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
