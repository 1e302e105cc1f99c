// Past the re-authentication window in Firefox ESR: every guarded change asks to confirm it's you
// in place (the same journey as tests/account.spec.ts in Chromium), on the portal whose window is
// a few seconds (QUICK_REAUTH, started by playwright.config.ts).
import { expect, test } from "./fixtures";
import type { FirefoxPage } from "./fixtures";
import type { Element } from "./webdriver";
import { notices } from "./steps";
import { QUICK_REAUTH, uniqueEmail } from "../tests/helpers";

const outlive = () => new Promise((resolve) => setTimeout(resolve, (QUICK_REAUTH.windowSecs + 1.5) * 1000));

/** The shown element with `data-testid` = `id` (a page has a prompt per guarded form; one opens). */
async function shown(page: FirefoxPage, id: string): Promise<Element> {
  return page.until(`a visible ${id}`, () =>
    page.run<Element | null>(
      `return [...document.querySelectorAll('[data-testid="' + arguments[0] + '"]')].find((e) => e.checkVisibility()) ?? null;`,
      [id],
    ));
}

/** The prompt opened in place (nothing posted without JavaScript); confirmed with the password or the passkey. */
async function confirmInPlace(page: FirefoxPage, how: "password" | "passkey") {
  await shown(page, "confirm-prompt");
  expect((await page.url()).search).not.toMatch(/__err|again=1/);
  if (how === "password") {
    await page.fill((await shown(page, "confirm-password")), "correct horse battery");
    await page.click((await shown(page, "confirm-with-password")));
  } else {
    await page.click((await shown(page, "confirm-with-passkey")));
  }
}

/** Waits until the page shows a notice containing `text` (reads that meet a page being replaced retry). */
async function notice(page: FirefoxPage, text: string) {
  await page.until(`a notice "${text}"`, async () => (await notices(page)).some((shown) => shown.includes(text)));
}

/** Waits until the island guarding form `id` has taken it over. */
async function guarded(page: FirefoxPage, form: string) {
  await page.locate(`.confirm-first[data-hydrated=true]:has(#${form})`);
}

test("past the re-authentication window, every guarded change asks to confirm it's you in place", async ({ firefox, authenticator }) => {
  const portal = QUICK_REAUTH.origin;
  const email = uniqueEmail("guarded-firefox");
  await firefox.goto(`${portal}/sign-up`);
  await firefox.fill("Email", email);
  await firefox.fill(/^Password/, "correct horse battery");
  await firefox.click(await firefox.button("Create account with password"));
  await firefox.waitForURL(/\/passkeys/);
  // A passkey to confirm with; the window is short enough that adding it may ask first, too.
  const addPasskey = async () => {
    await firefox.goto(`${portal}/passkeys`);
    await firefox.click(await firefox.button("Add a passkey")); // enabled once its island runs
    const asked = await firefox.until("a passkey, or the prompt", () =>
      firefox.run<string | null>(
        `if (document.querySelector("[data-testid=passkey]")) return "added";
         return [...document.querySelectorAll("[data-testid=confirm-prompt]")].some((e) => e.checkVisibility()) ? "asked" : null;`,
      ));
    if (asked === "asked") await confirmInPlace(firefox, "password");
    await expect.poll(() => firefox.count("[data-testid=passkey]")).toBe(1);
  };
  await addPasskey();

  // Deleting a passkey.
  await outlive();
  await firefox.click(await firefox.button("Delete…"));
  await guarded(firefox, "delete-passkey");
  await firefox.click(await firefox.button("Delete"));
  await confirmInPlace(firefox, "password");
  await notice(firefox, "The passkey was deleted.");
  expect(await firefox.count("[data-testid=passkey]")).toBe(0);
  await addPasskey();
  expect(await authenticator.credentials()).not.toHaveLength(0);

  // Changing the email address.
  await firefox.goto(`${portal}/account`);
  await outlive();
  await guarded(firefox, "change-email-form");
  await firefox.click(await firefox.byTestId("open-change-email"));
  await firefox.fill("New email address", uniqueEmail("guarded-firefox-new"));
  await firefox.click(await firefox.byTestId("change-email"));
  await confirmInPlace(firefox, "passkey");
  await firefox.locate("[data-testid=pending-email]");

  // Removing the password.
  await outlive();
  await guarded(firefox, "remove-password-form");
  await firefox.click(await firefox.byTestId("remove-password"));
  await confirmInPlace(firefox, "passkey");
  await notice(firefox, "Your password was removed");

  // Deleting the account.
  await outlive();
  await firefox.locate("form[data-hydrated=true]");
  await firefox.fill("Type your email to confirm", email);
  await firefox.click(await firefox.byTestId("delete-account"));
  await confirmInPlace(firefox, "passkey");
  await firefox.until("the sign-in page's reason", async () =>
    (await firefox.text("[data-testid=sign-in-reason]")) === "Your account was deleted, with its passkeys and sign-ins.");
});
