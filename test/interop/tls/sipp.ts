// SIPp (Debian's sip-tester, built without TLS) as a plain-TCP UAC: an embedded OPTIONS scenario, one bounded
// run per call, its exit code and its final statistics. TLS is added by stunnel in front (see stunnel.ts).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { TempDir } from "./temp-dir.js";

/**
 * One OPTIONS transaction per call, answered by 200 OK. The From tag and Call-ID are per call so the
 * listener (and SIPp) can tell the 50 transactions apart; Via carries [transport] (TCP: SIPp sees its own
 * side of the tunnel). Any other final response, or none before -timeout, fails the call.
 */
export const OPTIONS_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="siptrust OPTIONS over stunnel">
  <send>
    <![CDATA[

      OPTIONS sip:edge.example SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:sipp@partner.example>;tag=[pid]-[call_number]
      To: <sip:edge.example>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
</scenario>
`;

export type SippTransport = "t1" | "tn";

export interface SippRunOptions {
  readonly dir: TempDir;
  /** Name for this run's scenario, statistics and error files in `dir`. */
  readonly name: string;
  readonly transport: SippTransport;
  /** Where SIPp sends: the plain-TCP side of stunnel. */
  readonly remotePort: number;
  readonly localPort: number;
  readonly controlPort: number;
  readonly calls: number;
  /** Calls started per second (-r). */
  readonly rate: number;
  /** SIPp's own global timeout (-timeout, with -timeout_error). */
  readonly timeoutSeconds: number;
}

export interface SippResult {
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Cumulative counters from the last statistics line (-trace_stat), e.g. "SuccessfulCall(C)". */
  readonly stats: ReadonlyMap<string, string>;
  readonly output: string;
}

export interface SippRun {
  readonly args: readonly string[];
  readonly result: Promise<SippResult>;
  /** Kills SIPp if it is still running (for t.after); resolves when it has exited. */
  stop(): Promise<void>;
}

/** Bounded capture: SIPp repaints its screen on stdout; only the tail is worth keeping. */
const OUTPUT_LIMIT = 64 * 1024;
/** Enough for one socket per call under -t tn in these runs. */
const MAX_SOCKETS = 200;

export function sippArgs(options: SippRunOptions, scenarioFile: string, statsFile: string): string[] {
  return [
    "127.0.0.1:" + String(options.remotePort),
    "-sf",
    scenarioFile,
    "-t",
    options.transport,
    "-i",
    "127.0.0.1",
    "-p",
    String(options.localPort),
    "-cp",
    String(options.controlPort),
    "-m",
    String(options.calls),
    "-r",
    String(options.rate),
    "-timeout",
    `${options.timeoutSeconds}s`,
    "-timeout_error",
    "-trace_stat",
    "-stf",
    statsFile,
    // SIPp's default (50000) exceeds this container's open-file limit and makes -t tn refuse to start.
    "-max_socket",
    String(MAX_SOCKETS),
    "-nostdin",
  ];
}

/** The last data line of SIPp's ';'-separated statistics file, keyed by the header line's names. */
export function parseSippStats(csv: string): Map<string, string> {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== "");
  const header = lines[0]?.split(";") ?? [];
  const last = lines.length > 1 ? (lines[lines.length - 1]?.split(";") ?? []) : [];
  return new Map(header.map((name, i) => [name, last[i] ?? ""] as const).filter(([name]) => name !== ""));
}

function readStats(file: string): Map<string, string> {
  try {
    return parseSippStats(readFileSync(file, "utf8"));
  } catch {
    return new Map();
  }
}

/** Starts SIPp; `hardLimitMs` kills it if its own -timeout did not end it (a SIPp bug must not hang the suite). */
export function startSipp(options: SippRunOptions, hardLimitMs: number): SippRun {
  const scenarioFile = options.dir.write(`${options.name}.xml`, OPTIONS_SCENARIO);
  const statsFile = `${options.dir.path}/${options.name}-stats.csv`;
  return spawnSipp(options.dir, sippArgs(options, scenarioFile, statsFile), statsFile, hardLimitMs);
}

/**
 * Runs `sipp` with `args` in `dir`, keeping the tail of its output; `hardLimitMs` kills it if it has not
 * ended by itself by then. The result carries the statistics file's last row.
 */
export function spawnSipp(dir: TempDir, args: string[], statsFile: string, hardLimitMs: number): SippRun {
  const child = spawn("sipp", args, { cwd: dir.path, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d: string): void => {
    output = (output + d).slice(-OUTPUT_LIMIT);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  const killer = setTimeout(() => child.kill("SIGKILL"), hardLimitMs);
  const result = new Promise<SippResult>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(killer);
      resolve({ args, exitCode, signal, stats: readStats(statsFile), output });
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
  return { args, result, stop };
}
