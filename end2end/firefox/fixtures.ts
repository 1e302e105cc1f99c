// The Firefox project's `test` and `expect`: Firefox ESR through geckodriver (webdriver.ts), since
// Playwright cannot drive stock Firefox. One geckodriver and one Firefox per worker (a session
// starts in ~3 s); each test gets the window reset to a signed-out state (`firefox`), its own
// virtual authenticator (`authenticator`), and the CSP guard that strict.ts gives the Chromium specs.
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { test as base, expect } from "@playwright/test";
import { type Credential, type Element, Session, driverReady } from "./webdriver";
import { freePort, kill, record, type Processes } from "./processes";

/** geckodriver (`cargo install --locked geckodriver`, scripts/setup.sh) and Debian's Firefox ESR. */
const GECKODRIVER =
  process.env.GECKODRIVER_PATH ??
  (existsSync(join(homedir(), ".cargo/bin/geckodriver")) ? join(homedir(), ".cargo/bin/geckodriver") : "geckodriver");
const FIREFOX = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/**
 * The session's capabilities. Both WebAuthn prefs are needed: without them adding a virtual
 * authenticator still succeeds, but `create()` waits out its timeout and fails with NotAllowedError.
 */
const CAPABILITIES = {
  browserName: "firefox",
  "moz:firefoxOptions": {
    binary: FIREFOX,
    args: ["-headless"],
    prefs: {
      "security.webauth.webauthn_enable_softtoken": true,
      "security.webauth.webauthn_enable_usbtoken": false,
    },
  },
  "webauthn:virtualAuthenticators": true,
  pageLoadStrategy: "normal",
  // Scripts answer within 30 s; no implicit waits (the helpers below poll).
  timeouts: { script: 30_000, pageLoad: 30_000, implicit: 0 },
};

/** A worker's browser: the WebDriver session and the processes behind it. */
export type Driver = { session: Session; processes: Processes };

/**
 * Installed on every page a test's scripts touch (every helper below runs one, so in practice on
 * each page once it has loaded). Best effort: a violation before the first script on a page (while
 * it loads) is not seen, since WebDriver classic can run nothing before the page's own scripts, and
 * this Firefox's ReportingObserver delivers no buffered "csp-violation" reports (not even with
 * dom.reporting.enabled); the Chromium specs (strict.ts) catch those for the same pages. Violations
 * wait in the origin's sessionStorage, so they survive the navigations a click causes, until the
 * next script collects them.
 */
const CSP_GUARD = `
try {
  if (!window.__latchkeyCspGuard) {
    window.__latchkeyCspGuard = true;
    const keep = (text) => {
      const seen = JSON.parse(sessionStorage.getItem("latchkey-csp") ?? "[]");
      if (!seen.includes(text)) seen.push(text);
      sessionStorage.setItem("latchkey-csp", JSON.stringify(seen));
    };
    document.addEventListener("securitypolicyviolation", (event) =>
      keep(location.pathname + ": " + event.effectiveDirective + " blocked " + (event.blockedURI || "inline")));
  }
} catch (error) {}
let __latchkeyCsp = null;
try {
  __latchkeyCsp = sessionStorage.getItem("latchkey-csp");
  sessionStorage.removeItem("latchkey-csp");
} catch (error) {}
`;

/** How often the helpers poll the page, and how long they wait by default (as Playwright's `expect`). */
const POLL_MS = 100;
const WAIT_MS = 10_000;

/**
 * The test's window, with the few Playwright-like helpers the specs need. Elements are found by
 * CSS, by their label's text or by a button's text, as `getByTestId`, `getByLabel` and
 * `getByRole("button")` do in the Chromium specs; clicks and typing go through WebDriver's
 * element commands (real input events).
 */
export class FirefoxPage {
  /** CSP violations seen on the test's pages so far (cspGuard fails the test on any). */
  readonly violations: string[] = [];

  constructor(
    readonly session: Session,
    readonly baseURL: string,
  ) {}

  /** A signed-out window: loads a page of the portal, then drops every localhost cookie (any port). */
  async reset() {
    await this.session.navigate(new URL("/healthz", this.baseURL).href);
    await this.session.deleteAllCookies();
  }

