/**
 * The daemon (`siptrust serve`): the TLS edge outside, the inner UDP/TCP side, verified outbound TLS, the
 * transaction-stateful proxy core between them, accounting and the admin API — built from one configuration
 * source and reloaded as one (DESIGN.md "Revocation and reload").
 *
 * Reload is the configuration store's two-phase swap: the TLS edge and this proxy both stage the new
 * generation, and either can refuse it with every problem listed; only then does each commit (new policy
 * on the core, new trust for the outbound connections, accounting file reopened). Things bound at start —
 * the inside socket, the admin socket, the identity header name, transaction timers and limits — cannot be
 * changed by a reload (like the listeners' sockets): such a reload is refused with a "restart" problem.
 *
 * Graceful stop (SIGTERM): the core stops taking new requests (503) and lets running transactions finish
 * within the grace period; then every socket closes. The whole stop is bounded by `graceMs` plus a short
 * close allowance.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { SipMessage } from "../sip/index.js";
import { Counters } from "../transport/counters.js";
import {
  TlsEdge,
  type EdgeReloadResult,
  type StageProblem,
  type StageResult,
} from "../transport/edge-runtime.js";
import { OutboundConnections } from "../transport/outbound-connections.js";
import type { InboundConnection, TransportLogger } from "../transport/tls-listener.js";
import type { OcspFetcher } from "../tls/ocsp-fetch.js";
import { AccountingWriter } from "./accounting/accounting-writer.js";
import {
  AdminServer,
  inboundConnectionView,
  outboundConnectionView,
  type AdminTarget,
  type ConnectionView,
  type HealthReport,
} from "./admin/index.js";
import { ProxyCore, type Flow, type TransactionSummary } from "./core/index.js";
import { createRequestPolicy } from "./policy/request-policy.js";
import type { Clock } from "./transactions/index.js";
import { WiredHops } from "./wiring/hop-provider.js";
import { InboundFlows } from "./wiring/inbound-flows.js";
import { InnerSide } from "./wiring/inner-side.js";
import { localInterfaces } from "./wiring/local-interfaces.js";
import { createProxyLogger } from "./wiring/logger.js";
import { OutboundFlows } from "./wiring/outbound-flows.js";
import type { ProxyConfigSource, ProxySettings } from "./wiring/proxy-settings.js";

export type { ProxyConfigSource, ProxySettings } from "./wiring/proxy-settings.js";

export interface EdgeProxyOptions {
  readonly logger?: Logger | TransportLogger;
  readonly counters?: Counters;
  readonly ocspFetch?: OcspFetcher;
  readonly clock?: Clock;
}

export interface EdgeProxyAddresses {
  readonly listeners: ReadonlyMap<string, { readonly address: string; readonly port: number }>;
  readonly inside: { readonly address: string; readonly port: number; readonly transport: "udp" | "tcp" };
  readonly admin?: { readonly address: string; readonly port: number };
}

/** Time given to sockets to close after the transactions' grace period. */
const CLOSE_ALLOWANCE_MS = 1000;

type State = "new" | "starting" | "running" | "stopping" | "stopped";

export class EdgeProxy {
  readonly counters: Counters;
  readonly logger: TransportLogger;
  private readonly edge: TlsEdge;
  private readonly inner: InnerSide;
  private readonly inbound: InboundFlows;
  private readonly outboundFlows = new OutboundFlows();
  private readonly hops: WiredHops;
  private readonly openedAt = new WeakMap<InboundConnection, number>();
  private settings: ProxySettings;
  private outbound: OutboundConnections | undefined;
  private accounting: AccountingWriter | undefined;
  private admin: AdminServer | undefined;
  private core: ProxyCore | undefined;
  private state: State = "new";
  private startedAt = 0;
  private addresses: EdgeProxyAddresses | undefined;

