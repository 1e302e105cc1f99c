// Playwright drives Debian's Chromium (never a downloaded browser) against the debug server, which
// it starts on its own port with a fresh SQLite database. The `firefox` project runs firefox/ in
// Debian's Firefox ESR through geckodriver (firefox/fixtures.ts), since Playwright cannot drive stock
// Firefox. `E2E_SUITE=weight` runs weight/ instead: the page-weight budgets, against the release
// bundle in target/site-release. `E2E_SERVER` and `E2E_SITE` point the servers at another binary and
// site (absolute paths, or relative to the workspace root); `E2E_SERVER_LOG` their log filter.
import { mkdirSync, writeFileSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { ADMIN_TOKEN, APP_ORIGIN, BRANDED, MAILING, OIDC_APP, PRODUCT_NAME, QUICK_REAUTH, SERVER, STAFF_APP } from "./tests/helpers";

const WEIGHT = process.env.E2E_SUITE === "weight";
const PORT = Number(process.env.E2E_PORT ?? (WEIGHT ? 3101 : 3100));
const SITE = process.env.E2E_SITE ?? (WEIGHT ? "target/site-release" : "target/site");
const DB = WEIGHT ? "target/weight.db" : "target/e2e.db";
const ORIGIN = `http://localhost:${PORT}`;
// The servers log warnings only, so their requests do not drown the test report; E2E_SERVER_LOG
// takes a RUST_LOG filter (E2E_SERVER_LOG=info for every request).
const LOG = `RUST_LOG='${process.env.E2E_SERVER_LOG ?? "warn"}'`;
// The OpenID Connect clients files, each app on APP_ORIGIN: the main portal's has the suite's app
// (sign-in-with-latchkey.spec.ts), the mailing portal's an app for its staff group only (groups.spec.ts).
const CLIENTS = "target/e2e-oidc-clients.toml";
const MAILING_CLIENTS = "target/e2e-mail-oidc-clients.toml";
const client = (app: typeof OIDC_APP, more = "") => `[[clients]]
client_id = "${app.clientId}"
name = "${app.name}"
client_secret = "${app.secret}"
redirect_uris = ["${app.redirectUri}"]
post_logout_redirect_uris = ["${app.signedOutUri}"]
${more}`;
mkdirSync("../target", { recursive: true });
writeFileSync(`../${CLIENTS}`, client(OIDC_APP));
writeFileSync(`../${MAILING_CLIENTS}`, client(STAFF_APP, `allowed_groups = ["${STAFF_APP.group}"]\n`));

export default defineConfig({
  testDir: WEIGHT ? "./weight" : "./tests",
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  // Kills any Firefox or geckodriver a hung worker left behind (firefox/processes.ts).
  globalTeardown: WEIGHT ? undefined : "./firefox/global-teardown.ts",
  use: { baseURL: ORIGIN, trace: "off" },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
          ],
        },
      },
    },
    // Firefox ESR with WebDriver's virtual authenticator: the passkey flows in a second engine.
    ...(WEIGHT ? [] : [{ name: "firefox", testDir: "./firefox", timeout: 60_000 }]),
  ],
  webServer: [
    {
      // cwd is end2end/; the server runs from the workspace root, where target/site is.
      command:
        `cd .. && rm -f ${DB}* && ${LOG} LATCHKEY_ADDR=127.0.0.1:${PORT} LATCHKEY_ORIGINS=${ORIGIN} ` +
        `LATCHKEY_PRODUCT_NAME='${PRODUCT_NAME}' LATCHKEY_ADMIN_TOKEN=${ADMIN_TOKEN} ` +
        `LATCHKEY_CORS_ORIGINS=${APP_ORIGIN} LATCHKEY_RELATED_ORIGINS=${APP_ORIGIN} LATCHKEY_OIDC_CLIENTS=${CLIENTS} ` +
        `LATCHKEY_DATABASE_URL=sqlite://${DB} LATCHKEY_SITE_ROOT=${SITE} exec ${SERVER}`,
      url: `${ORIGIN}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
    // The portal whose re-authentication window a test can outlive (QUICK_REAUTH in helpers.ts).
    ...(WEIGHT
      ? []
      : [
          {
            command:
              `cd .. && rm -f target/e2e-reauth.db* && ${LOG} LATCHKEY_ADDR=127.0.0.1:${new URL(QUICK_REAUTH.origin).port} ` +
              `LATCHKEY_ORIGINS=${QUICK_REAUTH.origin} LATCHKEY_PRODUCT_NAME='${PRODUCT_NAME}' ` +
              `LATCHKEY_REAUTH_WINDOW_SECS=${QUICK_REAUTH.windowSecs} ` +
              `LATCHKEY_DATABASE_URL=sqlite://target/e2e-reauth.db LATCHKEY_SITE_ROOT=${SITE} exec ${SERVER}`,
            url: `${QUICK_REAUTH.origin}/healthz`,
            reuseExistingServer: false,
            timeout: 60_000,
          },
          // The portal that mails (MAILING in helpers.ts): recovery by email, to the test's SMTP server;
          // invitations, and an app for one group.
          {
            command:
              `cd .. && rm -f target/e2e-mail.db* && ${LOG} LATCHKEY_ADDR=127.0.0.1:${new URL(MAILING.origin).port} ` +
              `LATCHKEY_ORIGINS=${MAILING.origin} LATCHKEY_PRODUCT_NAME='${PRODUCT_NAME}' ` +
              `LATCHKEY_SMTP_URL=smtp://127.0.0.1:${MAILING.smtpPort} LATCHKEY_MAIL_RETRY_SECS=1 ` +
              `LATCHKEY_EMAIL_RECOVERY=true LATCHKEY_OIDC_CLIENTS=${MAILING_CLIENTS} ` +
              `LATCHKEY_DATABASE_URL=sqlite://target/e2e-mail.db LATCHKEY_SITE_ROOT=${SITE} exec ${SERVER}`,
            url: `${MAILING.origin}/healthz`,
            reuseExistingServer: false,
            timeout: 60_000,
          },
          // The branded portal (BRANDED in helpers.ts): an operator's logo, favicon, accent and stylesheet.
          {
            command:
              `cd .. && rm -f target/e2e-brand.db* && ${LOG} LATCHKEY_ADDR=127.0.0.1:${new URL(BRANDED.origin).port} ` +
              `LATCHKEY_ORIGINS=${BRANDED.origin} LATCHKEY_PRODUCT_NAME='Acme Sign-in' ` +
              `LATCHKEY_BRAND_LOGO=end2end/brand/logo.svg LATCHKEY_BRAND_LOGO_DARK=end2end/brand/logo-dark.svg ` +
              `LATCHKEY_BRAND_FAVICON=end2end/brand/favicon.svg LATCHKEY_BRAND_ACCENT='${BRANDED.accent}' ` +
              `LATCHKEY_BRAND_STYLESHEET=end2end/brand/brand.css ` +
              `LATCHKEY_DATABASE_URL=sqlite://target/e2e-brand.db LATCHKEY_SITE_ROOT=${SITE} exec ${SERVER}`,
            url: `${BRANDED.origin}/healthz`,
            reuseExistingServer: false,
            timeout: 60_000,
          },
        ]),
  ],
});
