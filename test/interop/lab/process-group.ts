/**
 * Daemons the interop tests start detached (Kamailio, `siptrust serve`) lead their own process group, so a
 * group signal reaches every worker they forked. These helpers stop a group and guard against the test
 * process dying without running its cleanup.
 */
import { spawn, type ChildProcess } from "node:child_process";

/** Signals the child's process group; nothing when it has already ended. */
export function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`; then whatever outlived the leader is killed too. */
export async function stopProcessGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  killGroup(child, "SIGTERM");
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // group empty
  }
}

/**
 * Kills process group `pgid` (and removes `dir`, when given) once this test process is gone, also when it
 * died by SIGKILL without running its handlers: daemons do not notice their parent's death by themselves.
 */
export function startGroupWatchdog(
  name: string,
  pgid: number | undefined,
  dir = "",
): ChildProcess | undefined {
  if (pgid === undefined) return undefined;
  // dash's kill takes no "--": a negative pid right after the signal names the process group.
  const script =
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -9 "-$2" 2>/dev/null; [ -z "$3" ] || rm -rf -- "$3"';
  const guard = spawn("/bin/sh", ["-c", script, name, String(process.pid), String(pgid), dir], {
    detached: true,
    stdio: "ignore",
  });
  guard.unref();
  return guard;
}