  constructor(
    private readonly source: ProxyConfigSource,
    private readonly options: EdgeProxyOptions = {},
  ) {
    this.counters = options.counters ?? new Counters();
    this.logger = options.logger ?? createProxyLogger();
    this.settings = source.proxy;
    this.edge = new TlsEdge(source, {
      logger: this.logger,
      counters: this.counters,
      ...(options.ocspFetch ? { ocspFetch: options.ocspFetch } : {}),
      onMessage: (connection, message) => this.receive(this.inbound.flowFor(connection), message),
      onConnection: (connection) => this.openedAt.set(connection, Date.now()),
    });
    this.inbound = new InboundFlows({
      names: () => this.edge.settings.listeners.map((l) => l.name),
      connectionsOf: (name) => this.edge.listener(name)?.connections,
      caSetOf: (name) => this.edge.settings.listeners.find((l) => l.name === name)?.clientCa?.name,
    });
    this.inner = new InnerSide({
      host: this.settings.inside.host,
      port: this.settings.inside.port,
      transport: this.settings.inside.transport,
      onMessage: (flow, message) => this.receive(flow, message),
      onFlowFailed: (flow) => this.core?.flowFailed(flow),
      counters: this.counters,
      logger: this.logger,
    });
    this.hops = new WiredHops({
      innerServers: () => this.settings.innerServers,
      inner: this.inner,
      outbound: () => this.outbound,
      outboundFlows: this.outboundFlows,
      inbound: this.inbound,
    });
    source.participateProxy((next) => this.stage(next));
  }

  get generation(): number {
    return this.edge.generation;
  }

  /** Binds everything; the edge serves once this resolves. A failure closes what was opened and rethrows. */
  async start(): Promise<EdgeProxyAddresses> {
    if (this.state !== "new") throw new Error(`EdgeProxy cannot start: it is ${this.state}`);
    this.state = "starting";
    try {
      this.addresses = await this.open();
    } catch (err) {
      await this.closeAll();
      this.state = "stopped";
      throw err;
    }
    this.startedAt = Date.now();
    this.state = "running";
    this.logger.info(
      { generation: this.generation, inside: this.addresses.inside, admin: this.addresses.admin },
      "edge proxy running",
    );
    return this.addresses;
  }

  /** SIGHUP / admin / CLI: re-reads the configuration; a refused reload lists every problem. */
  reload(): EdgeReloadResult {
    return this.edge.reload();
  }

  /** Graceful stop: no new requests, running transactions get `graceMs`, then every socket closes. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.state === "stopped" || this.state === "stopping") return;
    this.state = "stopping";
    this.logger.info({ graceMs, active: this.core?.activeTransactions ?? 0 }, "stopping");
    this.edge.stopAccepting();
    await withDeadline(this.core?.shutdown(graceMs) ?? Promise.resolve(), graceMs + CLOSE_ALLOWANCE_MS);
    await withDeadline(this.closeAll(), CLOSE_ALLOWANCE_MS);
    this.state = "stopped";
    this.logger.info({}, "stopped");
  }

  /** What the admin API shows; also useful to embedders. */
  get adminTarget(): AdminTarget {
    return {
      health: () => this.health(),
      connections: () => this.connectionViews(),
      reload: () => this.reload(),
      counters: this.counters,
      gauges: () => this.gauges(),
    };
  }

  private async open(): Promise<EdgeProxyAddresses> {
    const listeners = await this.edge.start();
    const inside = await this.inner.start();
    this.outbound = this.createOutbound(this.settings);
    this.accounting = this.createAccounting(this.settings);
    this.core = this.createCore([...listeners.values()], inside);
    const admin = await this.startAdmin();
    return {
      listeners,
      inside: { ...inside, transport: this.settings.inside.transport },
      ...(admin ? { admin } : {}),
    };
  }