  /** Runs `script` (a function body with `arguments`) in the page, collecting CSP violations on the way. */
  async run<T>(script: string, args: unknown[] = []): Promise<T> {
    const [violations, value] = await this.session.execute<[string | null, T]>(
      `${CSP_GUARD}\nreturn [__latchkeyCsp, (function () {\n${script}\n}).apply(this, arguments)];`,
      args,
    );
    if (violations) {
      this.violations.push(...(JSON.parse(violations) as string[]).filter((v) => !this.violations.includes(v)));
    }
    return value;
  }

  /** Loads a path of the portal, or a full URL, and waits for its load event. */
  async goto(pathOrUrl: string) {
    await this.collectViolations();
    await this.session.navigate(new URL(pathOrUrl, this.baseURL).href);
    await this.collectViolations();
  }

  /** Reads (and clears) what the CSP guard recorded on the current page; never fails the test itself. */
  async collectViolations() {
    try {
      await this.run("return null;");
    } catch {
      // Between pages, or on a page without storage: the next script collects them.
    }
  }

  async url(): Promise<URL> {
    return new URL(await this.session.currentUrl());
  }

  /**
   * Polls `probe` until it answers something truthy, and returns it. Errors while polling (a page
   * that is navigating, an element replaced by hydration) count as "not yet".
   */
  async until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value) return value;
        last = undefined;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`Firefox: timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Waits until the address matches `pattern`. */
  async waitForURL(pattern: RegExp, timeoutMs = WAIT_MS) {
    let at = "";
    await this.until(`the address to match ${pattern}`, async () => pattern.test((at = (await this.url()).href)), timeoutMs)
      .catch((error: Error) => Promise.reject(new Error(`${error.message}; the last address was ${at || "unknown"}`)));
    await this.collectViolations(); // and the CSP guard is on the new page
  }

  /** Waits until the page's WASM has hydrated: its first passkey button is enabled (as helpers.ts `hydrated`). */
  async hydrated() {
    await this.until("hydration (an enabled button[data-testid])", () =>
      this.run<boolean>(`const button = document.querySelector("button[data-testid]"); return !!button && !button.disabled;`));
  }

  /** The first element `css` matches, once there is one. */
  async locate(css: string): Promise<Element> {
    return this.until(`an element ${css}`, async () => (await this.session.findElements(css))[0]);
  }

  /** The element with `data-testid` = `id`, once there is one. */
  async byTestId(id: string): Promise<Element> {
    return this.locate(`[data-testid="${id}"]`);
  }

  /** The form control of the `<label>` whose text is `text` (or matches it), once there is one. */
  async byLabel(text: string | RegExp): Promise<Element> {
    const wanted = typeof text === "string" ? { exact: text } : { source: text.source, flags: text.flags };
    return this.until(`a field labelled ${text}`, () =>
      this.run<Element | null>(
        `const wanted = arguments[0];
         const label = [...document.querySelectorAll("label")].find((label) => {
           const text = label.textContent.replace(/\\s+/g, " ").trim();
           return wanted.exact !== undefined ? text === wanted.exact : new RegExp(wanted.source, wanted.flags).test(text);
         });
         return label?.control ?? null;`,
        [wanted],
      ));
  }

  /** The enabled `<button>` whose text is exactly `name`, once there is one. */
  async button(name: string): Promise<Element> {
    return this.until(`an enabled button "${name}"`, () =>
      this.run<Element | null>(
        `return [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === arguments[0] && !b.disabled) ?? null;`,
        [name],
      ));
  }

  /** Clicks the element `target` (a CSS selector, or an element found earlier). */
  async click(target: string | Element) {
    await this.session.click(typeof target === "string" ? await this.locate(target) : target);
  }

  /** Replaces the value of the field `target` (an element, or a label's text) by typing `value`. */
  async fill(target: Element | string | RegExp, value: string) {
    const field = typeof target === "object" && !(target instanceof RegExp) ? target : await this.byLabel(target);
    await this.session.clear(field);
    await this.session.sendKeys(field, value);
  }

  /** The rendered text of every element `css` matches (hidden ones read as ""). */
  async texts(css: string): Promise<string[]> {
    const elements = await this.session.findElements(css);
    return Promise.all(elements.map((element) => this.session.text(element)));
  }

  /** The rendered text of the first element `css` matches ("" when there is none). */
  async text(css: string): Promise<string> {
    return (await this.texts(css))[0] ?? "";
  }

  /** How many elements `css` matches. */
  async count(css: string): Promise<number> {
    return (await this.session.findElements(css)).length;
  }
}

/** The test's virtual authenticator (W3C WebAuthn §11), as helpers.ts's `Authenticator` for CDP. */
export class VirtualAuthenticator {
  constructor(
    private readonly session: Session,
    readonly id: string,
  ) {}

  credentials(): Promise<Credential[]> {
    return this.session.credentials(this.id);
  }

  addCredential(credential: Credential): Promise<void> {
    return this.session.addCredential(this.id, credential);
  }
}

export const test = base.extend<
  { firefox: FirefoxPage; authenticator: VirtualAuthenticator; cspGuard: void },
  { geckodriver: Driver }
>({
  // One geckodriver on a free port and one Firefox per worker, killed by PID at the end, whatever
  // state they are in; their PIDs are on record for the globalTeardown should this never run.
  geckodriver: [
    async ({}, use, workerInfo) => {
      const port = await freePort();
      const profiles = mkdtempSync(join(tmpdir(), "latchkey-e2e-firefox-profile-"));
      mkdirSync(workerInfo.project.outputDir, { recursive: true });
      const log = openSync(join(workerInfo.project.outputDir, `geckodriver-${workerInfo.workerIndex}.log`), "w");
      // A process group of its own (detached), which Firefox and its content processes join.
      const child = spawn(
        GECKODRIVER,
        ["--port", String(port), "--websocket-port", String(await freePort()), "--profile-root", profiles, "--log", "warn"],
        { detached: true, stdio: ["ignore", log, log] },
      );
      closeSync(log);
      const exited = new Promise<never>((_, reject) =>
        child.once("error", reject).once("exit", (code) => reject(new Error(`geckodriver exited (${code})`))),
      );
      exited.catch(() => {}); // Only awaited while starting up.
      if (child.pid === undefined) {
        rmSync(profiles, { recursive: true, force: true });
        await exited; // not started (e.g. not installed: scripts/setup.sh installs it)
      }
      const processes: Processes = { geckodriver: child.pid!, profiles };
      record(processes);
      try {
        const base = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 10_000;
        while (!(await Promise.race([driverReady(base), exited]))) {
          if (Date.now() > deadline) throw new Error(`geckodriver did not answer on port ${port}`);
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
        const session = await Promise.race([Session.create(base, CAPABILITIES), exited]);
        processes.firefox = session.capabilities["moz:processID"];
        record(processes);
        await use({ session, processes });
      } finally {
        kill(processes);
        // Reaps geckodriver (its exit, now or within a moment), so no zombie outlives the worker.
        await Promise.race([exited.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }
    },
    { scope: "worker", timeout: 90_000 },
  ],

  firefox: async ({ geckodriver, baseURL }, use) => {
    const page = new FirefoxPage(geckodriver.session, baseURL!);
    await page.reset();
    await use(page);
  },

  // One authenticator per test (platform, resident keys, user verification, always consenting), so
  // a test never finds two discoverable credentials for the portal on it: with two, Firefox opens
  // its account chooser, which nothing answers headless, and the browser hangs (even "get current
  // URL" then gets no answer).
  // After a failed test the browser may be stuck (every command then times out): it is not asked,
  // since Playwright ends the worker after a failure, and with it this Firefox and its authenticator.
  authenticator: async ({ geckodriver }, use, testInfo) => {
    const { session } = geckodriver;
    const id = await session.addVirtualAuthenticator({
      protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
      isUserConsenting: true, isUserVerified: true,
    });
    await use(new VirtualAuthenticator(session, id));
    if (testInfo.status === testInfo.expectedStatus) {
      await session.removeVirtualAuthenticator(id);
    }
  },

  // As strict.ts: a Content-Security-Policy violation on any page of the test fails it (a test that
  // failed anyway is not asked: its browser may be stuck).
  cspGuard: [
    async ({ firefox }, use, testInfo) => {
      await use();
      if (testInfo.status === testInfo.expectedStatus) {
        await firefox.collectViolations();
        expect(firefox.violations, "Content-Security-Policy violations").toEqual([]);
      }
    },
    { auto: true },
  ],
});

export { expect };
