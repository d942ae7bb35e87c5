/**
 * The outside of the edge at run time: one TlsListener per configured listener, all reading the profiles
 * and client policies of the configuration *generation* in force (issue 6 §3, DESIGN.md "Revocation and
 * reload").
 *
 * Reload is two-phase so that a refused reload changes nothing:
 * 1. stage: everything the new generation needs is built (secure contexts, client policies, OCSP stapler)
 *    while the old one keeps serving; any problem refuses the reload, with every problem listed;
 * 2. commit: one assignment makes the new generation current — the next handshake on every listener uses
 *    it (SNICallback and the default context both read it) — then `connections.onReload` is applied to the
 *    connections that already exist: `keep` (they stay on the generation they were verified under), `drop`
 *    (all closed) or `revalidate` (each peer re-checked against the new trust; those that fail close).
 *
 * Decisions:
 * - A reload cannot add or remove listeners, or change a listener's address, port or connection limits: those
 *   are bound sockets and server options, and re-binding could fail half-way (address in use) after the new
 *   trust is already in force. Such a reload is refused with a problem naming the key; restart instead.
 * - The edge reads its configuration through EdgeConfigSource (plain data, no config-module types: config/
 *   sits above transport/); src/config/edge-source.ts adapts the ConfigStore to it.
 */
import type { X509Certificate } from "node:crypto";
import type * as tls from "node:tls";
import { pino, type Logger } from "pino";
import type { Crl } from "../pki/chain.js";
import type { IdentityOptions } from "../pki/identities.js";
import type { CnMapping } from "../auth/cn-mapping.js";
import { buildServerProfile, type ServerProfile } from "../tls/server-profile.js";
import type { ClientCertificateMode, ClientVerificationPolicy } from "../tls/client-verification.js";
import { OcspResponseCache, type OcspPolicyMode } from "../tls/ocsp-policy.js";
import { OcspStapler, OcspStaplerError } from "../tls/ocsp-stapler.js";
import type { OcspFetcher } from "../tls/ocsp-fetch.js";
import { Counters } from "./counters.js";
import {
  TlsListener,
  type InboundConnection,
  type ListenerLimits,
  type TlsListenerOptions,
  type TransportLogger,
} from "./tls-listener.js";

export type ReloadPolicy = "keep" | "drop" | "revalidate";

export interface ClientCaSettings {
  readonly name: string;
  readonly anchors: readonly X509Certificate[];
  readonly anchorPems: readonly string[];
  readonly crls: readonly Crl[];
  readonly crlPolicy: "require" | "when-present";
}

export interface ListenerCredentialSettings {
  readonly certPem: string;
  readonly keyPem: string;
  /** Leaf first; the issuer, when present, is what OCSP stapling needs. */
  readonly chain: readonly X509Certificate[];
  readonly serverNames?: readonly string[];
}

export interface ListenerSettings {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly credentials: readonly ListenerCredentialSettings[];
  readonly defaultIndex: number;
  readonly clientCertificates: ClientCertificateMode;
  /** The listener's client CA set; undefined only with `ignore`. */
  readonly clientCa?: ClientCaSettings;
  readonly minVersion: tls.SecureVersion;
}

export interface EdgeSettings {
  readonly listeners: readonly ListenerSettings[];
  readonly onReload: ReloadPolicy;
  readonly limits: Partial<ListenerLimits>;
  readonly ocsp: { readonly policy: OcspPolicyMode; readonly staple: boolean; readonly timeoutMs: number };
  readonly mapping?: CnMapping;
  readonly identityOptions?: IdentityOptions;
}

/** Where a staging problem is, as a key path into the configuration (`listeners[0].port`). */
export interface StageProblem {
  readonly at: ReadonlyArray<string | number>;
  readonly message: string;
}

export type StageResult =
  | { readonly ok: true; readonly commit: (generation: number) => void }
  | { readonly ok: false; readonly problems: readonly StageProblem[] };

/** A configuration problem as the source reports it (same shape as config/config-error.ts ConfigProblem). */
export interface SourceProblem {
  readonly file: string;
  readonly line: number;
  readonly key: string;
  readonly message: string;
}

export type SourceReloadResult =
  | { readonly ok: true; readonly code: string; readonly generation: number }
  | {
      readonly ok: false;
      readonly code: string;
      readonly generation: number;
      readonly problems: readonly SourceProblem[];
    };

/** What the edge needs from the configuration store; src/config/edge-source.ts implements it. */
export interface EdgeConfigSource {
  readonly generation: number;
  readonly settings: EdgeSettings;
  /** Registers the edge's stage step: run on every reload before anything changes; problems refuse it. */
  participate(stage: (next: EdgeSettings) => StageResult): void;
  /** Prepares the configuration again and swaps it in when every participant accepted it. */
  reload(): SourceReloadResult;
}

