/**
 * TLS listener benchmark (`npm run bench:tls`, issue 6 §5; not a test). In one run, against the siptrust
 * TlsListener (client certificate required, verified by pki/chain.ts, RFC 5924 EKU, identities extracted) and a
 * bare Node `tls.createServer` with the same certificate (requestCert, OpenSSL verifying the client chain):
 *
 * 1. new TLS connections/s accepted. Each server runs in its own process, the load generator in another (so
 *    on a 2-core machine each has a core). A connection counts once the server has accepted it — it writes one
 *    CRLF after its own verification — and the client then closes. Rounds alternate node/siptrust. Printed:
 *    connections/s, the server's CPU time per connection (from /proc/<pid>/stat), and both ratios; the CPU
 *    ratio is the capacity ratio even when the load generator, not the server, is the bottleneck.
 * 2. memory for N idle TLS connections (default 20,000): the server's VmRSS after a GC with N connections
 *    held open, minus its VmRSS after a GC before them, divided by N; siptrust minus Node is the listener's own
 *    cost per connection.
 *
 * Loopback only. Client source addresses are spread over 127.0.x.y (ephemeral ports and TIME_WAIT are per
 * source address); the per-address limit (default 200) stays in force. The file-descriptor limit is raised
 * with prlimit (root, or a hard limit high enough); otherwise N is lowered to fit and the output says so.
 * Options: --seconds S (per rate round, default 5), --rounds R (per server, default 2), --concurrency C
 * (default 32), --idle N (default 20000). Every child process is killed in `finally`; a watchdog ends the
 * whole run after 900 s (a busy machine opens 20,000 connections slowly).
 */
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { createCa, issueCertificate } from "../src/pki/issue.js";
import { buildServerProfile } from "../src/tls/server-profile.js";
import { TlsListener } from "../src/transport/tls-listener.js";

type ServerKind = "node" | "siptrust";

interface Pki {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

type ChildMessage =
  | { type: "listening"; port: number }
  | { type: "gc-done" }
  | { type: "rate-done"; completed: number; errors: number; elapsedMs: number }
  | { type: "idle-held"; held: number; errors: number; elapsedMs: number };

const SELF = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const FD_TARGET = 65_536;
const WATCHDOG_MS = 900_000;

// ---------------------------------------------------------------------------------------------------------
// Child roles

/** The same "accepted" signal from both servers: one CRLF (an RFC 5626 pong, harmless on a SIP stream). */
const ACCEPTED = "\r\n";

async function runServer(kind: ServerKind, pki: Pki): Promise<void> {
  const port = kind === "node" ? await nodeServer(pki) : await siptrustServer(pki);
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

function nodeServer(pki: Pki): Promise<number> {
  const server = tls.createServer(
    {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
      ca: [pki.caPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    },
    (socket) => {
      socket.on("error", () => undefined);
      socket.write(ACCEPTED);
    },
  );
  server.on("tlsClientError", (_err, socket) => socket.destroy());
  return listen(server);
}

function siptrustServer(pki: Pki): Promise<number> {
  const profile = buildServerProfile({
    credentials: [{ certPem: pki.serverCertPem, keyPem: pki.serverKeyPem }],
    clientCertificates: "required",
    clientCaPems: [pki.caPem],
  });
  const anchors = [{ cert: new X509Certificate(pki.caPem) }];
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "required", anchors }),
    // Total raised for the idle phase; the per-address limit keeps its default.
    limits: { maxConnections: 50_000 },
    onConnection: (connection) => {
      // Only a verified client with identities reaches here: that is the work being measured.
      if (connection.peer === undefined) throw new Error("accepted without verified identities");
      connection.send(ACCEPTED);
    },
    onMessage: () => undefined,
  });
  return listener.listen().then((a) => a.port);
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
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
  await Promise.all(Array.from({ length: 64 }, worker));
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
  const { child: server, port } = await startServer(kind, pkiFile);
  try {
    const load = startChild(["rate", String(port), pkiFile, String(seconds), String(concurrency)]);
    try {
      const cpuBefore = cpuSeconds(server.pid);
      const done = await load.next("rate-done", (seconds + 30) * 1000);
      const cpu = cpuSeconds(server.pid) - cpuBefore;
      return {
        kind,
        perSecond: done.completed / (done.elapsedMs / 1000),
        cpuUsPerConnection: (cpu * 1e6) / Math.max(1, done.completed),
        serverCpuShare: cpu / (done.elapsedMs / 1000),
        errors: done.errors,
      };
    } finally {
      await load.kill();
    }
  } finally {
    await server.kill();
  }
}

