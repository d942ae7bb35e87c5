/**
 * `siptrust serve [--config F] [--data-dir D] [--workers N]`: runs the edge until SIGTERM/SIGINT.
 *
 * - With `--config`: that file (docs/config.md). Without: the embedded default (src/cli/embedded-default.ts),
 *   a development PKI and configuration under the data directory; `--listen/--inner/--inside/--admin`
 *   override its addresses (tests use port 0).
 * - SIGHUP reloads the configuration (refused reloads are logged with every problem; the old one serves).
 * - SIGTERM/SIGINT: graceful stop — no new requests, running transactions get `--grace` ms — then exit 0.
 * - `--workers N` (N > 1): node:cluster, one edge per worker (see runWorkers below, docs/operations.md).
 */
import cluster, { type Worker } from "node:cluster";
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { ConfigError, formatProblem } from "../../config/config-error.js";
import { ConfigStore } from "../../config/config-store.js";
import { proxyConfigSource } from "../../config/edge-source.js";
import { prepareConfigFile } from "../../config/prepare-config.js";
import { EdgeProxy, type EdgeProxyAddresses } from "../../proxy/edge-proxy.js";
import { createProxyLogger } from "../../proxy/wiring/logger.js";
import { EdgeConfigError, installReloadSignal } from "../../transport/edge-runtime.js";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import {
  DEFAULT_DATA_DIR,
  EMBEDDED_DEFAULTS,
  embeddedBanner,
  prepareEmbeddedDefault,
  SERVER_NAME,
  writeTryItFiles,
  type EmbeddedSetup,
  type HostPort,
} from "../embedded-default.js";

export interface ServeOptions {
  readonly config?: string;
  readonly dataDir: string;
  readonly workers: number;
  readonly listen?: HostPort;
  readonly inner?: HostPort;
  readonly inside?: HostPort;
  /** undefined = default; null = no admin API. */
  readonly admin?: HostPort | null;
  readonly graceMs: number;
  readonly logLevel: string;
  /** Worker index under --workers: shifts the inside and admin ports by this much. */
  readonly workerIndex?: number;
}

export interface ServeHandle {
  readonly proxy: EdgeProxy;
  readonly addresses: EdgeProxyAddresses;
  readonly setup?: EmbeddedSetup;
  stop(): Promise<void>;
}

export interface ServeIo {
  readonly out: (text: string) => void;
  /** Log lines (pino); default stdout. */
  readonly log?: (line: string) => void;
  readonly pretty?: boolean;
}

interface ServeFlags {
  config?: string;
  dataDir: string;
  workers: string;
  listen?: string;
  inner?: string;
  inside?: string;
  admin?: string;
  grace: string;
  logLevel: string;
}

export function registerServeCommands(program: Command): void {
  program
    .command("serve")
    .description("run the SIP/TLS edge proxy (without --config: a development edge with its own PKI)")
    .option("--config <file>", "YAML configuration (docs/config.md); default: the embedded default")
    .option(
      "--data-dir <dir>",
      "embedded default: where the development PKI and config live",
      DEFAULT_DATA_DIR,
    )
    .option("--workers <n>", "processes (node:cluster), each with its own inside port; 1 = no cluster", "1")
    .option("--listen <host:port>", "embedded default: TLS listener (default 127.0.0.1:5061)")
    .option("--inner <host:port>", "embedded default: inner SIP server, UDP (default 127.0.0.1:5060)")
    .option(
      "--inside <host:port>",
      "the edge's inside socket, replacing proxy.inside (default 127.0.0.1:5080)",
    )
    .option("--admin <host:port|off>", "admin API, replacing the admin section (default 127.0.0.1:8061)")
    .option("--grace <ms>", "graceful-stop bound for running transactions", "5000")
    .option("--log-level <level>", "pino level: trace, debug, info, warn, error", "info")
    .action(serveAction);
}

