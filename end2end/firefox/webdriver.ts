// A small, typed WebDriver-classic client (W3C WebDriver over HTTP, with fetch) for geckodriver:
// Playwright cannot drive stock Firefox, and WebDriver BiDi has no WebAuthn module yet. It covers
// what the Firefox specs need: sessions, navigation, elements, scripts, cookies, and the virtual
// authenticator commands of W3C WebAuthn §11. Every command has a timeout, because a browser stuck
// in a prompt (Firefox's account chooser, docs: shared FIREFOX.md) otherwise never answers.

/** The key of an element reference in WebDriver's JSON (W3C WebDriver §12.2). */
export const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

/** An element of the page, as WebDriver refers to it. */
export type Element = { [ELEMENT_KEY]: string };

/** How long a command may take unless it says otherwise. */
const COMMAND_TIMEOUT_MS = 15_000;

/** An error answered by the driver (`error` is WebDriver's code, e.g. "no such element"), or a timeout. */
export class WebDriverError extends Error {
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
  ) {
    super(`${command}: ${error}: ${message}`);
  }
}

/** A virtual authenticator's settings (W3C WebAuthn §11.2, "Authenticator Configuration"). */
export type AuthenticatorOptions = {
  protocol: "ctap1/u2f" | "ctap2" | "ctap2_1";
  transport: "usb" | "nfc" | "ble" | "smart-card" | "hybrid" | "internal";
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserConsenting?: boolean;
  isUserVerified?: boolean;
};

/** A credential held by a virtual authenticator (W3C WebAuthn §11.6, "Credential Parameters"). */
export type Credential = {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  privateKey: string;
  userHandle?: string | null;
  signCount: number;
};

/** The capabilities the driver answered a new session with (only what the specs read is typed). */
export type Capabilities = {
  browserName: string;
  browserVersion: string;
  "moz:processID"?: number;
  "moz:profile"?: string;
  [name: string]: unknown;
};

/** Sends one command to the driver at `base` and returns its `value`, or throws a WebDriverError. */
async function send<T>(base: string, method: "GET" | "POST" | "DELETE", path: string, body?: unknown, timeoutMs = COMMAND_TIMEOUT_MS): Promise<T> {
  const command = `${method} ${path}`;
  let response: Response;
  let answer: { value?: { error?: string; message?: string } };
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs), // covers the answer's body too
    });
    answer = await response.json();
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError") {
      throw new WebDriverError(command, "timeout", `no answer within ${timeoutMs} ms`);
    }
    throw new WebDriverError(command, "no answer", String(error));
  }
  if (!response.ok) {
    throw new WebDriverError(command, answer.value?.error ?? `HTTP ${response.status}`, answer.value?.message ?? "");
  }
  return answer.value as T;
}

/** Whether the driver at `base` (e.g. http://127.0.0.1:4444) is up and accepts a new session. */
export async function driverReady(base: string): Promise<boolean> {
  try {
    return (await send<{ ready: boolean }>(base, "GET", "/status", undefined, 2_000)).ready;
  } catch {
    return false;
  }
}

/** One WebDriver session: one browser, one window. */
export class Session {
  private constructor(
    private readonly base: string,
    readonly id: string,
    readonly capabilities: Capabilities,
  ) {}

  /** New Session: starts the browser (slow: several seconds for Firefox). */
  static async create(base: string, alwaysMatch: Record<string, unknown>, timeoutMs = 60_000): Promise<Session> {
    const { sessionId, capabilities } = await send<{ sessionId: string; capabilities: Capabilities }>(
      base, "POST", "/session", { capabilities: { alwaysMatch } }, timeoutMs,
    );
    return new Session(base, sessionId, capabilities);
  }

  private send<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    return send<T>(this.base, method, `/session/${this.id}${path}`, body, timeoutMs);
  }

  /** Delete Session: closes the browser. */
  async delete(timeoutMs = 10_000): Promise<void> {
    await send(this.base, "DELETE", `/session/${this.id}`, undefined, timeoutMs);
  }

  /** Navigate To: loads `url` and waits for the page's load event. */
  async navigate(url: string): Promise<void> {
    await this.send("POST", "/url", { url }, 30_000);
  }

  async currentUrl(): Promise<string> {
    return this.send<string>("GET", "/url");
  }

  /** Find Element (CSS): throws a WebDriverError "no such element" when there is none. */
  async findElement(css: string): Promise<Element> {
    return this.send<Element>("POST", "/element", { using: "css selector", value: css });
  }

  /** Find Elements (CSS): all of them, in document order (none is an empty list). */
  async findElements(css: string): Promise<Element[]> {
    return this.send<Element[]>("POST", "/elements", { using: "css selector", value: css });
  }

  /** Element Click: scrolls the element into view and clicks its centre, as a person would. */
  async click(element: Element): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/click`, {}, 30_000);
  }

  /** Element Clear: empties an input. */
  async clear(element: Element): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/clear`, {});
  }

  /** Element Send Keys: focuses the element and types `text`. */
  async sendKeys(element: Element, text: string): Promise<void> {
    await this.send("POST", `/element/${element[ELEMENT_KEY]}/value`, { text });
  }

  /** Get Element Text: the rendered text, as a person reads it. */
  async text(element: Element): Promise<string> {
    return this.send<string>("GET", `/element/${element[ELEMENT_KEY]}/text`);
  }

  /** Execute Script: runs `script` as a function body with `args`; returns what it returns (elements too). */
  async execute<T>(script: string, args: unknown[] = []): Promise<T> {
    return this.send<T>("POST", "/execute/sync", { script, args });
  }

  /**
   * Execute Async Script: the body gets a callback as its last argument, and the command answers
   * with what the callback is given (or a "script timeout" after the session's script timeout).
   */
  async executeAsync<T>(script: string, args: unknown[] = [], timeoutMs = 40_000): Promise<T> {
    return this.send<T>("POST", "/execute/async", { script, args }, timeoutMs);
  }

  /** Delete All Cookies of the current page's site (for localhost, of every port: cookies ignore ports). */
  async deleteAllCookies(): Promise<void> {
    await this.send("DELETE", "/cookie");
  }

  /** Add Virtual Authenticator (W3C WebAuthn §11.3); returns its id. */
  async addVirtualAuthenticator(options: AuthenticatorOptions): Promise<string> {
    return this.send<string>("POST", "/webauthn/authenticator", options);
  }

  /** Remove Virtual Authenticator (§11.4), with the credentials it holds. */
  async removeVirtualAuthenticator(authenticatorId: string): Promise<void> {
    await this.send("DELETE", `/webauthn/authenticator/${authenticatorId}`);
  }

  /** Add Credential (§11.5): puts a credential (e.g. one read earlier with `credentials`) back. */
  async addCredential(authenticatorId: string, credential: Credential): Promise<void> {
    await this.send("POST", `/webauthn/authenticator/${authenticatorId}/credential`, credential);
  }

  /** Get Credentials (§11.6): what the authenticator holds now. */
  async credentials(authenticatorId: string): Promise<Credential[]> {
    return this.send<Credential[]>("GET", `/webauthn/authenticator/${authenticatorId}/credentials`);
  }
}