/** What existing connections went through on the last successful reload. */
export interface ConnectionsOnReload {
  readonly policy: ReloadPolicy;
  readonly kept: number;
  readonly closed: ReadonlyArray<{ readonly listener: string; readonly id: number; readonly code: string }>;
}

export type EdgeReloadResult =
  | (Extract<SourceReloadResult, { ok: true }> & { readonly connections: ConnectionsOnReload })
  | Extract<SourceReloadResult, { ok: false }>;

export interface TlsEdgeOptions {
  /** Default: a pino logger (createEdgeLogger). */
  readonly logger?: TransportLogger;
  readonly counters?: Counters;
  /** Responder transport for OCSP (peer checks and stapling); tests inject one. */
  readonly ocspFetch?: OcspFetcher;
  readonly onMessage?: TlsListenerOptions["onMessage"];
  readonly onConnection?: TlsListenerOptions["onConnection"];
}

/** Everything one generation serves with, built before it is swapped in. */
interface Generation {
  readonly number: number;
  readonly settings: EdgeSettings;
  readonly profiles: ReadonlyMap<string, ServerProfile>;
  readonly policies: ReadonlyMap<string, ClientVerificationPolicy>;
  readonly stapler?: OcspStapler;
}

type Built = { ok: true; generation: Omit<Generation, "number"> } | { ok: false; problems: StageProblem[] };

export class TlsEdge {
  readonly counters: Counters;
  private readonly logger: TransportLogger;
  private readonly listeners = new Map<string, TlsListener>();
  private readonly ocspCache = new OcspResponseCache();
  private current: Generation;
  /** The stapler of the previous generation serves until the new one has fetched its first responses. */
  private previousStapler: OcspStapler | undefined;
  private lastConnections: ConnectionsOnReload | undefined;

  constructor(
    private readonly source: EdgeConfigSource,
    private readonly options: TlsEdgeOptions = {},
  ) {
    this.counters = options.counters ?? new Counters();
    this.logger = options.logger ?? createEdgeLogger();
    const built = this.build(source.settings);
    if (!built.ok) throw new EdgeConfigError(built.problems);
    this.current = { ...built.generation, number: source.generation };
    source.participate((next) => this.stage(next));
  }

  get generation(): number {
    return this.current.number;
  }

  get settings(): EdgeSettings {
    return this.current.settings;
  }

  /** The listener named in the configuration. */
  listener(name: string): TlsListener | undefined {
    return this.listeners.get(name);
  }

  /** Every open inbound connection, with the listener it arrived on. */
  connections(): Array<{ readonly listener: string; readonly connection: InboundConnection }> {
    return [...this.listeners].flatMap(([listener, l]) =>
      [...l.connections].map((connection) => ({ listener, connection })),
    );
  }

  /** Binds every listener (and starts stapling); resolves with the bound addresses by listener name. */
  async start(): Promise<Map<string, { address: string; port: number }>> {
    const bound = new Map<string, { address: string; port: number }>();
    for (const settings of this.current.settings.listeners) {
      const listener = this.createListener(settings);
      this.listeners.set(settings.name, listener);
      const info = await listener.listen();
      bound.set(settings.name, { address: info.address, port: info.port });
      this.logger.info({ listener: settings.name, ...info }, "listening");
    }
    void this.current.stapler?.start();
    return bound;
  }

  /** Reload from the configuration source (SIGHUP, admin API, `siptrust reload`). */
  reload(): EdgeReloadResult {
    this.lastConnections = undefined;
    const result = this.source.reload();
    if (!result.ok) {
      this.counters.increment("reload.refused");
      this.logger.warn(
        { generation: result.generation, problems: result.problems },
        "reload refused; the old configuration keeps serving",
      );
      return result;
    }
    const connections = this.lastConnections ?? {
      policy: this.current.settings.onReload,
      kept: 0,
      closed: [],
    };
    return { ...result, connections };
  }

  /** Graceful shutdown: every listener stops accepting; open connections keep being served until close(). */
  stopAccepting(): void {
    for (const listener of this.listeners.values()) void listener.stopAccepting();
  }

  async close(): Promise<void> {
    this.current.stapler?.stop();
    this.previousStapler?.stop();
    await Promise.all([...this.listeners.values()].map((l) => l.close()));
  }

