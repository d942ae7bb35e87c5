/**
 * Prometheus export of the edge (issue 7 §3, DESIGN.md: prom-client).
 *
 * Decisions:
 * - One private Registry per exporter, never prom-client's global default: two edges in one process (tests,
 *   embedding) must not share or collide, and nothing outside the edge can inject series into its scrape.
 * - Nothing is pushed into prom-client as events happen: the hot path only bumps the plain Counters map.
 *   Every family reads the Counters snapshot and the target's gauges in its `collect()` callback, at scrape
 *   time, so the cost is paid per scrape, not per SIP message.
 * - The mapping from dotted counter names to families lives in counter-families.ts; counters nobody mapped
 *   appear as siptrust_events_total{name} instead of disappearing.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import type { Counters } from "../../transport/counters.js";
import { COUNTER_FAMILIES, groupCounters, type CounterFamily, type Sample } from "./counter-families.js";

/** What the exporter reads: the counters and the point-in-time gauges (AdminTarget provides both). */
export interface MetricsSource {
  readonly counters: Counters;
  gauges(): Record<string, number>;
  /** When gauges() has no `connections.*` keys, siptrust_connections is counted from this list. */
  connections?(): ReadonlyArray<{ readonly direction: string; readonly state: string }>;
}

export interface AdminMetricsOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC) on the same registry. Default true. */
  readonly defaultMetrics?: boolean;
}

/** Gauge keys with a family of their own (AdminTarget.gauges()); others go to siptrust_gauge{name}. */
const CONNECTIONS_GAUGE = /^connections\.(inbound|outbound)\.([a-z-]+)$/;
const TRANSACTIONS_ACTIVE = "transactions.active";
const GENERATION = "generation";

/** Admin endpoints with their own label value; anything else is "other" (bounded label cardinality). */
const ADMIN_ENDPOINTS = new Set(["/health", "/connections", "/reload", "/metrics"]);

interface Scrape {
  readonly counters: Map<string, Sample[]>;
  readonly gauges: Record<string, number>;
}

export class AdminMetrics {
  readonly registry = new Registry();
  private current: Scrape | undefined;
  private readonly adminRequests: Counter<"endpoint" | "status">;

  constructor(
    private readonly source: MetricsSource,
    options: AdminMetricsOptions = {},
  ) {
    for (const family of COUNTER_FAMILIES) this.registerCounterFamily(family);
    this.registerGauges();
    this.adminRequests = new Counter({
      name: "siptrust_admin_requests_total",
      help: "Requests to the admin HTTP server, by endpoint and status",
      labelNames: ["endpoint", "status"],
      registers: [this.registry],
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; one Counters snapshot serves every family of this scrape. */
  async render(): Promise<string> {
    this.current = this.takeScrape();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
    }
  }

  recordAdminRequest(path: string, status: number): void {
    this.adminRequests.inc({ endpoint: ADMIN_ENDPOINTS.has(path) ? path : "other", status: String(status) });
  }

  private scrape(): Scrape {
    return this.current ?? this.takeScrape();
  }

  private takeScrape(): Scrape {
    return { counters: groupCounters(this.source.counters.snapshot()), gauges: this.readGauges() };
  }

  // A source that throws would fail the whole scrape: a broken part shows as missing gauges instead.
  private readGauges(): Record<string, number> {
    const gauges = attempt(() => this.source.gauges()) ?? {};
    if (Object.keys(gauges).some((key) => CONNECTIONS_GAUGE.test(key))) return gauges;
    return { ...gauges, ...attempt(() => this.countConnections()) };
  }

  private countConnections(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.source.connections?.() ?? []) {
      const key = `connections.${c.direction}.${c.state}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  private registerCounterFamily(family: CounterFamily): void {
    const scrape = (): Scrape => this.scrape();
    new Counter({
      name: family.name,
      help: family.help,
      labelNames: [...family.labelNames],
      registers: [this.registry],
      collect(this: Counter<string>) {
        this.reset();
        for (const sample of scrape().counters.get(family.name) ?? []) {
          if (Number.isFinite(sample.value) && sample.value >= 0)
            this.inc({ ...sample.labels }, sample.value);
        }
      },
    });
  }

  private registerGauges(): void {
    this.gauge(
      "siptrust_connections",
      "Open TLS connections by direction and state",
      ["direction", "state"],
      (g) =>
        Object.entries(g).flatMap(([key, value]) => {
          const m = CONNECTIONS_GAUGE.exec(key);
          return m ? [{ labels: { direction: m[1] as string, state: m[2] as string }, value }] : [];
        }),
    );
    this.gauge("siptrust_transactions_active", "SIP transactions in progress", [], (g) =>
      single(g[TRANSACTIONS_ACTIVE]),
    );
    this.gauge("siptrust_reload_generation", "Configuration generation in force", [], (g) =>
      single(g[GENERATION]),
    );
    this.gauge("siptrust_gauge", "Other point-in-time values of the edge, by name", ["name"], (g) =>
      Object.entries(g)
        .filter(([key]) => key !== TRANSACTIONS_ACTIVE && key !== GENERATION && !CONNECTIONS_GAUGE.test(key))
        .map(([name, value]) => ({ labels: { name }, value })),
    );
  }

  private gauge(
    name: string,
    help: string,
    labelNames: string[],
    samples: (gauges: Record<string, number>) => Sample[],
  ): Metric {
    const scrape = (): Scrape => this.scrape();
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge<string>) {
        this.reset();
        for (const sample of samples(scrape().gauges)) {
          if (Number.isFinite(sample.value)) this.set({ ...sample.labels }, sample.value);
        }
      },
    });
  }
}

function single(value: number | undefined): Sample[] {
  return value === undefined ? [] : [{ labels: {}, value }];
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
