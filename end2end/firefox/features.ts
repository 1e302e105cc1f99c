// What the Firefox under test offers of the WebAuthn features the portal uses, detected in a page
// as the portal's own code does (app/src/navigator/web.rs). Debian ships whatever ESR is current
// and old ones leave the archive, so the specs cannot pin a version: they read this and check that
// the page either uses a feature or does without it, quietly, as designed.
import type { FirefoxPage } from "./fixtures";

export type Features = {
  userAgent: string;
  /** `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` and `toJSON()`: the portal needs all three. */
  parseCreationOptionsFromJSON: boolean;
  parseRequestOptionsFromJSON: boolean;
  toJSON: boolean;
  /** `isConditionalMediationAvailable()` answered true: passkey autofill on the sign-in page's email field. */
  conditionalMediation: boolean;
  /** `getClientCapabilities()` exists, and its `conditionalCreate`: a passkey made quietly after a password sign-in. */
  getClientCapabilities: boolean;
  conditionalCreate: boolean;
  /** The Signal API: tells the passkey provider about deleted, unknown and renamed passkeys. */
  signalUnknownCredential: boolean;
  signalAllAcceptedCredentials: boolean;
  signalCurrentUserDetails: boolean;
  /** Everything `getClientCapabilities()` answered (informational). */
  clientCapabilities: Record<string, boolean>;
};

/** Detects the features in the current page (any page of the portal: a secure context on localhost). */
export async function detectFeatures(page: FirefoxPage): Promise<Features> {
  return page.session.executeAsync<Features>(`
    const done = arguments[arguments.length - 1];
    const P = window.PublicKeyCredential;
    const has = (name) => typeof P?.[name] === "function";
    (async () => {
      const clientCapabilities = has("getClientCapabilities") ? await P.getClientCapabilities().catch(() => ({})) : {};
      return {
        userAgent: navigator.userAgent,
        parseCreationOptionsFromJSON: has("parseCreationOptionsFromJSON"),
        parseRequestOptionsFromJSON: has("parseRequestOptionsFromJSON"),
        toJSON: typeof P?.prototype?.toJSON === "function",
        conditionalMediation: has("isConditionalMediationAvailable") && (await P.isConditionalMediationAvailable().catch(() => false)) === true,
        getClientCapabilities: has("getClientCapabilities"),
        conditionalCreate: clientCapabilities.conditionalCreate === true,
        signalUnknownCredential: has("signalUnknownCredential"),
        signalAllAcceptedCredentials: has("signalAllAcceptedCredentials"),
        signalCurrentUserDetails: has("signalCurrentUserDetails"),
        clientCapabilities,
      };
    })().then(done, (error) => done({ error: String(error) }));
  `);
}