  private createListener(settings: ListenerSettings): TlsListener {
    const name = settings.name;
    return new TlsListener({
      host: settings.address,
      port: settings.port,
      profile: () => this.current.profiles.get(name) as ServerProfile,
      clientPolicy: () => this.current.policies.get(name) as ClientVerificationPolicy,
      generation: () => this.current.number,
      ocspStaple: (der) => this.current.stapler?.responseFor(der) ?? this.previousStapler?.responseFor(der),
      limits: this.current.settings.limits,
      logger: this.logger,
      counters: this.counters,
      onMessage: this.options.onMessage ?? (() => undefined),
      ...(this.options.onConnection ? { onConnection: this.options.onConnection } : {}),
    });
  }

  /** Phase 1 of a reload: build the next generation beside the current one; change nothing. */
  private stage(next: EdgeSettings): StageResult {
    const problems = [...this.unchangeable(next)];
    const built = this.build(next);
    if (!built.ok) problems.push(...built.problems);
    if (problems.length > 0 || !built.ok) return { ok: false, problems };
    return { ok: true, commit: (number) => this.commit({ ...built.generation, number }) };
  }

  /** Phase 2: swap, then apply `onReload` to the connections that exist. Nothing here can fail. */
  private commit(next: Generation): void {
    const old = this.current;
    this.current = next;
    for (const listener of this.listeners.values()) listener.applyProfile();
    this.swapStaplers(old.stapler, next.stapler);
    this.counters.increment("reload.ok");
    this.lastConnections = this.applyReloadPolicy(next.settings.onReload);
    this.logger.info(
      {
        generation: next.number,
        policy: this.lastConnections.policy,
        kept: this.lastConnections.kept,
        closed: this.lastConnections.closed.length,
      },
      "configuration reloaded",
    );
  }

  private swapStaplers(old: OcspStapler | undefined, next: OcspStapler | undefined): void {
    this.previousStapler?.stop();
    this.previousStapler = old;
    if (!next) {
      old?.stop();
      this.previousStapler = undefined;
      return;
    }
    void next.start().then(() => {
      if (this.previousStapler === old) {
        old?.stop();
        this.previousStapler = undefined;
      }
    });
  }

  private applyReloadPolicy(policy: ReloadPolicy): ConnectionsOnReload {
    const before = this.connections().length;
    const closed: Array<{ listener: string; id: number; code: string }> = [];
    for (const [name, listener] of this.listeners) {
      if (policy === "drop") {
        for (const c of listener.connections) closed.push({ listener: name, id: c.id, code: "dropped" });
        listener.dropConnections();
      } else if (policy === "revalidate") {
        for (const { connection, verification } of listener.revalidate()) {
          closed.push({ listener: name, id: connection.id, code: verification.ok ? "" : verification.code });
        }
      }
    }
    this.counters.increment(`reload.connections.closed`, closed.length);
    return { policy, kept: before - closed.length, closed };
  }

  /** Listener sockets and server options are bound at start: a reload may not change them (module comment). */
  private unchangeable(next: EdgeSettings): StageProblem[] {
    const now = this.current.settings;
    const names = (s: EdgeSettings) => s.listeners.map((l) => l.name).join(", ");
    if (names(now) !== names(next)) {
      return [
        {
          at: ["listeners"],
          message: `listeners cannot be added, removed, renamed or reordered by a reload (running: ${names(now)}; new: ${names(next)}); restart instead`,
        },
      ];
    }
    const problems: StageProblem[] = [];
    next.listeners.forEach((l, i) => {
      const was = now.listeners[i] as ListenerSettings;
      for (const key of ["address", "port"] as const) {
        if (l[key] !== was[key]) {
          problems.push({
            at: ["listeners", i, key],
            message: `a reload cannot re-bind listener ${l.name} (running on ${was.address}:${was.port}); restart instead`,
          });
        }
      }
    });
    for (const key of Object.keys({ ...now.limits, ...next.limits }) as Array<keyof ListenerLimits>) {
      if (JSON.stringify(now.limits[key]) !== JSON.stringify(next.limits[key])) {
        problems.push({
          at: ["connections", limitKey(key)],
          message: "connection limits are applied when the listeners start; restart to change them",
        });
      }
    }
    return problems;
  }

