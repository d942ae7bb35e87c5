/**
 * TLS listener benchmark (`npm run bench:tls`, issue 6 §5; not a test). In one run, against the siptrust
 * TlsListener (client certificate required, verified by pki/chain.ts, RFC 5924 EKU, identities extracted) and a
 * bare Node `tls.createServer` with the same certificate (requestCert, OpenSSL verifying the client chain):
 *
 * 1. new TLS connections/s accepted. Each server runs in its own process with its own load generator in
 *    another. A connection counts once the server has accepted it — it writes one CRLF after its own
 *    verification — and the client then closes. Printed per round: connections/s and the server's CPU time
 *    per connection (from /proc/<pid>/stat); then the median over rounds of the per-round ratios (rate, and
 *    capacity = node CPU per connection / siptrust CPU per connection, which holds even when the load
 *    generator, not the server, is the bottleneck). `--mode parallel` (default) runs both servers and both
 *    load generators at the same time in every round, so a machine shared with other work loads both alike
 *    (the scheduler gives each process the same share); `--mode alternate` runs them one after the other.
 * 2. memory for N idle TLS connections (default 20,000): the server's VmRSS after a GC with N connections
 *    held open, minus its VmRSS after a GC before them, divided by N; siptrust minus Node is the listener's own
 *    cost per connection. The clients are spread over load processes of at most --per-process connections.
 *    In parallel mode both servers hold their connections at the same time.
 *
 * Loopback only. Client source addresses are spread over 127.0.x.y (ephemeral ports and TIME_WAIT are per
 * source address); the per-address limit (default 200) stays in force. The file-descriptor limit is raised
 * with prlimit (root, or a hard limit high enough). The server holds every idle connection in one process:
 * when its limit is too low, N is lowered to the limit minus the descriptors the server already has open
 * (counted in /proc/<pid>/fd) minus a margin of 20, and the output says so.
 * Options: --seconds S (per rate round, default 5), --rounds R (default 5; 0 skips the rate section),
 * --concurrency C (default 32), --mode parallel|alternate, --idle N (default 20000; 0 skips the memory
 * section), --per-process P (default 5000), --watchdog S (default 2400). Every child process is killed in
 * `finally`; the watchdog ends the whole run (a busy machine opens 20,000 connections slowly).
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { createCa, issueCertificate } from "../src/pki/issue.js";
import { startNodeServer, startSiptrustServer, type Pki } from "./tls/servers.js";

type ServerKind = "node" | "siptrust";

type ChildMessage =
  | { type: "listening"; port: number }
  | { type: "gc-done" }
  | { type: "rate-done"; completed: number; errors: number; elapsedMs: number }
  | { type: "idle-held"; held: number; errors: number; elapsedMs: number };

const SELF = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const FD_TARGET = 65_536;
/** Descriptors kept free in the server beyond those it has open before the idle phase. */
const FD_MARGIN = 20;

// ---------------------------------------------------------------------------------------------------------
// Child roles

async function runServer(kind: ServerKind, pki: Pki): Promise<void> {
  const { port } = kind === "node" ? await startNodeServer(pki) : await startSiptrustServer(pki);
  process.on("message", (m: { type?: string }) => {
    if (m.type === "gc") {
      // Two passes: the first can leave garbage reachable only from finalizers.
      globalThis.gc?.();
      globalThis.gc?.();
      process.send?.({ type: "gc-done" });
    }
  });
  process.send?.({ type: "listening", port });
}

