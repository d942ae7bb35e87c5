/**
 * SIPp for the edge benchmark: a UAS over UDP behind the proxy (runs as long as its set-up) and a UAC run of a
 * bounded number of calls at a fixed rate, over TCP into stunnel (`-t t1`: every call on one connection;
 * `-t tn`: one connection per call). A UAC run ends by itself after `-m` calls, by SIPp's global `-timeout`,
 * or by SIGKILL at the hard limit; calls that did not succeed by then count as failed.
 */
import { parseSippStats } from "../../test/interop/tls/sipp.js";
import type { TempDir } from "../../test/interop/tls/temp-dir.js";
import { until } from "../../test/interop/tls/wait.js";
import { UAC_SCENARIO, UAS_SCENARIO } from "./scenarios.js";
import { startProcess, type Proc } from "./processes.js";
import { readFileSync } from "node:fs";
import { udpBound } from "./sockets.js";

export type UacTransport = "t1" | "tn";

export async function startUas(dir: TempDir, port: number, controlPort: number): Promise<Proc> {
  const scenario = dir.write("uas.xml", UAS_SCENARIO);
  const args = ["-sf", scenario, "-t", "u1", "-i", "127.0.0.1", "-p", String(port)];
  args.push("-cp", String(controlPort), "-nostdin", "-recv_timeout", "20000");
  const proc = startProcess("sipp-uas", "sipp", args, { cwd: dir.path });
  try {
    await until(() => !proc.running() || udpBound(port), "the SIPp UAS to bind", 10_000);
    if (!proc.running()) throw new Error(`SIPp UAS exited at start:\n${proc.output()}`);
    return proc;
  } catch (err) {
    await proc.kill();
    throw err;
  }
}

export interface UacOptions {
  readonly dir: TempDir;
  readonly name: string;
  readonly transport: UacTransport;
  /** stunnel's plain-TCP accept port. */
  readonly remotePort: number;
  readonly localPort: number;
  readonly controlPort: number;
  readonly calls: number;
  readonly rate: number;
  /** A call that waits longer than this for a response fails. */
  readonly recvTimeoutMs: number;
  /** SIGKILL after this long (SIPp's own -timeout is set a little earlier). */
  readonly hardLimitMs: number;
  /**
   * Polled with SIPp's cumulative statistics (written every second) and the seconds since start; a reason
   * ends the run early (the step has failed already, no need to wait for the rest of its calls).
   */
  readonly abortWhen?: (stats: ReadonlyMap<string, string>, seconds: number) => string | undefined;
}

export interface UacResult {
  readonly successful: number;
  readonly failed: number;
  /** Calls that neither succeeded nor were counted failed by SIPp (still running at the end). */
  readonly unfinished: number;
  readonly wallSeconds: number;
  readonly exitCode: number | null;
  readonly killed: boolean;
  /** Non-zero SIPp failure counters, e.g. FailedTimeoutOnRecv, FailedUnexpectedMessage. */
  readonly failures: ReadonlyMap<string, number>;
  /** The beginning of SIPp's error log (-trace_err): what the first failed calls received. */
  readonly firstErrors: string;
  /** Why the run was ended early by abortWhen. */
  readonly aborted?: string;
  readonly output: string;
}

export interface UacRun {
  readonly proc: Proc;
  readonly result: Promise<UacResult>;
}

/** Sockets for `-t tn`: one per call open at a time, with room for slow calls; SIPp refuses more than fds. */
function maxSockets(o: UacOptions): number {
  const open = Math.ceil(o.rate * (o.recvTimeoutMs / 1000 + 1));
  return Math.max(200, Math.min(open, 16_000));
}