  /** Builds profiles, policies and the stapler for `settings`; every failure is a problem, nothing throws. */
  private build(settings: EdgeSettings): Built {
    const problems: StageProblem[] = [];
    const profiles = new Map<string, ServerProfile>();
    const policies = new Map<string, ClientVerificationPolicy>();
    settings.listeners.forEach((l, i) => {
      try {
        profiles.set(l.name, buildListenerProfile(l));
      } catch (err) {
        problems.push({ at: ["listeners", i, "certificates"], message: (err as Error).message });
      }
      policies.set(l.name, this.clientPolicy(l, settings));
    });
    const stapler = settings.ocsp.staple ? this.buildStapler(settings, problems) : undefined;
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, generation: { settings, profiles, policies, ...(stapler ? { stapler } : {}) } };
  }

  private clientPolicy(l: ListenerSettings, settings: EdgeSettings): ClientVerificationPolicy {
    return {
      mode: l.clientCertificates,
      anchors: (l.clientCa?.anchors ?? []).map((cert) => ({ cert })),
      crls: l.clientCa?.crls ?? [],
      crlPolicy: l.clientCa?.crlPolicy ?? "require",
      ocsp: {
        mode: settings.ocsp.policy,
        timeoutMs: settings.ocsp.timeoutMs,
        cache: this.ocspCache,
        ...(this.options.ocspFetch ? { fetch: this.options.ocspFetch } : {}),
      },
      ...(settings.mapping ? { mapping: settings.mapping } : {}),
      ...(settings.identityOptions ? { identityOptions: settings.identityOptions } : {}),
    };
  }

  // `staple: true` is an explicit request: a certificate that cannot be stapled is a configuration problem.
  private buildStapler(settings: EdgeSettings, problems: StageProblem[]): OcspStapler {
    const stapler = new OcspStapler({
      timeoutMs: settings.ocsp.timeoutMs,
      ...(this.options.ocspFetch ? { fetch: this.options.ocspFetch } : {}),
      onEvent: (event) => {
        this.counters.increment(`ocsp.staple.${event.type}`);
        if (event.type === "refresh-failed") this.logger.warn({ ...event }, "OCSP staple refresh failed");
      },
    });
    settings.listeners.forEach((l, i) =>
      l.credentials.forEach((c, j) => {
        const [leaf, ...rest] = c.chain;
        const issuer = leaf && rest.find((r) => leaf.checkIssued(r));
        try {
          if (!leaf || !issuer)
            throw new OcspStaplerError("no-issuer", "the issuer must follow the leaf in the cert file");
          stapler.add(leaf, issuer);
        } catch (err) {
          if (!(err instanceof OcspStaplerError)) throw err;
          problems.push({
            at: ["listeners", i, "certificates", j, "cert"],
            message: `cannot staple: ${err.message}`,
          });
        }
      }),
    );
    return stapler;
  }
}

function buildListenerProfile(l: ListenerSettings): ServerProfile {
  return buildServerProfile({
    credentials: l.credentials.map((c) => ({
      certPem: c.certPem,
      keyPem: c.keyPem,
      ...(c.serverNames ? { serverNames: c.serverNames } : {}),
    })),
    defaultIndex: l.defaultIndex,
    clientCertificates: l.clientCertificates,
    clientCaPems: l.clientCa?.anchorPems ?? [],
    minVersion: l.minVersion,
  });
}

const LIMIT_KEYS: Partial<Record<keyof ListenerLimits, string>> = {
  handshakeTimeoutMs: "handshakeTimeout",
  partialMessageTimeoutMs: "partialMessageTimeout",
};

function limitKey(key: keyof ListenerLimits): string {
  return LIMIT_KEYS[key] ?? key;
}

/** The initial configuration cannot be served (e.g. two certificates claim one SNI name). */
export class EdgeConfigError extends Error {
  override readonly name = "EdgeConfigError";
  readonly code = "bad-edge-config";
  constructor(readonly problems: readonly StageProblem[]) {
    super(problems.map((p) => `${p.at.join(".")}: ${p.message}`).join("\n"));
  }
}

/** The default logger: pino, JSON lines on stdout (the proxy may pass its own, e.g. pretty in a terminal). */
export function createEdgeLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ name: options.name ?? "siptrust", level: options.level ?? "info" });
}

/** A logger that discards everything, for tests and embedding. */
export const silentEdgeLogger: TransportLogger = { info: () => undefined, warn: () => undefined };

/**
 * SIGHUP → reload (the conventional daemon signal). Returns the function that removes the handler. The
 * handler never throws: a refused reload is logged (and counted) by the edge and the old configuration stays.
 */
export function installReloadSignal(
  edge: Pick<TlsEdge, "reload" | "generation">,
  options: { readonly signal?: NodeJS.Signals; readonly onResult?: (result: EdgeReloadResult) => void } = {},
): () => void {
  const signal = options.signal ?? "SIGHUP";
  const handler = (): void => {
    options.onResult?.(reloadSafely(edge));
  };
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}

// A signal handler that throws would take the daemon down: an unexpected error becomes a refused reload.
function reloadSafely(edge: Pick<TlsEdge, "reload" | "generation">): EdgeReloadResult {
  try {
    return edge.reload();
  } catch (err) {
    return {
      ok: false,
      code: "reload-failed",
      generation: edge.generation,
      problems: [{ file: "", line: 0, key: "", message: (err as Error).message }],
    };
  }
}