  private createCore(
    listeners: ReadonlyArray<{ address: string; port: number }>,
    inside: { address: string; port: number },
  ): ProxyCore {
    const s = this.settings;
    const interfaces = localInterfaces({
      ...(s.outside.host !== undefined ? { outsideHost: s.outside.host } : {}),
      ...(s.outside.port !== undefined ? { outsidePort: s.outside.port } : {}),
      listeners,
      inside: { ...inside, transport: s.inside.transport },
      certificates: this.edge.settings.listeners.flatMap((l) => l.credentials),
      ...(s.extraLocalNames ? { extraNames: s.extraLocalNames } : {}),
    });
    return new ProxyCore({
      interfaces,
      hops: this.hops,
      policy: createRequestPolicy(s.policy),
      identityHeader: s.identityHeader,
      timers: s.timers,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(s.maxTransactions !== undefined ? { maxTransactions: s.maxTransactions } : {}),
      ...(s.failoverAfterMs !== undefined ? { failoverAfterMs: s.failoverAfterMs } : {}),
      counters: this.counters,
      logger: this.logger,
      onTransactionEnd: (summary) => this.transactionEnded(summary),
      flowTokenKey: randomBytes(32),
    });
  }

  private createOutbound(s: ProxySettings): OutboundConnections | undefined {
    if (!s.outbound) return undefined;
    return new OutboundConnections({
      trust: { ...s.outbound.trust, generation: this.generation },
      limits: s.outbound.limits,
      onMessage: (connection, message) => this.receive(this.outboundFlows.flowFor(connection), message),
      // RFC 3261 §17.1.4: transactions still waiting on a connection that closed fail now (503 / next target).
      onClose: (connection, reason) => {
        if (reason !== "drained") this.core?.flowFailed(this.outboundFlows.flowFor(connection));
      },
      logger: this.logger,
      counters: this.counters,
    });
  }

  private createAccounting(s: ProxySettings): AccountingWriter | undefined {
    if (!s.accounting) return undefined;
    return new AccountingWriter({ file: s.accounting.file, counters: this.counters, logger: this.logger });
  }

  private async startAdmin(): Promise<{ address: string; port: number } | undefined> {
    const a = this.settings.admin;
    if (!a) return undefined;
    this.admin = new AdminServer({
      host: a.host,
      port: a.port,
      ...(a.token !== undefined ? { token: a.token } : {}),
      target: this.adminTarget,
      logger: this.logger,
    });
    const bound = await this.admin.listen();
    return { address: bound.address, port: bound.port };
  }

  private receive(flow: Flow, message: SipMessage): void {
    if (this.core) this.core.receive(flow, message);
    else this.counters.increment("proxy.dropped.not-started");
  }

  private transactionEnded(summary: TransactionSummary): void {
    this.accounting?.write(summary);
  }

