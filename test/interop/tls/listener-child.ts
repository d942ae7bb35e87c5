// The parent side of listener-process.ts: starts it with an IPC channel, asks for its counters, reads its
// resident set size from /proc, and kills it (SIGKILL, awaited) in stop().
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ListenerProcessConfig, ListenerProcessMessage } from "./listener-process.js";
import type { TempDir } from "./temp-dir.js";
import { within } from "./wait.js";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const script = fileURLToPath(new URL("./listener-process.ts", import.meta.url));

export interface ListenerChild {
  readonly pid: number;
  readonly port: number;
  readonly alive: () => boolean;
  counters(): Promise<{ counters: Record<string, number>; connections: number }>;
  stop(): Promise<void>;
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

export async function startListenerChild(
  dir: TempDir,
  config: ListenerProcessConfig,
): Promise<ListenerChild> {
  const configFile = dir.write("listener.json", JSON.stringify(config), 0o600);
  const child: ChildProcess = fork(script, [configFile], {
    cwd: repoRoot,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exit.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill("SIGKILL");
    await exit;
  };
  const next = <T extends ListenerProcessMessage["type"]>(type: T) =>
    new Promise<Extract<ListenerProcessMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (m: ListenerProcessMessage): void => {
        if (m.type !== type) return;
        child.off("message", onMessage);
        resolve(m as Extract<ListenerProcessMessage, { type: T }>);
      };
      child.on("message", onMessage);
      void exit.then(() => reject(new Error("listener process exited")));
    });
  try {
    const { port } = await within(next("listening"), 20_000, "listener process to listen");
    if (child.pid === undefined) throw new Error("listener process has no pid");
    const pid = child.pid;
    return {
      pid,
      port,
      alive: () => !exited,
      counters: async () => {
        const answer = next("counters");
        child.send({ type: "counters" });
        const { counters, connections } = await within(answer, 5000, "listener counters");
        return { counters, connections };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
