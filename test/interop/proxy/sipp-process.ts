// SIPp (Debian sip-tester 3.6.1) with any scenario, as UAC or UAS: one bounded run, its exit code, its final
// statistics, its error file and its log file (<log> actions). The UAC speaks plain TCP to stunnel (which adds
// TLS and the client certificate); the UAS listens on UDP as the inner SIP server.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { register, unregister, type Cleanable } from "../lab/cleanup.js";
import { parseSippStats } from "../tls/sipp.js";
import type { TempDir } from "../tls/temp-dir.js";
import { until } from "../tls/wait.js";

/** u1: one UDP socket; t1: all calls on one TCP connection; tn: one TCP connection per call. */
export type SippTransport = "u1" | "t1" | "tn";

export interface SippOptions {
  readonly dir: TempDir;
  /** Names this run's scenario, statistics, error and log files in `dir`. */
  readonly name: string;
  readonly scenario: string;
  readonly transport: SippTransport;
  readonly localPort: number;
  /** UAC only: where SIPp sends (stunnel's plain-TCP side). Omitted: a UAS. */
  readonly remotePort?: number;
  /** UAC: calls to place; UAS: calls to take before exiting (-m). */
  readonly calls: number;
  /** UAC: calls started per second (-r). */
  readonly rate?: number;
  /** UAC: at most this many calls at once (-l). */
  readonly limit?: number;
  /** SIPp's own global timeout (-timeout with -timeout_error): the run ends (exit 1) after it. */
  readonly timeoutSeconds: number;
  /** Kill outright after this (a SIPp that ignores its own timeout must not hang the suite). */
  readonly hardLimitMs: number;
  /** Write every message SIPp sends and receives to `<name>-messages.log` (for debugging a failure). */
  readonly traceMessages?: boolean;
}

export interface SippResult {
  readonly name: string;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Cumulative counters of the last statistics line, e.g. "SuccessfulCall(C)". */
  readonly stats: ReadonlyMap<string, string>;
  readonly output: string;
  /** SIPp's -trace_err file: what went wrong per call. */
  readonly errors: string;
  /** Lines written by the scenario's <log> actions (-trace_logs). */
  readonly logLines: readonly string[];
}

export interface SippProcess {
  readonly name: string;
  readonly result: Promise<SippResult>;
  /** Ends the run now (SIGUSR1 would dump; SIGKILL is bounded) and waits for the exit. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 32 * 1024;
/** -t tn opens one socket per call; SIPp's default (50000) exceeds the container's open-file limit. */
const MAX_SOCKETS = 1000;

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export function sippArgs(
  options: SippOptions,
  files: Record<"scenario" | "stats" | "errors" | "log" | "messages", string>,
): string[] {
  const args: string[] = [];
  if (options.remotePort !== undefined) args.push(`127.0.0.1:${options.remotePort}`);
  args.push(
    "-sf",
    files.scenario,
    "-t",
    options.transport,
    "-i",
    "127.0.0.1",
    "-p",
    String(options.localPort),
  );
  args.push("-m", String(options.calls));
  if (options.rate !== undefined) args.push("-r", String(options.rate));
  if (options.limit !== undefined) args.push("-l", String(options.limit));
  args.push("-timeout", `${options.timeoutSeconds}s`, "-timeout_error");
  args.push("-trace_stat", "-stf", files.stats, "-trace_err", "-error_file", files.errors);
  args.push("-trace_logs", "-log_file", files.log);
  if (options.traceMessages === true) args.push("-trace_msg", "-message_file", files.messages);
  args.push("-max_socket", String(MAX_SOCKETS), "-nostdin");
  return args;
}

export function startSippProcess(options: SippOptions): SippProcess {
  const base = `${options.dir.path}/${options.name}`;
  const files = {
    scenario: options.dir.write(`${options.name}.xml`, options.scenario),
    stats: `${base}-stats.csv`,
    errors: `${base}-errors.log`,
    log: `${base}-scenario.log`,
    messages: `${base}-messages.log`,
  };
  const args = sippArgs(options, files);
  const child = spawn("sipp", args, { cwd: options.dir.path, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d: string): void => {
    output = (output + d).slice(-OUTPUT_LIMIT);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  const killer = setTimeout(() => child.kill("SIGKILL"), options.hardLimitMs);
  // Killed by the lab's exit/signal handlers too, should the test process end without its t.after.
  const cleanable: Cleanable = { cleanupNow: () => void child.kill("SIGKILL") };
  register(cleanable);
  const result = new Promise<SippResult>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(killer);
      unregister(cleanable);
      resolve({
        name: options.name,
        args,
        exitCode,
        signal,
        stats: parseSippStats(readText(files.stats)),
        output,
        errors: readText(files.errors),
        logLines: readText(files.log)
          .split("\n")
          .filter((line) => line.trim() !== ""),
      });
    };
    child.once("error", (err) => {
      keep(`\nspawn error: ${err.message}`);
      finish(null, null);
    });
    child.once("exit", finish);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await result;
  };
  return { name: options.name, result, stop };
}

function udpSocketLine(port: number): string[] | undefined {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readText("/proc/net/udp")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1] === wanted);
}

/** True once some socket is bound to 127.0.0.1:`port` on UDP (read from /proc, so nothing races SIPp's bind). */
export function udpPortBound(port: number): boolean {
  return udpSocketLine(port) !== undefined;
}

/** Datagrams the kernel dropped for the UDP socket on 127.0.0.1:`port` (receive buffer full), if it exists. */
export function udpDrops(port: number): number | undefined {
  const drops = udpSocketLine(port)?.[12];
  return drops === undefined ? undefined : Number(drops);
}

/** A SIPp UAS is ready when its UDP socket is bound. */
export async function waitForUdpUas(run: SippProcess, port: number): Promise<void> {
  let exited = false;
  void run.result.then(() => (exited = true));
  await until(() => exited || udpPortBound(port), `SIPp UAS ${run.name} to bind UDP ${port}`, 10_000);
  if (exited) {
    const r = await run.result;
    throw new Error(`SIPp UAS ${run.name} exited at start:\n${describeSipp(r)}`);
  }
}

export function describeSipp(result: SippResult): string {
  return [
    `sipp ${result.name}: sipp ${result.args.join(" ")}`,
    `  exit ${String(result.exitCode)} signal ${String(result.signal)}`,
    `  successful ${result.stats.get("SuccessfulCall(C)") ?? "?"} failed ${result.stats.get("FailedCall(C)") ?? "?"}`,
    `  errors (tail): ${result.errors.slice(-1500)}`,
    `  output (tail): ${result.output.slice(-1000)}`,
  ].join("\n");
}

export function successfulCalls(result: SippResult): number {
  return Number(result.stats.get("SuccessfulCall(C)") ?? "NaN");
}

export function failedCalls(result: SippResult): number {
  return Number(result.stats.get("FailedCall(C)") ?? "NaN");
}
