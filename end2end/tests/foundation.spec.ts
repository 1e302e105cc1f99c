// The foundation: the server-rendered page hydrates, and the hydrated page reaches navigator.credentials
// with a CDP virtual authenticator attached.
import { expect, test } from "@playwright/test";

test("the sign-in page hydrates and can use a virtual authenticator", async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Sign in to Latchkey" })).toBeVisible();
  // Only the WASM (after hydration) can change this from "unknown".
  await expect(page.locator("[data-passkeys]")).toHaveAttribute("data-passkeys", "available");

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
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
});
