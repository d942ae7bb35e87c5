// Nothing a lab starts may outlive the test. Three layers, because each covers a case the others miss:
// 1. stop() in the test's t.after / finally (normal path);
// 2. process 'exit' and signal handlers (a test that throws, the runner sending SIGTERM/SIGINT);
// 3. a detached watchdog shell per lab that kills the daemons and removes the directory when the
//    test process disappears without running handlers (SIGKILL, crash) or the lab's lifetime ends.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";

export interface Cleanable {
  /** Synchronous: kill processes, remove files. Must be safe to call twice. */
  cleanupNow(): void;
}

const live = new Set<Cleanable>();
let handlersInstalled = false;
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function cleanupAll(): void {
  for (const item of live) {
    try {
      item.cleanupNow();
    } catch {
      // keep going: the other labs still need their cleanup
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Re-raise so the process ends the way it would have without our handler.
  process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", cleanupAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

export function register(item: Cleanable): void {
  installHandlers();
  live.add(item);
}

export function unregister(item: Cleanable): void {
  live.delete(item);
}

const WATCHDOG = `
parent=$1; deadline=$2; dir=$3
while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
[ -d "$dir" ] || exit 0
for f in "$dir"/pids/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
rm -rf -- "$dir"
`;

export interface Watchdog {
  /** Kills the watchdog (its process group, so its `sleep` goes too) and waits until it is gone. */
  stop(): Promise<void>;
  /** The same without waiting, for exit handlers. */
  killNow(): void;
}

/** Starts the watchdog for a lab directory; daemons register by writing `<dir>/pids/<name>.pid`. */
export function startWatchdog(dir: string, maxLifetimeMs: number): Watchdog {
  const deadline = Math.ceil((Date.now() + maxLifetimeMs) / 1000);
  const child = spawn(
    "/bin/sh",
    ["-c", WATCHDOG, "lab-watchdog", String(process.pid), String(deadline), dir],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  child.unref();
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const killNow = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone (it exits by itself once the directory is removed)
    }
  };
  return {
    killNow,
    stop: async () => {
      // ref'd again so the event loop stays alive until the exit is seen (unref'd, the loop could end first)
      child.ref();
      killNow();
      // bounded: SIGKILL cannot be ignored, but do not hang a test on a lost 'exit' event
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