async function serveAction(flags: ServeFlags): Promise<void> {
  const options = parseFlags(flags);
  if (options.workers > 1 && cluster.isPrimary) process.exitCode = await runWorkers(options);
  else if (options.workers > 1) process.exitCode = await serveUntilSignal(workerOptions(options));
  else process.exitCode = await serveUntilSignal(options);
  // Everything was closed within the bound; a peer that never closes its end must not keep the process up.
  setTimeout(() => process.exit(), EXIT_ALLOWANCE_MS).unref();
}

const EXIT_ALLOWANCE_MS = 500;

/** Serves until SIGTERM/SIGINT; SIGHUP reloads. Resolves with the exit code. */
export async function serveUntilSignal(options: ServeOptions): Promise<number> {
  let handle: ServeHandle;
  try {
    handle = await startServe(options, { out: (text) => void process.stdout.write(text) });
  } catch (err) {
    return reportStartFailure(err);
  }
  const removeReload = installReloadSignal(handle.proxy, {
    onResult: (result) => {
      if (!result.ok) process.stderr.write(`${result.problems.map(formatProblem).join("\n")}\n`);
    },
  });
  await new Promise<void>((resolve) => {
    const onStop = (): void => {
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      resolve();
    };
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
  });
  removeReload();
  await handle.stop();
  return EXIT_OK;
}

/** Builds and starts the edge (embedded default when no config is given). The caller stops it. */
export async function startServe(options: ServeOptions, io: ServeIo): Promise<ServeHandle> {
  if (options.config !== undefined && !existsSync(options.config)) {
    throw new UsageError(`${options.config}: no such file`);
  }
  const setup = options.config === undefined ? embeddedSetup(options) : undefined;
  const file = options.config ?? (setup as EmbeddedSetup).configFile;
  const store = new ConfigStore(prepareConfigFile(file), () => prepareConfigFile(file));
  const logger = createProxyLogger({
    level: options.logLevel,
    ...(io.log ? { write: io.log } : {}),
    ...(io.pretty !== undefined ? { pretty: io.pretty } : {}),
  });
  const source = proxyConfigSource(store, {
    portOffset: options.workerIndex ?? 0,
    ...(options.inside ? { inside: options.inside } : {}),
    ...(options.admin !== undefined ? { admin: options.admin } : {}),
    ...(setup ? { extraLocalNames: [SERVER_NAME] } : {}),
  });
  if (options.workers > 1 && source.proxy.inside.port === 0) {
    throw new UsageError("--workers needs a fixed inside port (each worker binds port + index)");
  }
  const proxy = new EdgeProxy(source, { logger });
  const addresses = await proxy.start();
  if (setup) io.out(banner(setup, addresses, options));
  if (cluster.isWorker)
    process.send?.({ type: READY, index: options.workerIndex, addresses: plain(addresses) });
  return {
    proxy,
    addresses,
    ...(setup ? { setup } : {}),
    stop: () => proxy.stop(options.graceMs),
  };
}

function embeddedSetup(options: ServeOptions): EmbeddedSetup {
  const admin = options.admin === null ? undefined : (options.admin ?? EMBEDDED_DEFAULTS.admin);
  return prepareEmbeddedDefault({
    dataDir: options.dataDir,
    listen: options.listen ?? EMBEDDED_DEFAULTS.listen,
    inner: options.inner ?? EMBEDDED_DEFAULTS.inner,
    inside: options.inside ?? EMBEDDED_DEFAULTS.inside,
    ...(admin ? { admin } : {}),
  });
}

function banner(setup: EmbeddedSetup, addresses: EdgeProxyAddresses, options: ServeOptions): string {
  const listen = addresses.listeners.values().next().value as { address: string; port: number };
  const running = {
    listen: { host: listen.address, port: listen.port },
    inside: { host: addresses.inside.address, port: addresses.inside.port },
    ...(addresses.admin ? { admin: { host: addresses.admin.address, port: addresses.admin.port } } : {}),
  };
  const files = writeTryItFiles(setup, running);
  return embeddedBanner(setup, running, files, options.inner ?? EMBEDDED_DEFAULTS.inner);
}