export function uacArgs(o: UacOptions, scenario: string, statsFile: string, errorFile: string): string[] {
  const args = [`127.0.0.1:${o.remotePort}`, "-sf", scenario, "-t", o.transport, "-i", "127.0.0.1"];
  args.push("-p", String(o.localPort), "-cp", String(o.controlPort));
  args.push("-m", String(o.calls), "-r", String(o.rate), "-rp", "1000");
  // Simultaneous calls: everything that can be in flight within the receive timeout.
  args.push("-l", String(Math.ceil(o.rate * (o.recvTimeoutMs / 1000 + 1))));
  args.push("-recv_timeout", String(o.recvTimeoutMs));
  args.push("-timeout", `${Math.max(1, Math.floor(o.hardLimitMs / 1000) - 2)}s`);
  args.push("-trace_stat", "-stf", statsFile, "-fd", "1", "-nostdin");
  args.push("-trace_err", "-error_file", errorFile);
  args.push("-max_socket", String(maxSockets(o)));
  return args;
}

let runs = 0;

export function startUac(o: UacOptions): UacRun {
  // SIPp appends to its error and statistics files: every run gets its own.
  const name = `${o.name}-${++runs}`;
  const scenario = o.dir.write("uac.xml", UAC_SCENARIO);
  const statsFile = `${o.dir.path}/${name}-stats.csv`;
  const errorFile = `${o.dir.path}/${name}-errors.log`;
  const started = Date.now();
  const proc = startProcess(`sipp-uac`, "sipp", uacArgs(o, scenario, statsFile, errorFile), {
    cwd: o.dir.path,
  });
  let killed = false;
  let aborted: string | undefined;
  const killer = setTimeout(() => {
    killed = true;
    void proc.kill();
  }, o.hardLimitMs);
  const poller = setInterval(() => {
    const reason = o.abortWhen?.(readStats(statsFile), (Date.now() - started) / 1000);
    if (reason === undefined || aborted !== undefined) return;
    aborted = reason;
    void proc.kill();
  }, 500);
  const result = proc.exited.then(({ code }) => {
    clearTimeout(killer);
    clearInterval(poller);
    const stats = readStats(statsFile);
    const successful = Number(stats.get("SuccessfulCall(C)") ?? 0);
    const failed = Number(stats.get("FailedCall(C)") ?? 0);
    return {
      successful,
      failed,
      unfinished: Math.max(0, o.calls - successful - failed),
      wallSeconds: (Date.now() - started) / 1000,
      exitCode: code,
      killed,
      failures: failureCounters(stats),
      firstErrors: failureEvents(readHead(errorFile, ERROR_READ_LIMIT)).slice(0, ERROR_EXCERPT),
      aborted,
      output: proc.output(),
    };
  });
  return { proc, result };
}

function failureCounters(stats: ReadonlyMap<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, value] of stats) {
    const match = /^Failed(\w+)\(C\)$/.exec(name);
    if (match?.[1] !== undefined && Number(value) > 0) out.set(match[1], Number(value));
  }
  return out;
}

const ERROR_EXCERPT = 3000;
const ERROR_READ_LIMIT = 1024 * 1024;

/**
 * The events of SIPp's error log that concern failed calls. "Dead call" events are messages that arrived
 * for a call already over (e.g. a retransmitted final response after the call succeeded): SIPp logs them
 * but they fail nothing; "Overload warning" is SIPp's own scheduler lagging (reported in the CPU figures).
 */
export function failureEvents(log: string): string {
  // SIPp writes events back to back, not one per line: split before each timestamp.
  const events = log.split(/(?=\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\.\d+\t)/);
  return events
    .filter((e) => /^\d{4}-/.test(e) && !/: (Dead call|Overload warning)/.test(e))
    .map((e) => `${e.trimEnd()}\n`)
    .join("");
}

function readHead(file: string, chars: number): string {
  try {
    return readFileSync(file, "utf8").slice(0, chars);
  } catch {
    return "";
  }
}

function readStats(file: string): Map<string, string> {
  try {
    return parseSippStats(readFileSync(file, "utf8"));
  } catch {
    return new Map();
  }
}