/** Source address i of a /16 block `127.<block>.x.y`, skipping .0 and .255. */
function sourceAddress(block: number, i: number): string {
  return `127.${block}.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}

let clientContext: tls.SecureContext | undefined;

/** One connection: resolves with the socket once the server's ACCEPTED arrived, undefined on any failure. */
function connectOnce(port: number, pki: Pki, localAddress: string): Promise<tls.TLSSocket | undefined> {
  // One context for all connections: the load generator should spend its CPU on handshakes, not PEM parsing.
  clientContext ??= tls.createSecureContext({ cert: pki.clientCertPem, key: pki.clientKeyPem });
  return new Promise((resolve) => {
    const tcp = net.connect({ host: "127.0.0.1", port, localAddress });
    const socket = tls.connect({
      socket: tcp,
      secureContext: clientContext,
      // The client does not verify the server: the benchmark measures the server side.
      rejectUnauthorized: false,
    });
    const fail = (): void => {
      socket.destroy();
      resolve(undefined);
    };
    socket.once("data", () => resolve(socket));
    socket.once("error", fail);
    socket.once("close", fail);
    socket.setTimeout(15_000, fail);
  });
}

async function runRateLoad(port: number, pki: Pki, seconds: number, concurrency: number): Promise<void> {
  let completed = 0;
  let errors = 0;
  let next = 0;
  const start = Date.now();
  const deadline = start + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      // 254 × 40 source addresses: a fresh 4-tuple space per address, no TIME_WAIT collisions.
      const socket = await connectOnce(port, pki, sourceAddress(1, next++ % 10_000));
      if (socket === undefined) errors++;
      else {
        completed++;
        socket.setTimeout(0);
        socket.removeAllListeners("close");
        socket.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.send?.({ type: "rate-done", completed, errors, elapsedMs: Date.now() - start });
}

async function runIdleLoad(port: number, pki: Pki, count: number, block: number): Promise<void> {
  const held: tls.TLSSocket[] = [];
  let errors = 0;
  let next = 0;
  const start = Date.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      // 80 connections per source address: under the listener's per-address limit of 200.
      const socket = await connectOnce(port, pki, sourceAddress(block, Math.floor(i / 80)));
      if (socket === undefined) errors++;
      else {
        socket.setTimeout(0);
        held.push(socket);
      }
    }
  };
  // Few in flight per process: several load processes share one server, and a handshake that queues longer
  // than the listener's handshake timeout (10 s) would count as an error, not as a held connection.
  await Promise.all(Array.from({ length: 16 }, worker));
  process.send?.({ type: "idle-held", held: held.length, errors, elapsedMs: Date.now() - start });
}

// ---------------------------------------------------------------------------------------------------------
// Orchestrator

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  next<T extends ChildMessage["type"]>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>>;
  kill(): Promise<void>;
}

const children = new Set<Child>();

function startChild(args: string[], execArgv: string[] = []): Child {
  const child = fork(SELF, args, {
    cwd: REPO,
    execArgv: ["--import", "tsx", ...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${args.join(" ")}`);
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const handle: Child = {
    process: child,
    pid: child.pid,
    next: (type, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
        const onMessage = (m: ChildMessage): void => {
          if (m.type !== type) return;
          child.off("message", onMessage);
          clearTimeout(timer);
          resolve(m as never);
        };
        child.on("message", onMessage);
        void exit.then(() => reject(new Error(`${args[0]} exited before ${type}`)));
      }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exit;
      children.delete(handle);
    },
  };
  children.add(handle);
  return handle;
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? NaN);
}

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startServer(kind: ServerKind, pkiFile: string): Promise<{ child: Child; port: number }> {
  const child = startChild(["server", kind, pkiFile], ["--expose-gc"]);
  const { port } = await child.next("listening", 30_000);
  return { child, port };
}

interface RateResult {
  readonly kind: ServerKind;
  readonly perSecond: number;
  readonly cpuUsPerConnection: number;
  readonly serverCpuShare: number;
  readonly errors: number;
}

async function rateRound(
  kind: ServerKind,
  pkiFile: string,
  seconds: number,
  concurrency: number,
): Promise<RateResult> {
  const [result] = await rateTogether([kind], pkiFile, seconds, concurrency);
  return result as RateResult;
}

