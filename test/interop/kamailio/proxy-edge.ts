// The daemon under test, as an operator runs it: `node bin/siptrust.js serve --config <file>`, in its own
// process group, with a bounded start (its admin API reports healthy and its inside UDP port answers SIP) and a
// bounded stop (SIGTERM, then SIGKILL). Killed on exit/signals of the test process (../lab/cleanup.ts) and by
// a watchdog shell if the test process dies without running handlers.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { register, unregister } from "../lab/cleanup.js";
import { requestText, udpTransaction } from "./sip-io.js";
import { killGroup, startGroupWatchdog, stopProcessGroup } from "../lab/process-group.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
const LOG_LIMIT = 1024 * 1024;

export interface EdgeDaemon {
  /** Everything the daemon wrote (stdout + stderr, bounded). */
  log(): string;
  readonly exited: () => boolean;
  stop(): Promise<void>;
}

export interface EdgeReadiness {
  /** Admin API port (GET /health). A TCP probe of the TLS listener would log a failed handshake instead. */
  readonly adminPort: number;
  readonly insidePort: number;
}

export async function startEdgeDaemon(configFile: string, ready: EdgeReadiness): Promise<EdgeDaemon> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "siptrust.js"), "serve", "--config", configFile], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  const keep = (d: string): void => {
    if (output.length < LOG_LIMIT) output += d;
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const watchdog = startGroupWatchdog("edge-watchdog", child.pid);
  const cleanable = {
    cleanupNow: (): void => {
      killGroup(child, "SIGKILL");
      killGroup(watchdog, "SIGKILL");
    },
  };
  register(cleanable);
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const daemon: EdgeDaemon = {
    log: () => output,
    exited: gone,
    stop: async () => {
      await stopProcessGroup(child, STOP_GRACE_MS);
      killGroup(watchdog, "SIGKILL");
      unregister(cleanable);
    },
  };
  try {
    await waitForReady(ready, () => output, gone);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return daemon;
}

async function waitForReady(ready: EdgeReadiness, log: () => string, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const check = (): void => {
    if (gone()) throw new Error(`siptrust serve exited during startup\n${log()}`);
    if (Date.now() > deadline)
      throw new Error(`siptrust serve not ready within ${START_TIMEOUT_MS} ms\n${log()}`);
  };
  while (!(await healthy(ready.adminPort))) {
    check();
    await delay(100);
  }
  // Any SIP response on the inside port proves the core is wired (OPTIONS to the edge itself: 200, §11).
  for (let attempt = 0; ; attempt++) {
    check();
    const status = await probeInside(ready.insidePort, attempt).catch(() => undefined);
    if (status !== undefined) return;
    await delay(100);
  }
}

function probeInside(port: number, attempt: number): Promise<number | undefined> {
  return udpTransaction(
    "127.0.0.1",
    port,
    (localPort) =>
      requestText({
        method: "OPTIONS",
        requestUri: `sip:127.0.0.1:${port}`,
        from: "sip:probe@127.0.0.1",
        to: `sip:127.0.0.1:${port}`,
        callId: `edge-ready-${process.pid}-${port}-${attempt}`,
        via: { transport: "UDP", sentBy: `127.0.0.1:${localPort}` },
      }),
    500,
  ).then((response) => response.status);
}

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
