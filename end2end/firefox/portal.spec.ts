// The portal's passkey flows in Firefox ESR, through WebDriver's virtual authenticator: the same
// journeys as tests/portal.spec.ts in Chromium. Where this Firefox lacks a feature the portal uses
// (features.ts), the test checks that the page does without it as designed: feature-detected, and
// no message for the person.
import { expect, test } from "./fixtures";
import { detectFeatures } from "./features";
import { notices, signOut, signUpWithPasskey } from "./steps";
import { uniqueEmail } from "../tests/helpers";

test("what this Firefox offers the portal", async ({ firefox }) => {
  await firefox.goto("/");
  const features = await detectFeatures(firefox);
  const flags = Object.entries(features).filter(([, value]) => typeof value === "boolean");
  const listed = (on: boolean) => flags.filter(([, value]) => value === on).map(([name]) => name).join(", ");
  console.log(`firefox ${firefox.session.capabilities.browserVersion} has ${listed(true)}; lacks ${listed(false)}`);
  await test.info().attach("features.json", { body: JSON.stringify(features, null, 2), contentType: "application/json" });
  // Without these the portal tells the person to use a password (navigator/web.rs `passkeys_supported`).
  expect(features.parseCreationOptionsFromJSON).toBe(true);
  expect(features.parseRequestOptionsFromJSON).toBe(true);
  expect(features.toJSON).toBe(true);
});

test("password sign-up, add a passkey, passkey sign-in, rename, delete, deleted passkey refused", async ({ firefox, authenticator }) => {
  const email = uniqueEmail("ada-firefox");

  await firefox.goto("/sign-up");
  const features = await detectFeatures(firefox);
  await firefox.fill("Email", email);
  await firefox.fill(/^Password/, "correct horse battery");
  await firefox.click(await firefox.button("Create account with password"));
  await firefox.waitForURL(/\/passkeys\?offer=1&welcome=1$/);
  expect(await firefox.text("[data-testid=passkey-offer]")).toContain("Sign in faster next time");

  // The quiet passkey after a password sign-in needs conditional create (getClientCapabilities).
  await firefox.hydrated();
  if (features.conditionalCreate) {
    // This Firefox makes it: the test goes on with that passkey.
    await firefox.waitForURL(/\/passkeys\?done=created$/);
  } else {
    // Without it the offer stays an offer: no passkey made, nothing said. The person adds one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await authenticator.credentials()).toHaveLength(0);
    expect(await notices(firefox)).toEqual([]);
    await firefox.fill(/Name for the new passkey/, "Laptop");
    await firefox.click(await firefox.byTestId("add-passkey"));
    await firefox.waitForURL(/\/passkeys\?done=added$/);
    await expect.poll(() => firefox.texts("[data-testid=passkey]")).toEqual([expect.stringContaining("Laptop")]);
  }
  await expect.poll(() => firefox.count("[data-testid=passkey]")).toBe(1);
  expect(await firefox.text("[data-testid=passkey]")).toContain("This device only");
  expect(await firefox.text("[data-testid=second-passkey-hint]")).toContain("Your only passkey lives on one device");
  expect(await authenticator.credentials()).toHaveLength(1);

  await firefox.goto("/account");
  await expect.poll(() => firefox.text("[data-testid=account-email]")).toBe(email);

  // One button, no username. Where the browser offers conditional mediation (this Firefox does),
  // the sign-in page also starts passkey autofill on the email field: in Firefox a background
  // request that waits for the person to pick the passkey in the field's list (nobody does,
  // headless). It must stay quiet, and the button must still work (it aborts that request first).
  await signOut(firefox);
  expect((await firefox.url()).pathname).toBe("/");
  await firefox.hydrated();
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await firefox.url()).pathname, "autofill signed in without being asked").toBe("/");
  expect(await notices(firefox)).toEqual([]);
  await firefox.click(await firefox.byTestId("passkey-sign-in"));
  await firefox.waitForURL(/\/passkeys$/);
  await expect.poll(() => firefox.text("[data-testid=passkey]")).toContain("Last used");

  // Rename inline.
  await firefox.hydrated();
  await firefox.click(await firefox.button("Rename"));
  await firefox.fill("Passkey name", "Work laptop");
  await firefox.click(await firefox.button("Save"));
  await expect.poll(() => firefox.text("[data-testid=passkey]")).toContain("Work laptop");

  // Delete, with confirmation. With the Signal API the page tells the authenticator
  // (signalAllAcceptedCredentials); without it, the authenticator keeps the passkey, quietly.
  const [stored] = await authenticator.credentials();
  await firefox.click(await firefox.button("Delete…"));
  await firefox.click(await firefox.button("Delete"));
  await expect.poll(() => firefox.count("[data-testid=passkey]")).toBe(0);
  await firefox.hydrated(); // the page's islands, which signal, have run
  expect(await notices(firefox)).toEqual(["The passkey was deleted."]);
  if (features.signalAllAcceptedCredentials) {
    await expect.poll(async () => (await authenticator.credentials()).length).toBe(0);
    await authenticator.addCredential(stored); // the device that missed the signal, below
  } else {
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await authenticator.credentials()).toEqual([expect.objectContaining({ credentialId: stored.credentialId })]);
  }

  // A device that still holds the deleted passkey: signing in with it is refused with a plain
  // sentence. With the Signal API, signalUnknownCredential then removes it from the device too.
  await signOut(firefox);
  await firefox.hydrated();
  await firefox.click(await firefox.byTestId("passkey-sign-in"));
  await expect.poll(() => notices(firefox)).toEqual([expect.stringContaining("not known here")]);
  expect((await firefox.url()).pathname).toBe("/");
  if (features.signalUnknownCredential) {
    await expect.poll(async () => (await authenticator.credentials()).length).toBe(0);
  } else {
    expect(await authenticator.credentials()).toHaveLength(1);
  }
});

test("passkey-only sign-up", async ({ firefox, authenticator }) => {
  const email = uniqueEmail("passkey-only-firefox");
  await signUpWithPasskey(firefox, email);
  expect(await authenticator.credentials()).toEqual([expect.objectContaining({ isResidentCredential: true, rpId: "localhost" })]);

  await signOut(firefox);
  await firefox.hydrated();
  await firefox.click(await firefox.byTestId("passkey-sign-in"));
  await firefox.waitForURL(/\/passkeys$/);
  await firefox.goto("/account");
  await expect.poll(() => firefox.text("[data-testid=account-email]")).toBe(email);
  expect((await authenticator.credentials())[0].signCount).toBeGreaterThanOrEqual(1);
});
