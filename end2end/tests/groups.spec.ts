// Groups and per-app access (docs/oidc.md, "Groups"): an app whose clients-file entry has
// `allowed_groups` gets a code only for accounts in one of them. On the mailing portal, the operator
// makes the group and invites someone into it with the CLI; they sign up from the mailed link with a
// passkey and sign in to the app. Someone in no group, in another browser, stops on the portal's
// access page, and the app never gets a code for them.
import type { Page } from "@playwright/test";
import { expect, test, watchCsp } from "./strict";
import { APP_ORIGIN, MAILING, STAFF_APP, addAuthenticator, hydrated, uniqueEmail } from "./helpers";
import { operator, startSmtp } from "./mailing";
import { serveApp } from "./oidc-app";

/** Every request the browser of `page` makes to the app's callback, where a code (or an error) arrives. */
function callbacksIn(page: Page): string[] {
  const seen: string[] = [];
  page.context().on("request", (request) => {
    if (request.url().startsWith(STAFF_APP.redirectUri)) seen.push(request.url());
  });
  return seen;
}

test("an app for one group: the operator's invitee into it signs in, someone in no group stops on the access page", async ({ page, browser }) => {
  const smtp = await startSmtp(MAILING.smtpPort);
  const app = await serveApp(MAILING.origin, STAFF_APP);
  const elsewhere = await browser.newContext();
  try {
    // The operator's commands on the portal's database: the group, then an invitation that joins it.
    expect(operator("group", "create", STAFF_APP.group)).toContain(`group ${STAFF_APP.group} made`);
    const member = uniqueEmail("staff");
    expect(operator("invite", member, "--group", STAFF_APP.group)).toContain("/sign-up?invitation=");

    // The invitee makes their account with a passkey from the link the portal mailed.
    await addAuthenticator(page);
    await page.goto(await smtp.link(member, "You are invited", "/sign-up", "invitation"));
    await expect(page.getByTestId("invited")).toBeVisible();
    await hydrated(page);
    await page.getByTestId("passkey-sign-up").click();
    await expect(page).toHaveURL(/\/passkeys\?welcome=1$/);

    // Then the app: the consent page, and back at the app with a code it redeemed for their tokens.
    const memberCallbacks = callbacksIn(page);
    await page.goto(`${APP_ORIGIN}/`);
    await page.getByTestId("app-sign-in").click();
    await expect(page.getByTestId("consent-app")).toHaveText(STAFF_APP.name);
    await expect(page.getByTestId("consent-email")).toHaveText(member);
    await page.getByTestId("consent-allow").click();
    await expect(page.getByTestId("app-user")).toHaveText(member);
    await expect(page.getByTestId("app-userinfo")).toHaveText(member);
    expect(memberCallbacks).toEqual([expect.stringMatching(/[?&]code=/)]);

    // Someone in no group, in a browser of their own (watched for CSP like the test's own), sent by
    // the app, makes an account with a passkey (sign-up is open on a localhost portal)...
    const violations = await watchCsp(elsewhere);
    const other = await elsewhere.newPage();
    const outsiderCallbacks = callbacksIn(other);
    await addAuthenticator(other);
    const outsider = uniqueEmail("outsider");
    await other.goto(`${APP_ORIGIN}/`);
    await other.getByTestId("app-sign-in").click();
    await expect(other.getByTestId("sign-in-reason")).toHaveText(`${STAFF_APP.name} wants you to sign in.`);
    await other.getByRole("link", { name: "Create an account" }).click();
    await hydrated(other);
    await other.getByLabel("Email").fill(outsider);
    await other.getByTestId("passkey-sign-up").click();

    // ...and is stopped on the access page, which says why and offers no way on to the app.
    const accessPage = new RegExp(`^${MAILING.origin}/access\\?request=`);
    await expect(other).toHaveURL(accessPage);
    await expect(other.getByRole("heading", { level: 1 })).toHaveText(`Your account can't use ${STAFF_APP.name}`);
    await expect(other.getByTestId("access-email")).toHaveText(outsider);
    await expect(other.getByTestId("access-reason")).toContainText("is in none of them");
    await expect(other.getByTestId("access-continue")).toHaveCount(0);
    await expect(other.getByTestId("access-home")).toBeVisible();

    // Asking again, signed in now, stops there again: no consent page, and never a code.
    await other.goto(`${APP_ORIGIN}/login`);
    await expect(other).toHaveURL(accessPage);
    await expect(other.getByRole("heading", { level: 1 })).toHaveText(`Your account can't use ${STAFF_APP.name}`);
    expect(outsiderCallbacks).toEqual([]);
    expect(violations, "Content-Security-Policy violations in the second browser").toEqual([]);
  } finally {
    await elsewhere.close();
    app.close();
    smtp.close();
  }
});
