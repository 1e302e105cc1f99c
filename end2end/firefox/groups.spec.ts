// Groups and per-app access in Firefox ESR, as tests/groups.spec.ts in Chromium: on the mailing
// portal the operator invites someone into `staff`; they sign up with a passkey from the mailed link
// (WebDriver's virtual authenticator) and sign in to the app that allows only `staff`; then, signed
// out, someone in no group whom the app sends to sign up stops on the access page, and the app never
// gets a code for them.
import { expect, test } from "./fixtures";
import { APP_ORIGIN, MAILING, STAFF_APP, uniqueEmail } from "../tests/helpers";
import { operator, startSmtp } from "../tests/mailing";
import { serveApp } from "../tests/oidc-app";

test("an app for one group: the invitee into it signs in, someone in no group stops on the access page", async ({ firefox, authenticator }) => {
  const smtp = await startSmtp(MAILING.smtpPort);
  const app = await serveApp(MAILING.origin, STAFF_APP);
  try {
    // The group may exist already: the Chromium project runs first against the same portal.
    const groups = operator("group", "list").split("\n").map((line) => line.split(" ")[0]);
    if (!groups.includes(STAFF_APP.group)) {
      expect(operator("group", "create", STAFF_APP.group)).toContain(`group ${STAFF_APP.group} made`);
    }
    const member = uniqueEmail("staff-firefox");
    expect(operator("invite", member, "--group", STAFF_APP.group)).toContain("/sign-up?invitation=");

    // The invitee makes their account with a passkey from the mailed link, then signs in to the app.
    await firefox.goto(await smtp.link(member, "You are invited", "/sign-up", "invitation"));
    await firefox.byTestId("invited");
    await firefox.hydrated();
    await firefox.click(await firefox.byTestId("passkey-sign-up"));
    await firefox.waitForURL(/\/passkeys\?welcome=1$/);
    await firefox.goto(`${APP_ORIGIN}/`);
    await firefox.click(await firefox.byTestId("app-sign-in"));
    await expect.poll(() => firefox.text("[data-testid=consent-app]")).toBe(STAFF_APP.name);
    await firefox.click(await firefox.byTestId("consent-allow"));
    await expect.poll(() => firefox.text("[data-testid=app-user]")).toBe(member);

    // Signed out of the app (and so of the portal), someone in no group is sent to sign up...
    await firefox.click(await firefox.byTestId("app-sign-out"));
    await expect.poll(() => firefox.text("[data-testid=app-signed-out]")).toBe("Signed out (bye)");
    await firefox.goto(`${APP_ORIGIN}/`);
    await firefox.click(await firefox.byTestId("app-sign-in"));
    await expect.poll(() => firefox.text("[data-testid=sign-in-reason]")).toBe(`${STAFF_APP.name} wants you to sign in.`);
    await firefox.click(await firefox.locate("a[href^='/sign-up?next=']")); // "Create an account"
    await firefox.hydrated();
    const outsider = uniqueEmail("outsider-firefox");
    await firefox.fill("Email", outsider);
    await firefox.click(await firefox.byTestId("passkey-sign-up"));

    // ...and stops on the access page, which says why and offers no way on to the app.
    await firefox.waitForURL(new RegExp(`^${MAILING.origin}/access\\?request=`));
    await expect.poll(() => firefox.text("h1")).toBe(`Your account can't use ${STAFF_APP.name}`);
    expect(await firefox.text("[data-testid=access-email]")).toBe(outsider);
    expect(await firefox.count("[data-testid=access-continue]")).toBe(0);
    await firefox.goto(`${APP_ORIGIN}/login`);
    await firefox.waitForURL(new RegExp(`^${MAILING.origin}/access\\?request=`));
    expect((await firefox.url()).origin).toBe(MAILING.origin);
    expect(await authenticator.credentials()).toHaveLength(2);
  } finally {
    app.close();
    smtp.close();
  }
});
