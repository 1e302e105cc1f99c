// The mailing portal (MAILING in helpers.ts) as its operator and its users' mailboxes see it: an
// SMTP server the test runs, which keeps every mail, and the operator's `latchkey admin` commands on
// the portal's database; shared by recovery.spec.ts and groups.spec.ts.
import { execFileSync } from "node:child_process";
import { expect } from "@playwright/test";
import { SMTPServer } from "smtp-server";
import { MAILING, SERVER } from "./helpers";

/** An SMTP server on 127.0.0.1 that keeps every mail (npm `smtp-server`), for the mailing portal. */
export async function startSmtp(port: number) {
  const mails: { to: string[]; raw: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("utf8") });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  /** The first link to `path` (with its `param`) in a mail to `to` whose text has `needle` (waits for it). */
  async function link(to: string, needle: string, path: string, param = "token"): Promise<string> {
    let found = "";
    await expect
      .poll(() => {
        const text = mails.filter((m) => m.to.includes(to)).map((m) => m.raw.replace(/=\r\n/g, "").replace(/=3D/g, "="));
        const mail = text.find((t) => t.includes(needle));
        found = mail?.match(new RegExp(`https?://[^\\s"<]+${path}\\?${param}=[A-Za-z0-9_-]+`))?.[0] ?? "";
        return found;
      }, { timeout: 20_000 })
      .not.toBe("");
    return found;
  }
  // Closing waits for the portal's pooled SMTP connection to end, which it never does: stop
  // accepting, and let the worker's exit end it.
  return { link, close: () => server.close() };
}

/**
 * The operator's `latchkey admin …` on the mailing portal's database (the binary the portals run),
 * from the workspace root; what it printed on stdout. The running portal's mail worker sends the
 * mail a command queues (an invitation).
 */
export function operator(...args: string[]): string {
  return operatorAt("target/e2e-mail.db", MAILING.origin, { LATCHKEY_SMTP_URL: `smtp://127.0.0.1:${MAILING.smtpPort}` }, ...args);
}

/** `latchkey admin …` on the portal whose SQLite file is `database` (from the workspace root) at `origin`. */
export function operatorAt(database: string, origin: string, more: Record<string, string>, ...args: string[]): string {
  return execFileSync(SERVER, ["admin", ...args], {
    cwd: "..",
    env: { PATH: process.env.PATH, RUST_LOG: "warn", LATCHKEY_DATABASE_URL: `sqlite://${database}`, LATCHKEY_ORIGINS: origin, ...more },
    encoding: "utf8",
  });
}