/** One round with every server of `kinds` loaded at the same time, each by its own load generator. */
async function rateTogether(
  kinds: readonly ServerKind[],
  pkiFile: string,
  seconds: number,
  concurrency: number,
): Promise<RateResult[]> {
  const servers: Child[] = [];
  const loads: Child[] = [];
  try {
    const ports: number[] = [];
    for (const kind of kinds) {
      const { child, port } = await startServer(kind, pkiFile);
      servers.push(child);
      ports.push(port);
    }
    const cpuBefore = servers.map((s) => cpuSeconds(s.pid));
    for (const port of ports) {
      loads.push(startChild(["rate", String(port), pkiFile, String(seconds), String(concurrency)]));
    }
    const done = await Promise.all(loads.map((l) => l.next("rate-done", (seconds + 60) * 1000)));
    return kinds.map((kind, i) => {
      const cpu = cpuSeconds((servers[i] as Child).pid) - (cpuBefore[i] ?? 0);
      const d = done[i] as Extract<ChildMessage, { type: "rate-done" }>;
      return {
        kind,
        perSecond: d.completed / (d.elapsedMs / 1000),
        cpuUsPerConnection: (cpu * 1e6) / Math.max(1, d.completed),
        serverCpuShare: cpu / (d.elapsedMs / 1000),
        errors: d.errors,
      };
    });
  } finally {
    for (const l of loads) await l.kill();
    for (const s of servers) await s.kill();
  }
}

interface MemoryResult {
  readonly kind: ServerKind;
  /** Connections asked for (after the fd budget) and descriptors the server had open while holding them. */
  readonly wanted: number;
  readonly serverFds: number;
  readonly held: number;
  readonly errors: number;
  readonly baselineKiB: number;
  readonly loadedKiB: number;
  readonly perConnectionKiB: number;
  readonly openSeconds: number;
}

async function settledRss(server: Child): Promise<number> {
  server.process.send({ type: "gc" });
  await server.next("gc-done", 30_000);
  await new Promise((r) => setTimeout(r, 500));
  return rssKiB(server.pid);
}

/** Starts enough idle-load processes (each under the fd limit) to hold `count` connections together. */
async function holdIdle(port: number, pkiFile: string, count: number, block: number, perProcess: number) {
  const loads: Child[] = [];
  for (let k = 0, left = count; left > 0; k++, left -= perProcess) {
    const share = String(Math.min(left, perProcess));
    loads.push(
      startChild(["idle", String(port), pkiFile, share, String(block + k)], ["--max-old-space-size=8192"]),
    );
  }
  const start = Date.now();
  const results = await Promise.all(loads.map((l) => l.next("idle-held", 3_600_000)));
  return {
    loads,
    held: results.reduce((n, r) => n + r.held, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    openSeconds: (Date.now() - start) / 1000,
  };
}

/** Descriptors `pid` has open now. */
function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function memoryRun(
  kind: ServerKind,
  pkiFile: string,
  wanted: number,
  block: number,
  perProcess: number,
  fdLimit: number,
) {
  const { child: server, port } = await startServer(kind, pkiFile);
  const loads: Child[] = [];
  try {
    // Warm-up: the same code paths once, so the baseline includes them; then closed.
    const warm = startChild(["idle", String(port), pkiFile, "200", String(block + 50)]);
    loads.push(warm);
    await warm.next("idle-held", 60_000);
    await warm.kill();
    await new Promise((r) => setTimeout(r, 500));
    const baselineKiB = await settledRss(server);
    const serverFds = openFds(server.pid);
    const count = Math.min(wanted, fdLimit - serverFds - FD_MARGIN);
    if (count < wanted) {
      console.log(
        `   ${kind}: fd limit ${fdLimit}, server has ${serverFds} open: holding ${count} instead of ${wanted}`,
      );
    }
    const idle = await holdIdle(port, pkiFile, count, block, perProcess);
    loads.push(...idle.loads);
    const loadedKiB = await settledRss(server);
    const result: MemoryResult = {
      kind,
      wanted: count,
      serverFds: openFds(server.pid),
      held: idle.held,
      errors: idle.errors,
      baselineKiB,
      loadedKiB,
      perConnectionKiB: (loadedKiB - baselineKiB) / Math.max(1, idle.held),
      openSeconds: idle.openSeconds,
    };
    return result;
  } finally {
    for (const l of loads) await l.kill();
    await server.kill();
  }
}

/** Raises this process's NOFILE limit (children inherit it) as far as allowed; returns the soft limit. */
function raiseFdLimit(): number {
  const pid = `--pid=${process.pid}`;
  const raised = spawnSync("prlimit", [pid, `--nofile=${FD_TARGET}:${FD_TARGET}`], { stdio: "ignore" });
  if (raised.status !== 0) {
    // A container may forbid raising the hard limit (EPERM even as root): raise the soft one to it.
    const hard = spawnSync("prlimit", [pid, "--nofile", "--raw", "--noheadings", "--output=HARD"], {
      encoding: "utf8",
    });
    spawnSync("prlimit", [pid, `--nofile=${hard.stdout.trim()}:`], { stdio: "ignore" });
  }
  const soft = spawnSync("prlimit", [pid, "--nofile", "--raw", "--noheadings", "--output=SOFT"], {
    encoding: "utf8",
  });
  const value = Number(soft.stdout.trim());
  return Number.isFinite(value) && value > 0 ? value : 1024;
}

function makePki(dir: string): string {
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
  const pki: Pki = {
    caPem: ca.certificatePem,
    serverCertPem: server.certificatePem,
    serverKeyPem: server.privateKeyPem,
    clientCertPem: client.certificatePem,
    clientKeyPem: client.privateKeyPem,
  };
  const file = join(dir, "pki.json");
  writeFileSync(file, JSON.stringify(pki), { mode: 0o600 });
  return file;
}

function option(name: string, fallback: number, allowZero = false): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero))
    throw new Error(`--${name} needs a positive number`);
  return value;
}

