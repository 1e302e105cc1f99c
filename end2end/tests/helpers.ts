// Shared steps: a CDP virtual authenticator (platform, resident keys, user verification) per page.
import AxeBuilder from "@axe-core/playwright";
import { expect, type CDPSession, type Page } from "@playwright/test";

export type Authenticator = { cdp: CDPSession; id: string };

/**
 * The product name the e2e server runs with (LATCHKEY_PRODUCT_NAME, set by playwright.config.ts):
 * deliberately not the default, so the suite proves a rename is one setting.
 */
export const PRODUCT_NAME = process.env.E2E_PRODUCT_NAME ?? "Acme Portal";

/** The operator's token for the admin API of the suite's main portal (recovery links). */
export const ADMIN_TOKEN = "an-e2e-operator-token-of-at-least-32-characters";

/**
 * The `latchkey` binary the suite's portals run (`E2E_SERVER`: absolute, or relative to the
 * workspace root), and the one the operator's commands run as (mailing.ts's `operator`).
 */
export const SERVER = process.env.E2E_SERVER ?? "target/debug/latchkey";

/** The origin of the "app on another site" the suite plays (another port of localhost). */
export const APP_ORIGIN = `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 2}`;

/**
 * A second portal (another port, its own database) whose re-authentication window is a few seconds,
 * so that a test can outlive it (account.spec.ts); started by playwright.config.ts.
 */
export const QUICK_REAUTH = { origin: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 5}`, windowSecs: 3 };

/**
 * A third portal (another port, its own database) that mails: to the SMTP server a test starts on
 * `smtpPort` (recovery.spec.ts), with recovery by email on; started by playwright.config.ts.
 */
export const MAILING = {
  origin: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 6}`,
  smtpPort: Number(process.env.E2E_PORT ?? 3100) + 7,
};

/**
 * A fourth portal (another port, its own database) with an operator's brand: the logo, favicon and
 * stylesheet of `end2end/brand/` and an accent colour; started by playwright.config.ts.
 */
export const BRANDED = { origin: `http://localhost:${Number(process.env.E2E_PORT ?? 3100) + 8}`, accent: "#0b5d3b" };

/**
 * The app that signs its users in with Latchkey through OpenID Connect in the suite: registered in
 * the clients file playwright.config.ts writes, served on APP_ORIGIN by the test itself.
 */
export const OIDC_APP = {
  clientId: "e2e-app",
  name: "Example App",
  secret: "an-e2e-client-secret-of-at-least-32-characters",
  redirectUri: `${APP_ORIGIN}/callback`,
  signedOutUri: `${APP_ORIGIN}/signed-out`,
};

/**
 * An app only one group may sign in to (its `allowed_groups`), registered with the mailing portal
 * (MAILING) in the second clients file playwright.config.ts writes; served like OIDC_APP, on
 * APP_ORIGIN (groups.spec.ts).
 */
export const STAFF_APP = {
  ...OIDC_APP,
  clientId: "e2e-staff-app",
  name: "Staff Wiki",
  secret: "an-e2e-staff-client-secret-of-at-least-32-characters",
  group: "staff",
};

export async function addAuthenticator(page: Page, options: Record<string, unknown> = {}): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true, ...options,
    },
  });
  return { cdp, id: authenticatorId };
}

export async function removeAuthenticator(authenticator: Authenticator) {
  await authenticator.cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId: authenticator.id });
}

export async function credentialsOf(authenticator: Authenticator) {
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  return credentials;
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the page's WASM has hydrated (the passkey buttons are enabled only then). */
export async function hydrated(page: Page) {
  await expect(page.locator("button[data-testid]").first()).toBeEnabled();
}

/** A new account made with the sign-up page's passkey button; it lands on its passkeys, welcomed. */
export async function signUpWithPasskey(page: Page, email: string) {
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByTestId("passkey-sign-up").click();
  await expect(page).toHaveURL(/\/passkeys\?welcome=1$/);
}

/** A new account made with the sign-up page's password form; it lands welcomed, offered a passkey. */
export async function signUpWithPassword(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill("correct horse battery");
  await page.getByRole("button", { name: "Create account with password" }).click();
  await expect(page).toHaveURL(/\/passkeys\?offer=1&welcome=1$/);
}

/** Signs out from the account page; the browser lands on the sign-in page (where autofill may start). */
export async function signOut(page: Page) {
  await page.goto("/account");
  await page.getByTestId("sign-out").click();
  await page.waitForURL((url) => url.pathname !== "/account");
}

/**
 * Chromium's virtual authenticator answers a conditional (autofill) request at once, so pages
 * where a test wants to press the passkey button pretend autofill is unavailable, as in browsers
 * without it. `setAutofill(page, true)` turns it back on for the next page load.
 */
export async function setAutofill(page: Page, enabled: boolean) {
  await page.addInitScript(() => {
    if (sessionStorage.getItem("latchkey-test-no-autofill") === "1") {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    }
  });
  await page.goto("/healthz");
  await page.evaluate((on) => sessionStorage.setItem("latchkey-test-no-autofill", on ? "0" : "1"), enabled);
}

/** Saves the README's screenshots when asked (`make screenshots`), so plain test runs leave the tree clean. */
export async function shot(page: Page, name: string) {
  if (process.env.E2E_SCREENSHOTS === "1") {
    await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
  }
}

/**
 * axe-core (WCAG 2.2 A and AA rules, and its best practices) on the page as it is now: any violation
 * fails the test, listed with the elements it found.
 */
export async function expectAccessible(page: Page, state: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, `axe-core on ${state}`).toEqual([]);
}
