// Every test's pages run under the portal's Content-Security-Policy and must not break it: a
// `securitypolicyviolation` event or a CSP console error in any page of the test's context fails
// the test. Specs import `test` and `expect` from here instead of from @playwright/test.
import { test as base, expect, type BrowserContext } from "@playwright/test";

export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ context }, use) => {
      const violations = await watchCsp(context);
      await use();
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

/**
 * The CSP violations of `context`'s pages, as they happen: the guard watches the test's own context;
 * a test that opens another browser (`browser.newContext()`) watches it too, and checks the list.
 */
export async function watchCsp(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding("__latchkeyCspViolation", (_source, text: string) => {
    violations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __latchkeyCspViolation: (text: string) => void }).__latchkeyCspViolation;
      report(`${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
    });
  });
  context.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  return violations;
}

export { expect };