function textOption<T extends string>(name: string, allowed: readonly T[]): T {
  const i = process.argv.indexOf(`--${name}`);
  const value = (i >= 0 ? process.argv[i + 1] : allowed[0]) as T;
  if (!allowed.includes(value)) throw new Error(`--${name} is one of ${allowed.join(", ")}`);
  return value;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

async function rateSection(
  pkiFile: string,
  seconds: number,
  rounds: number,
  concurrency: number,
  mode: "parallel" | "alternate",
): Promise<void> {
  console.log(
    `\n1. New TLS connections/s (client certificate, ${seconds} s rounds, ${concurrency} in flight, ${mode})`,
  );
  const pairs: Array<{ node: RateResult; siptrust: RateResult }> = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate mode swaps the order every round, so that neither server always runs first.
    const order: ServerKind[] = r % 2 === 0 ? ["node", "siptrust"] : ["siptrust", "node"];
    const results =
      mode === "parallel"
        ? await rateTogether(order, pkiFile, seconds, concurrency)
        : [
            await rateRound(order[0] as ServerKind, pkiFile, seconds, concurrency),
            await rateRound(order[1] as ServerKind, pkiFile, seconds, concurrency),
          ];
    const node = results.find((x) => x.kind === "node") as RateResult;
    const siptrust = results.find((x) => x.kind === "siptrust") as RateResult;
    pairs.push({ node, siptrust });
    for (const result of [node, siptrust]) {
      console.log(
        `   round ${r + 1} ${result.kind.padEnd(8)} ${result.perSecond.toFixed(0).padStart(6)} conn/s  ` +
          `server CPU ${result.cpuUsPerConnection.toFixed(0)} µs/conn (${(result.serverCpuShare * 100).toFixed(0)}% of a core)` +
          `  errors ${result.errors}`,
      );
    }
    console.log(
      `   round ${r + 1} ratio    rate ${(siptrust.perSecond / node.perSecond).toFixed(3)}, ` +
        `capacity ${(node.cpuUsPerConnection / siptrust.cpuUsPerConnection).toFixed(3)}`,
    );
  }
  const rate = (kind: ServerKind) => mean(pairs.map((p) => p[kind].perSecond));
  const cpu = (kind: ServerKind) => mean(pairs.map((p) => p[kind].cpuUsPerConnection));
  console.log(
    `   mean: node ${rate("node").toFixed(0)} conn/s ${cpu("node").toFixed(0)} µs/conn, ` +
      `siptrust ${rate("siptrust").toFixed(0)} conn/s ${cpu("siptrust").toFixed(0)} µs/conn`,
  );
  const rateRatios = pairs.map((p) => p.siptrust.perSecond / p.node.perSecond);
  const cpuRatios = pairs.map((p) => p.node.cpuUsPerConnection / p.siptrust.cpuUsPerConnection);
  console.log(
    `   ratio siptrust/node, measured rate: median ${median(rateRatios).toFixed(3)} of rounds, ` +
      `${(rate("siptrust") / rate("node")).toFixed(3)} of means (target ≥ 0.85)`,
  );
  console.log(
    `   ratio siptrust/node, capacity (node CPU per conn / siptrust CPU per conn): ` +
      `median ${median(cpuRatios).toFixed(3)} of rounds, ${(cpu("node") / cpu("siptrust")).toFixed(3)} of means`,
  );
}

