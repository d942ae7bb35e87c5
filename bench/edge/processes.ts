/**
 * Child processes of the edge benchmark: every one is spawned in its own process group (so Kamailio's forked
 * workers and stunnel's threads go with it), registered with the lab clean-up (killed on exit, SIGINT, SIGTERM,
 * SIGHUP of the benchmark), its output kept as a bounded tail, and its CPU time readable from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { register, unregister, type Cleanable } from "../../test/interop/lab/cleanup.js";

const OUTPUT_LIMIT = 64 * 1024;

let pidDirectory: string | undefined;

/**
 * Where each started process group is also recorded (`<dir>/pids/<name>-<pid>.pid` holding "-<pgid>"), for
 * the lab watchdog (test/interop/lab/cleanup.ts startWatchdog), which kills them if this benchmark dies
 * without running its handlers (SIGKILL): its `kill -9 "$(cat f)"` then signals the whole group.
 */
export function recordProcessGroupsIn(dir: string): void {
  mkdirSync(join(dir, "pids"), { recursive: true });
  pidDirectory = dir;
}

export interface Proc {
  readonly name: string;
  readonly pid: number;
  /** The last 64 KiB of stdout + stderr. */
  output(): string;
  running(): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole process group; resolves once the leader has exited. */
  kill(): Promise<void>;
  /** `signal` to the leader only, then SIGKILL to the group after `graceMs` if it is still running. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Proc {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (data: string): void => {
    output = (output + data).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("error", (err) => {
      keep(`\nspawn error: ${err.message}`);
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  const pidFile =
    pidDirectory !== undefined && pid > 0 ? join(pidDirectory, "pids", `${name}-${pid}.pid`) : undefined;
  if (pidFile !== undefined) writeFileSync(pidFile, `-${pid}\n`);
  const cleanable: Cleanable = { cleanupNow: () => (pid > 0 ? killGroup(pid, "SIGKILL") : undefined) };
  register(cleanable);
  const kill = async (): Promise<void> => {
    // The group even when the leader is gone: Kamailio's workers may outlive their attendant for a moment.
    if (pid > 0) killGroup(pid, "SIGKILL");
    await exited;
    unregister(cleanable);
    if (pidFile !== undefined) rmSync(pidFile, { force: true });
  };
  return {
    name,
    pid,
    output: () => output,
    running: () => !done,
    exited,
    kill,
    stop: async (signal, graceMs) => {
      if (!done && pid > 0) process.kill(pid, signal);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      await kill();
    },
  };
}

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux x86). */
function clockTicks(): number {
  if (ticks === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout;
    const value = Number(out.trim());
    ticks = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return ticks;
}

interface StatLine {
  readonly pgrp: number;
  readonly cpuTicks: number;
}

function readStat(pid: string): StatLine | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state ppid pgrp ... utime (14) stime (15); comm may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pgrp: Number(fields[2]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** utime + stime (seconds) per process group, of every live process (one pass over /proc). */
function cpuByGroup(): Map<number, number> {
  const byGroup = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat !== undefined) byGroup.set(stat.pgrp, (byGroup.get(stat.pgrp) ?? 0) + stat.cpuTicks);
  }
  return byGroup;
}

/**
 * CPU seconds of each process's whole group (Kamailio's forked workers, stunnel's threads), keyed by name.
 * A process that already exited is not counted: the benchmark reads the groups while they run.
 */
export function snapshotCpu(procs: readonly Proc[]): Map<string, number> {
  const byGroup = cpuByGroup();
  const hz = clockTicks();
  return new Map(procs.map((p) => [p.name, (byGroup.get(p.pid) ?? 0) / hz] as const));
}

/** Busy CPU seconds of the whole machine so far (all cores; /proc/stat "cpu" line minus idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user.
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const guest = (v[8] ?? 0) + (v[9] ?? 0);
    return (total - idle - guest) / clockTicks();
  } catch {
    return 0;
  }
}

/** CPU seconds of each live process of the group `pgid`, by pid (Kamailio: attendant, UDP, TLS, timers…). */
export function groupProcessesCpu(pgid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat !== undefined && stat.pgrp === pgid) out.set(entry, stat.cpuTicks / clockTicks());
  }
  return out;
}
