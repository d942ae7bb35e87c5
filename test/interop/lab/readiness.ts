// Bounded waiting for a daemon to become usable: poll a check until a shared deadline, end at once
// on a fatal sign (the process exited, its log shows a load error), retry a lost port race.
import type { Daemon } from "./daemon.js";
import { freeDnsPort } from "./free-port.js";
import { LabStartError } from "./lab-error.js";

const POLL_MS = 20;
const PORT_ATTEMPTS = 3;
export const LAB_HOST = "127.0.0.1";

/** Thrown by a readiness check that must not be retried; `retryPort` when the port was taken. */
export class Fatal extends Error {
  constructor(
    message: string,
    readonly retryPort = false,
  ) {
    super(message);
  }
}

export function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitUntil(
  deadline: number,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(POLL_MS);
  }
  throw new LabStartError("timeout", `timed out waiting for ${what}`);
}

/** Turns any failure while `daemon` was starting into a LabStartError carrying its log tail. */
export function withLogTail(daemon: Daemon, err: unknown): LabStartError {
  const tail = `\n--- ${daemon.name} log (tail) ---\n${daemon.logTail()}`;
  if (err instanceof LabStartError) return new LabStartError(err.code, `${err.message}${tail}`);
  const code = daemon.name === "knotd" ? "knot-failed" : "unbound-failed";
  return new LabStartError(code, `${daemon.name} failed: ${(err as Error).message}${tail}`);
}

/** Launches on a fresh port and waits for `ready`; a bind race is retried with another port. */
export async function startOnFreePort(
  launch: (port: number) => Daemon,
  ready: (daemon: Daemon, port: number) => Promise<boolean>,
  deadline: number,
): Promise<{ daemon: Daemon; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeDnsPort(LAB_HOST);
    const daemon = launch(port);
    try {
      await waitUntil(deadline, `${daemon.name} on ${LAB_HOST}:${port}`, () => ready(daemon, port));
      return { daemon, port };
    } catch (err) {
      const error = withLogTail(daemon, err);
      await daemon.stop(500);
      if (!(err instanceof Fatal && err.retryPort && attempt < PORT_ATTEMPTS)) throw error;
    }
  }
}