async function memorySection(
  pkiFile: string,
  idle: number,
  perProcess: number,
  fdLimit: number,
  mode: "parallel" | "alternate",
): Promise<void> {
  console.log(
    `\n2. Memory for ${idle} idle TLS connections (server VmRSS after GC; clients in processes of ≤ ${perProcess})`,
  );
  // Parallel mode holds both sets at once (each server is its own process, RSS is per process): half the
  // time on a machine where opening 20,000 connections per server takes minutes.
  const [node, siptrust] =
    mode === "parallel"
      ? await Promise.all([
          memoryRun("node", pkiFile, idle, 10, perProcess, fdLimit),
          memoryRun("siptrust", pkiFile, idle, 20, perProcess, fdLimit),
        ])
      : [
          await memoryRun("node", pkiFile, idle, 10, perProcess, fdLimit),
          await memoryRun("siptrust", pkiFile, idle, 20, perProcess, fdLimit),
        ];
  for (const m of [node, siptrust]) {
    console.log(
      `   ${m.kind.padEnd(8)} held ${m.held} of ${m.wanted} (errors ${m.errors}, server fds ${m.serverFds}, ` +
        `opened in ${m.openSeconds.toFixed(1)} s): ` +
        `RSS ${(m.baselineKiB / 1024).toFixed(1)} → ${(m.loadedKiB / 1024).toFixed(1)} MiB = ` +
        `${m.perConnectionKiB.toFixed(2)} KiB/conn`,
    );
  }
  const beyond = siptrust.perConnectionKiB - node.perConnectionKiB;
  console.log(`   siptrust beyond Node: ${beyond.toFixed(2)} KiB per connection (target < 40 KiB)`);
}

async function orchestrate(): Promise<void> {
  const seconds = option("seconds", 5);
  const rounds = option("rounds", 5, true);
  const concurrency = option("concurrency", 32);
  const mode = textOption("mode", ["parallel", "alternate"] as const);
  const idle = option("idle", 20_000, true);
  const watchdogMs = option("watchdog", 2400) * 1000;
  const fdLimit = raiseFdLimit();
  // Each load process holds its share plus a few descriptors of its own.
  const perProcess = Math.min(fdLimit - 100, option("per-process", 5000));
  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog fired after ${watchdogMs / 1000} s; stopping`);
    for (const c of children) c.process.kill("SIGKILL");
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();
  const dir = mkdtempSync(join(tmpdir(), "siptrust-bench-tls-"));
  try {
    const pkiFile = makePki(dir);
    console.log(
      `siptrust TLS listener vs bare Node tls.createServer (Node ${process.version}, fd limit ${fdLimit})`,
    );
    if (rounds > 0) await rateSection(pkiFile, seconds, rounds, concurrency, mode);
    if (idle > 0) await memorySection(pkiFile, idle, perProcess, fdLimit, mode);
  } finally {
    for (const c of [...children]) await c.kill();
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

async function main(): Promise<void> {
  const [role, ...args] = process.argv.slice(2);
  if (process.send !== undefined) {
    // A child role: the orchestrator owns it; when the IPC channel closes (end, crash, ^C), stop.
    process.on("disconnect", () => process.exit(0));
  } else {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        for (const c of children) c.process.kill("SIGKILL");
        process.exit(1);
      });
    }
  }
  const readPki = (file: string | undefined): Pki => JSON.parse(readFileSync(file ?? "", "utf8")) as Pki;
  if (role === "server") await runServer(args[0] as ServerKind, readPki(args[1]));
  else if (role === "rate")
    await runRateLoad(Number(args[0]), readPki(args[1]), Number(args[2]), Number(args[3]));
  else if (role === "idle")
    await runIdleLoad(Number(args[0]), readPki(args[1]), Number(args[2]), Number(args[3]));
  else await orchestrate();
}

main().catch((err: unknown) => {
  console.error(err);
  for (const c of children) c.process.kill("SIGKILL");
  process.exit(1);
});
