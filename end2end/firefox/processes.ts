// The Firefox project's browser and driver processes, and how they end. Each worker starts its own
// geckodriver (in a process group of its own) which starts Firefox with a profile under a directory
// of the worker's; the worker kills both by PID in teardown and removes that directory. It writes
// all three to a file in PID_DIR first, so that if a worker is killed or a test hangs past every
// timeout, the run's globalTeardown (global-teardown.ts) still ends them.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where the workers record their processes: one directory per suite port, so parallel suites keep apart. */
export const PID_DIR = join(tmpdir(), `latchkey-e2e-firefox-${Number(process.env.E2E_PORT ?? 3100)}`);

/**
 * A worker's processes: geckodriver (also the id of its process group) and Firefox once started,
 * and the directory of Firefox's profiles (geckodriver's --profile-root).
 */
export type Processes = { geckodriver: number; firefox?: number; profiles: string };

function fileOf(processes: Processes): string {
  return join(PID_DIR, `${processes.geckodriver}.json`);
}

/** Writes (or rewrites) the worker's record. */
export function record(processes: Processes) {
  mkdirSync(PID_DIR, { recursive: true });
  writeFileSync(fileOf(processes), JSON.stringify(processes));
}

/** The command line of process `pid`, or undefined when there is no such process. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** The process group of process `pid` (field 5 of /proc/<pid>/stat, after the parenthesised name). */
function groupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return undefined;
  }
}

/** SIGKILLs `pid` if it is still one of ours (its command line names Firefox or geckodriver: a PID may be reused). */
function killIfOurs(pid: number | undefined) {
  if (pid && /firefox|geckodriver/.test(commandLine(pid) ?? "")) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * Kills a worker's processes by PID: Firefox, geckodriver, then whatever is left of geckodriver's
 * process group (Firefox's content processes, which normally follow their parent within a moment);
 * removes the profiles and the record.
 */
export function kill(processes: Processes) {
  killIfOurs(processes.firefox);
  killIfOurs(processes.geckodriver);
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (pid && groupOf(pid) === processes.geckodriver) {
      killIfOurs(pid);
    }
  }
  rmSync(processes.profiles, { recursive: true, force: true });
  rmSync(fileOf(processes), { force: true });
}

/** Kills every worker's processes still on record (globalTeardown), and removes what they left. */
export function killRecorded(): number {
  let files: string[] = [];
  try {
    files = readdirSync(PID_DIR).filter((name) => name.endsWith(".json"));
  } catch {
    return 0;
  }
  for (const name of files) {
    try {
      kill(JSON.parse(readFileSync(join(PID_DIR, name), "utf8")) as Processes);
    } catch {
      rmSync(join(PID_DIR, name), { force: true });
    }
  }
  rmSync(PID_DIR, { recursive: true, force: true });
  return files.length;
}

/** A TCP port that nothing listens on now (the system picks it; geckodriver binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