function reportStartFailure(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(
      `siptrust serve: configuration refused\n${err.problems.map(formatProblem).join("\n")}\n`,
    );
    return EXIT_NO;
  }
  if (err instanceof EdgeConfigError) {
    process.stderr.write(`siptrust serve: ${err.message}\n`);
    return EXIT_NO;
  }
  if (err instanceof UsageError) throw err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
    process.stderr.write(`siptrust serve: cannot bind: ${e.message}\n`);
    return EXIT_NO;
  }
  throw err;
}

function parseFlags(flags: ServeFlags): ServeOptions {
  const workers = integer(flags.workers, "--workers", 1, 256);
  return {
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    dataDir: flags.dataDir,
    workers,
    ...(flags.listen !== undefined ? { listen: hostPort(flags.listen, "--listen") } : {}),
    ...(flags.inner !== undefined ? { inner: hostPort(flags.inner, "--inner") } : {}),
    ...(flags.inside !== undefined ? { inside: hostPort(flags.inside, "--inside") } : {}),
    ...(flags.admin !== undefined
      ? { admin: flags.admin === "off" ? null : hostPort(flags.admin, "--admin") }
      : {}),
    graceMs: integer(flags.grace, "--grace", 0, 600_000),
    logLevel: logLevel(flags.logLevel),
  };
}

/** `host:port` or `[v6]:port`; port 0 = any free port. */
export function hostPort(text: string, flag: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`${flag} must be host:port, got "${text}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function integer(text: string, flag: string, min: number, max: number): number {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be an integer in ${min}..${max}`);
  return n;
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

