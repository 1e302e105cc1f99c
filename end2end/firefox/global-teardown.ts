// After the whole run: kills any Firefox or geckodriver that a worker could not end itself (a test
// that hung until the worker was killed), from the PIDs the workers recorded (processes.ts).
import { killRecorded } from "./processes";

export default async function globalTeardown() {
  const left = killRecorded();
  if (left > 0) {
    console.warn(`firefox: killed the processes of ${left} worker(s) that did not end them`);
  }
}
