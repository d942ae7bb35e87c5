/**
 * CPU profile of the accept path (a helper of `npm run bench:tls`, not a test): runs one server (siptrust
 * TlsListener or bare Node tls.createServer, configured exactly as in bench/tls.bench.ts) in this process,
 * drives it with the benchmark's own load generator in a child process, profiles only the load window with
 * the inspector, and prints the functions with the most self time. The full profile is written as
 * `<out>.cpuprofile` for a closer look (Chrome DevTools, speedscope).
 *
 * With --timing instead of a profile, the listener's two per-connection entry points (the TCP `admit` and the
 * post-handshake `accept`, which runs the verification) are timed call by call with the monotonic clock;
 * medians are printed, as they stay meaningful on a loaded machine where a sampling profile charges
 * preemption to whatever function happened to run.
 *
 *   node --import tsx bench/tls/profile-accept.ts [siptrust|node] [--seconds S] [--concurrency C] [--out FILE]
 *     [--timing]
 *
 * Loopback only; the load child is killed in `finally`.
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCa, issueCertificate } from "../../src/pki/issue.js";
import { TlsListener } from "../../src/transport/tls-listener.js";
import { startNodeServer, startSiptrustServer, type Pki, type RunningServer } from "./servers.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const BENCH = fileURLToPath(new URL("../tls.bench.ts", import.meta.url));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function makePki(): Pki {
  const ca = createCa({ cn: "Bench CA" });
  const server = issueCertificate(ca, {
    cn: "edge",
    san: { uri: ["sip:edge.example"], dns: ["edge.example"] },
  });
  const client = issueCertificate(ca, {
    cn: "peer",
    san: { uri: ["sip:peer.example"] },
    eku: ["clientAuth"],
  });
  return {
    caPem: ca.certificatePem,
    serverCertPem: server.certificatePem,
    serverKeyPem: server.privateKeyPem,
    clientCertPem: client.certificatePem,
    clientKeyPem: client.privateKeyPem,
  };
}

function startServer(kind: string, pki: Pki): Promise<RunningServer> {
  return kind === "node" ? startNodeServer(pki) : startSiptrustServer(pki);
}

type Hooked = Record<"admit" | "accept", (...args: unknown[]) => unknown>;

/** Wraps the listener's per-connection entry points to record how long each call takes, in µs. */
function timeListenerCalls(): Record<"admit" | "accept", number[]> {
  const times = { admit: [] as number[], accept: [] as number[] };
  const proto = TlsListener.prototype as unknown as Hooked;
  for (const name of ["admit", "accept"] as const) {
    const original = proto[name];
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        times[name].push(Number(process.hrtime.bigint() - start) / 1000);
      }
    };
  }
  return times;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

/** Self time per function (name and location), in ms, highest first. */
function selfTimes(profile: CpuProfile): Array<{ name: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.replace(/^.*\/(src|node_modules|bench)\//, "$1/");
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<void> {
  const kind = process.argv[2] === "node" ? "node" : "siptrust";
  const seconds = option("seconds", "10");
  const concurrency = option("concurrency", "32");
  const out = option("out", `/tmp/accept-${kind}`);
  const dir = mkdtempSync(join(tmpdir(), "siptrust-profile-accept-"));
  const pki = makePki();
  const pkiFile = join(dir, "pki.json");
  writeFileSync(pkiFile, JSON.stringify(pki), { mode: 0o600 });
  const timing = process.argv.includes("--timing");
  const times = timing ? timeListenerCalls() : undefined;
  const server = await startServer(kind, pki);
  const session = new Session();
  session.connect();
  const load = fork(BENCH, ["rate", String(server.port), pkiFile, seconds, concurrency], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    if (!timing) {
      await post(session, "Profiler.enable");
      await post(session, "Profiler.setSamplingInterval", { interval: 100 });
      await post(session, "Profiler.start");
    }
    const cpuBefore = process.cpuUsage();
    const done = await new Promise<{ completed: number; errors: number; elapsedMs: number }>(
      (resolve, reject) => {
        load.on("message", (m: { type?: string; completed: number; errors: number; elapsedMs: number }) => {
          if (m.type === "rate-done") resolve(m);
        });
        load.once("exit", () => reject(new Error("load generator exited early")));
      },
    );
    const cpu = process.cpuUsage(cpuBefore);
    const perConn = (cpu.user + cpu.system) / Math.max(1, done.completed);
    console.log(
      `${kind}: ${done.completed} connections in ${(done.elapsedMs / 1000).toFixed(1)} s, errors ${done.errors}, ` +
        `server CPU ${perConn.toFixed(0)} µs/conn (user ${(cpu.user / done.completed).toFixed(0)}, ` +
        `system ${(cpu.system / done.completed).toFixed(0)})`,
    );
    if (times) {
      for (const [name, values] of Object.entries(times)) {
        console.log(
          `  ${name}: ${values.length} calls, median ${percentile(values, 0.5).toFixed(1)} µs, ` +
            `p25 ${percentile(values, 0.25).toFixed(1)} µs, p75 ${percentile(values, 0.75).toFixed(1)} µs`,
        );
      }
      return;
    }
    const { profile } = await post<{ profile: CpuProfile }>(session, "Profiler.stop");
    writeFileSync(`${out}.cpuprofile`, JSON.stringify(profile));
    const self = selfTimes(profile);
    const total = self.reduce((n, t) => n + t.ms, 0);
    console.log(`top self time (of ${total.toFixed(0)} ms sampled; profile in ${out}.cpuprofile):`);
    for (const t of self.slice(0, Number(option("top", "30")))) {
      console.log(
        `  ${t.ms.toFixed(1).padStart(8)} ms ${((100 * t.ms) / total).toFixed(1).padStart(5)}%  ${t.name}`,
      );
    }
  } finally {
    if (load.exitCode === null) load.kill("SIGKILL");
    session.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
