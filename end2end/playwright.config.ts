// Playwright drives Debian's Chromium (never a downloaded browser) against the debug server, which
// it starts on its own port with a fresh SQLite database.
import { defineConfig, devices } from "@playwright/test";
import { PRODUCT_NAME } from "./tests/helpers";

const PORT = Number(process.env.E2E_PORT ?? 3100);
const ORIGIN = `http://localhost:${PORT}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
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
  ],
  webServer: {
    // cwd is end2end/; the server runs from the workspace root, where target/site is.
    command:
      `cd .. && rm -f target/e2e.db* && LATCHKEY_ADDR=127.0.0.1:${PORT} LATCHKEY_ORIGINS=${ORIGIN} ` +
      `LATCHKEY_PRODUCT_NAME='${PRODUCT_NAME}' ` +
      `LATCHKEY_DATABASE_URL=sqlite://target/e2e.db LATCHKEY_SITE_ROOT=target/site exec target/debug/server`,
    url: `${ORIGIN}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