  /** Phase 1 of a reload for the proxy's part: refuse what cannot change without a restart. */
  private stage(next: ProxySettings): StageResult {
    const problems = unchangeable(this.settings, next);
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, commit: (generation) => this.commit(next, generation) };
  }

  /** Phase 2: nothing here may fail; asynchronous parts (file reopen, closing) log their own errors. */
  private commit(next: ProxySettings, generation: number): void {
    const previous = this.settings;
    this.settings = next;
    this.core?.updatePolicy(createRequestPolicy(next.policy));
    this.commitOutbound(next, generation);
    this.commitAccounting(previous, next);
    this.logger.info({ generation }, "proxy configuration reloaded");
  }

  private commitOutbound(next: ProxySettings, generation: number): void {
    if (this.outbound && next.outbound) {
      const outcomes = this.outbound.reload({ ...next.outbound.trust, generation }, next.outbound.onReload);
      const lost = outcomes.filter((o) => !o.ok);
      if (lost.length > 0) this.logger.warn({ lost }, "outbound connections lost trust on reload");
    } else if (this.outbound && !next.outbound) {
      const closing = this.outbound;
      this.outbound = undefined;
      void closing.close();
    } else if (!this.outbound && this.state === "running") {
      this.outbound = this.createOutbound(next);
    }
  }

  private commitAccounting(previous: ProxySettings, next: ProxySettings): void {
    const old = this.accounting;
    if (old && previous.accounting?.file === next.accounting?.file) {
      // Same file: reopen it (log rotation moves the old one away, then sends SIGHUP).
      old.reopen().catch((err: Error) => this.logger.warn({ err: err.message }, "accounting reopen failed"));
      return;
    }
    this.accounting = this.state === "running" ? this.createAccounting(next) : undefined;
    old?.close().catch((err: Error) => this.logger.warn({ err: err.message }, "accounting close failed"));
  }

  private async closeAll(): Promise<void> {
    const admin = this.admin;
    const outbound = this.outbound;
    const accounting = this.accounting;
    this.admin = undefined;
    this.outbound = undefined;
    this.accounting = undefined;
    await Promise.allSettled([
      this.edge.close(),
      this.inner.close().catch(() => undefined),
      outbound?.close(),
      admin?.close(),
      accounting?.close(),
    ]);
  }

  private health(): HealthReport {
    return {
      ok: this.state === "running",
      state: this.state,
      generation: this.generation,
      uptimeSeconds: this.startedAt ? Math.round((Date.now() - this.startedAt) / 1000) : 0,
      listeners: this.addresses ? Object.fromEntries(this.addresses.listeners) : {},
      inside: this.addresses?.inside,
      activeTransactions: this.core?.activeTransactions ?? 0,
      failedReloads: this.counters.get("reload.refused"),
    };
  }

  private connectionViews(): ConnectionView[] {
    const now = Date.now();
    const inbound = this.edge
      .connections()
      .map(({ listener, connection }) =>
        inboundConnectionView(listener, connection, { openedAt: this.openedAt.get(connection) ?? now, now }),
      );
    const manager = this.outbound;
    const outbound = (manager?.connections() ?? []).map((c) =>
      outboundConnectionView(c, { openedAt: manager?.table.get(c.id)?.openedAt ?? now, now }),
    );
    return [...inbound, ...outbound];
  }

  private gauges(): Record<string, number> {
    const gauges: Record<string, number> = {
      "connections.inbound.open": this.edge.connections().length,
      "connections.outbound.open": 0,
      "connections.outbound.draining": 0,
      "transactions.active": this.core?.activeTransactions ?? 0,
      generation: this.generation,
      "reload.failed": this.counters.get("reload.refused"),
    };
    for (const c of this.outbound?.connections() ?? []) {
      const key = `connections.outbound.${c.state}`;
      gauges[key] = (gauges[key] ?? 0) + 1;
    }
    return gauges;
  }
}

/** Settings bound at start (module comment): a reload that changes one is refused, naming the key. */
function unchangeable(now: ProxySettings, next: ProxySettings): StageProblem[] {
  const problems: StageProblem[] = [];
  const restart = (at: Array<string | number>, what: string): void =>
    void problems.push({ at, message: `${what} cannot be changed by a reload; restart instead` });
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (!same(now.inside, next.inside)) restart(["proxy", "inside"], "the inside address");
  if (now.identityHeader.toLowerCase() !== next.identityHeader.toLowerCase())
    restart(["proxy", "identityHeader"], "the identity header name");
  if (!same(now.timers, next.timers) || now.failoverAfterMs !== next.failoverAfterMs)
    restart(["proxy", "timers"], "transaction timers");
  if (now.maxTransactions !== next.maxTransactions)
    restart(["proxy", "maxTransactions"], "the transaction limit");
  if (!same(now.outside, next.outside))
    restart(["proxy", "outsideHost"], "the outside Via/Record-Route host");
  if (!same(now.admin, next.admin)) restart(["admin"], "the admin API address and token");
  return problems;
}

/** Resolves when `work` settles or after `ms`, whichever is first (a stop must never hang). */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    deadline,
  ]);
  if (timer) clearTimeout(timer);
}