function logLevel(text: string): string {
  if (!LEVELS.includes(text)) throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`);
  return text;
}

// ---- workers (node:cluster) ------------------------------------------------------------------------------
//
// The primary binds nothing itself: it prepares the embedded default once (so workers never race on the PKI),
// forks N workers running this same command, and relays signals. Each worker runs a whole EdgeProxy:
// - the TLS listeners are shared through the cluster (round-robin accept by the primary on Linux);
// - the inside UDP/TCP port is `inside.port + index`, so the inner server's responses (RFC 3261 §18.2.2, Via
//   sent-by) return to the worker that holds the transaction; port 0 is refused (cluster would share one
//   random UDP socket between workers);
// - the admin API, when enabled, listens on `admin.port + index` (per-worker counters; scrape every worker).
// A worker that dies is restarted with the same index after a short back-off.

const READY = "siptrust-worker-ready";
const ENV_INDEX = "SIPTRUST_WORKER_INDEX";
const ENV_CONFIG = "SIPTRUST_WORKER_CONFIG";
const RESTART_DELAY_MS = 1000;

function workerOptions(options: ServeOptions): ServeOptions {
  const index = Number(process.env[ENV_INDEX] ?? "0");
  const config = process.env[ENV_CONFIG] ?? options.config;
  return { ...options, ...(config !== undefined ? { config } : {}), workerIndex: index };
}

async function runWorkers(options: ServeOptions): Promise<number> {
  if (options.inside?.port === 0) {
    throw new UsageError("--workers needs a fixed --inside port (each worker binds port + index)");
  }
  const setup = options.config === undefined ? embeddedSetup(options) : undefined;
  const config = options.config ?? (setup as EmbeddedSetup).configFile;
  // Checked once here, so that a bad file is one clear error, not N workers failing in turn.
  const refused = checkConfigFile(config);
  if (refused !== undefined) return refused;
  const run = new WorkerSet(options, config, setup);
  for (let i = 0; i < options.workers; i++) run.fork(i);
  const reload = (): void => run.signal("SIGHUP");
  process.on("SIGHUP", reload);
  const why = await Promise.race([untilStopSignal().then(() => "signal" as const), run.failed]);
  process.off("SIGHUP", reload);
  await run.stop(options.graceMs + 2000);
  return why === "signal" ? EXIT_OK : EXIT_NO;
}

function checkConfigFile(file: string): number | undefined {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  try {
    prepareConfigFile(file);
    return undefined;
  } catch (err) {
    return reportStartFailure(err);
  }
}

function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const onStop = (): void => {
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      resolve();
    };
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
  });
}

/**
 * The workers of one `serve --workers N`. A worker that dies after it was ready is restarted with its index;
 * one that dies before it ever got ready (cannot bind, bad file) is a start failure: everything stops.
 */
class WorkerSet {
  private readonly workers = new Map<number, Worker>();
  private readonly everReady = new Set<number>();
  private stopping = false;
  private fail: (why: "start-failed") => void = () => undefined;
  readonly failed = new Promise<"start-failed">((resolve) => (this.fail = resolve));

  constructor(
    private readonly options: ServeOptions,
    private readonly config: string,
    private readonly setup: EmbeddedSetup | undefined,
  ) {}

  fork(index: number): void {
    const worker = cluster.fork({ [ENV_INDEX]: String(index), [ENV_CONFIG]: this.config });
    this.workers.set(index, worker);
    worker.on("message", (m: { type?: string; addresses?: PlainAddresses }) => {
      if (m.type === READY && m.addresses) this.ready(index, worker, m.addresses);
    });
    worker.on("exit", (code, signal) => {
      this.workers.delete(index);
      if (this.stopping) return;
      if (!this.everReady.has(index)) {
        process.stderr.write(`siptrust: worker ${index} failed to start (${signal ?? code}); stopping\n`);
        this.fail("start-failed");
        return;
      }
      process.stderr.write(`siptrust: worker ${index} exited (${signal ?? code}); restarting\n`);
      setTimeout(() => !this.stopping && this.fork(index), RESTART_DELAY_MS).unref();
    });
  }

  signal(signal: NodeJS.Signals): void {
    for (const w of this.workers.values()) w.process.kill(signal);
  }

  async stop(boundMs: number): Promise<void> {
    this.stopping = true;
    await stopWorkers([...this.workers.values()], boundMs);
  }

  private ready(index: number, worker: Worker, addresses: PlainAddresses): void {
    const first = !this.everReady.has(index);
    this.everReady.add(index);
    process.stdout.write(
      `siptrust: worker ${index} (pid ${worker.process.pid}) ready: ${describe(addresses)}\n`,
    );
    if (first && index === 0 && this.setup) {
      process.stdout.write(banner(this.setup, fromPlain(addresses), this.options));
    }
  }
}

/** SIGTERM to every worker (each stops gracefully); SIGKILL for any still running after `boundMs`. */
async function stopWorkers(workers: readonly Worker[], boundMs: number): Promise<void> {
  const exits = workers.map(
    (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", () => resolve()))),
  );
  for (const w of workers) w.process.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const w of workers) if (!w.isDead()) w.process.kill("SIGKILL");
  }, boundMs);
  await Promise.all(exits);
  clearTimeout(timer);
}

interface PlainAddresses {
  readonly listeners: Array<[string, { address: string; port: number }]>;
  readonly inside: EdgeProxyAddresses["inside"];
  readonly admin?: { address: string; port: number };
}

function plain(a: EdgeProxyAddresses): PlainAddresses {
  return { listeners: [...a.listeners], inside: a.inside, ...(a.admin ? { admin: a.admin } : {}) };
}

function fromPlain(a: PlainAddresses): EdgeProxyAddresses {
  return { listeners: new Map(a.listeners), inside: a.inside, ...(a.admin ? { admin: a.admin } : {}) };
}

function describe(a: PlainAddresses): string {
  const tls = a.listeners.map(([name, l]) => `${name} ${l.address}:${l.port}`).join(", ");
  const admin = a.admin ? `, admin ${a.admin.address}:${a.admin.port}` : "";
  return `TLS ${tls}; inside ${a.inside.address}:${a.inside.port}/${a.inside.transport.toUpperCase()}${admin}`;
}
