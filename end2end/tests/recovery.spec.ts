// Recovery for someone who lost their passkey: the operator's one-time link, or a link the
// sign-in page mails to the confirmed address (read from an SMTP server the test runs), opened in
// a browser with a new authenticator, adds a new passkey and signs in with it.
import { expect, test } from "./strict";
import { ADMIN_TOKEN, MAILING, addAuthenticator, credentialsOf, hydrated, removeAuthenticator, uniqueEmail } from "./helpers";
import { operator, startSmtp } from "./mailing";

test("the operator's recovery link adds a new passkey on a new authenticator and signs in", async ({ page, request }) => {
  const email = uniqueEmail("lost");
  const lost = await addAuthenticator(page);
  await page.goto("/sign-up");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByTestId("passkey-sign-up").click();
  await expect(page.getByTestId("passkey")).toHaveCount(1);
  await page.context().clearCookies();
  // The device is gone.
  await removeAuthenticator(lost);

  const made = await request.post("/admin/recovery-links", {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    data: { email },
  });
  expect(made.status()).toBe(201);
  const { url } = await made.json();

  const fresh = await addAuthenticator(page);
  await page.goto(url);
  await expect(page.getByRole("heading", { name: "Recover your account" })).toBeVisible();
  await hydrated(page);
  await page.getByTestId("recover").click();
  await expect(page).toHaveURL(/\/passkeys\?done=recovered$/);
  await expect(page.getByText("Your account is recovered")).toBeVisible();
  await expect(page.getByTestId("passkey")).toHaveCount(2);
  // The new passkey is told from the lost one: it was used for this sign-in, the lost one never was.
  await expect(page.getByTestId("passkey").filter({ hasText: "Never used" })).toHaveCount(1);
  await expect(page.getByTestId("passkey").filter({ hasText: "Last used" })).toHaveCount(1);
  expect(await credentialsOf(fresh)).toHaveLength(1);

  // The link worked once.
  await page.context().clearCookies();
  await page.goto(url);
  await hydrated(page);
  await page.getByTestId("recover").click();
  await expect(page.getByTestId("notice").filter({ visible: true })).toHaveText(
    "This recovery link is wrong, already used or expired. Ask for a new one.",
  );
});

test("lost passkey: the sign-in page mails a link to the confirmed address, which adds a new passkey in this browser", async ({ page }) => {
  const smtp = await startSmtp(MAILING.smtpPort);
  try {
    const email = uniqueEmail("by-mail");
    const lost = await addAuthenticator(page);
    await page.goto(`${MAILING.origin}/sign-up`);
    await hydrated(page);
    await page.getByLabel("Email").fill(email);
    await page.getByTestId("passkey-sign-up").click();
    await expect(page.getByTestId("passkey")).toHaveCount(1);

    // The address is confirmed with the link mailed at sign-up.
    await page.goto(await smtp.link(email, "Confirm your email address", "/verify-email"));
    await page.getByTestId("confirm-email").click();
    await expect(page).toHaveURL(/\/account\?done=verified$/);
    await expect(page.getByTestId("email-state")).toHaveText("Confirmed");

    // The device is gone; "Lost your passkey?" on the sign-in page.
    await page.context().clearCookies();
    await removeAuthenticator(lost);
    await page.goto(`${MAILING.origin}/`);
    await page.getByTestId("lost-passkey").click();
    await page.getByLabel("Email").fill(email);
    await page.getByTestId("request-recovery").click();
    await expect(page.getByTestId("recovery-sent")).toContainText("a link is on its way");

    const fresh = await addAuthenticator(page);
    await page.goto(await smtp.link(email, "Lost your passkey?", "/recover"));
    await hydrated(page);
    await page.getByTestId("recover").click();
    await expect(page).toHaveURL(/\/passkeys\?done=recovered$/);
    await expect(page.getByTestId("passkey")).toHaveCount(2);
    expect(await credentialsOf(fresh)).toHaveLength(1);
  } finally {
    smtp.close();
  }
});

test("an invited person makes their account with a passkey from the mailed link, its address confirmed by it", async ({ page }) => {
  const smtp = await startSmtp(MAILING.smtpPort);
  try {
    const email = uniqueEmail("invited");
    // The operator's command, on the mailing portal's database: the portal's mail worker sends it.
    const said = operator("invite", email);
    expect(said).toContain("/sign-up?invitation=");
    const link = await smtp.link(email, "You are invited", "/sign-up", "invitation");

    const key = await addAuthenticator(page);
    await page.goto(link);
    await expect(page.getByTestId("invited")).toBeVisible();
    await expect(page.getByLabel("Email")).toHaveValue(email);
    await expect(page.getByLabel("Email")).toHaveAttribute("readonly", "");
    await hydrated(page);
    await page.getByTestId("passkey-sign-up").click();
    await expect(page.getByTestId("passkey")).toHaveCount(1);
    expect(await credentialsOf(key)).toHaveLength(1);
    await page.goto(`${MAILING.origin}/account`);
    await expect(page.getByTestId("email-state")).toHaveText("Confirmed");

    // The link made one account: opened again, it says so.
    await page.context().clearCookies();
    await page.goto(link);
    await expect(page.getByTestId("invitation-refused")).toHaveText("This invitation was already used. Sign in, or ask for a new one.");
  } finally {
    smtp.close();
  }
});
