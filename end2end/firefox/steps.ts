// Shared steps of the Firefox specs, as helpers.ts's for Chromium: signing out, passkey sign-up,
// and the messages a page shows.
import { expect } from "@playwright/test";
import type { FirefoxPage } from "./fixtures";

/** Signs out from the account page; the browser lands on the sign-in page (where autofill may start). */
export async function signOut(page: FirefoxPage) {
  await page.goto("/account");
  await page.click(await page.byTestId("sign-out"));
  await page.until("the sign-out to leave /account", async () => (await page.url()).pathname !== "/account");
}

/** The messages the page shows now (its visible `notice` regions; hidden ones read as ""). */
export async function notices(page: FirefoxPage): Promise<string[]> {
  return (await page.texts("[data-testid=notice]")).filter((text) => text.trim() !== "");
}

/** Creates an account with a passkey only (sign-up page → the passkeys page, with that one passkey). */
export async function signUpWithPasskey(page: FirefoxPage, email: string) {
  await page.goto("/sign-up");
  await page.hydrated();
  await page.fill("Email", email);
  await page.click(await page.byTestId("passkey-sign-up"));
  await page.waitForURL(/\/passkeys\?welcome=1$/);
  await expect.poll(() => page.count("[data-testid=passkey]")).toBe(1);
}