interface MemoryResult {
  readonly kind: ServerKind;
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
  const results = await Promise.all(loads.map((l) => l.next("idle-held", 600_000)));
  return {
    loads,
    held: results.reduce((n, r) => n + r.held, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    openSeconds: (Date.now() - start) / 1000,
  };
}

async function memoryRun(
  kind: ServerKind,
  pkiFile: string,
  count: number,
  block: number,
  perProcess: number,
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
    const idle = await holdIdle(port, pkiFile, count, block, perProcess);
    loads.push(...idle.loads);
    const loadedKiB = await settledRss(server);
    const result: MemoryResult = {
      kind,
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

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

async function rateSection(
  pkiFile: string,
  seconds: number,
  rounds: number,
  concurrency: number,
): Promise<void> {
  console.log(
    `\n1. New TLS connections/s (client certificate, ${seconds} s rounds, ${concurrency} in flight)`,
  );
  const results: RateResult[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const kind of ["node", "siptrust"] as const) {
      const result = await rateRound(kind, pkiFile, seconds, concurrency);
      results.push(result);
      console.log(
        `   round ${r + 1} ${kind.padEnd(8)} ${result.perSecond.toFixed(0).padStart(6)} conn/s  ` +
          `server CPU ${result.cpuUsPerConnection.toFixed(0)} µs/conn (${(result.serverCpuShare * 100).toFixed(0)}% of a core)` +
          `  errors ${result.errors}`,
      );
    }
  }
  const of = (kind: ServerKind) => results.filter((x) => x.kind === kind);
  const rate = (kind: ServerKind) => mean(of(kind).map((x) => x.perSecond));
  const cpu = (kind: ServerKind) => mean(of(kind).map((x) => x.cpuUsPerConnection));
  console.log(
    `   mean: node ${rate("node").toFixed(0)} conn/s, siptrust ${rate("siptrust").toFixed(0)} conn/s`,
  );
  console.log(
    `   ratio siptrust/node, measured rate: ${(rate("siptrust") / rate("node")).toFixed(3)} (target ≥ 0.85)`,
  );
  console.log(
    `   ratio siptrust/node, capacity (node CPU per conn / siptrust CPU per conn): ` +
      `${(cpu("node") / cpu("siptrust")).toFixed(3)}`,
  );
}

async function memorySection(pkiFile: string, idle: number, perProcess: number): Promise<void> {
  console.log(`\n2. Memory for ${idle} idle TLS connections (server VmRSS after GC)`);
  const node = await memoryRun("node", pkiFile, idle, 10, perProcess);
  const siptrust = await memoryRun("siptrust", pkiFile, idle, 20, perProcess);
  for (const m of [node, siptrust]) {
    console.log(
      `   ${m.kind.padEnd(8)} held ${m.held} (errors ${m.errors}, opened in ${m.openSeconds.toFixed(1)} s): ` +
        `RSS ${(m.baselineKiB / 1024).toFixed(1)} → ${(m.loadedKiB / 1024).toFixed(1)} MiB = ` +
        `${m.perConnectionKiB.toFixed(2)} KiB/conn`,
    );
  }
  const beyond = siptrust.perConnectionKiB - node.perConnectionKiB;
  console.log(`   siptrust beyond Node: ${beyond.toFixed(2)} KiB per connection (target < 40 KiB)`);
}

async function orchestrate(): Promise<void> {
  const seconds = option("seconds", 5);
  const rounds = option("rounds", 2);
  const concurrency = option("concurrency", 32);
  let idle = option("idle", 20_000);
  const fdLimit = raiseFdLimit();
  // The server holds every idle connection in one process; load processes split them among themselves.
  const fits = fdLimit - 200;
  if (idle > fits) {
    console.log(
      `file-descriptor limit is ${fdLimit} (cannot be raised here): idle connections lowered to ${fits}`,
    );
    idle = fits;
  }
  const perProcess = Math.min(fdLimit - 500, Math.ceil(idle / 2));
  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog fired after ${WATCHDOG_MS / 1000} s; stopping`);
    for (const c of children) c.process.kill("SIGKILL");
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const dir = mkdtempSync(join(tmpdir(), "siptrust-bench-tls-"));
  try {
    const pkiFile = makePki(dir);
    console.log(
      `siptrust TLS listener vs bare Node tls.createServer (Node ${process.version}, fd limit ${fdLimit})`,
    );
    await rateSection(pkiFile, seconds, rounds, concurrency);
    await memorySection(pkiFile, idle, perProcess);
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
