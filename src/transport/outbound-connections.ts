/**
 * Outbound TLS connections for the proxy: one verified connection per (SIP domain, client certificate),
 * reused only where RFC 5923 reuse is safe, and renewed by lifetime and reload.
 *
 * - Reuse (RFC 5923 §9, DESIGN.md "Connections"): a connection is handed out for a SIP domain only when
 *   ConnectionTable.findReusable says the domain was verified on it AND it was opened with the client
 *   certificate that the per-domain table (client-credential-table.ts) chooses for that domain now.
 *   Names enter the table only through recordVerified() with what verifyOutbound proved on that very
 *   connection: the SIP domain, and under DANE also the SRV target host (RFC 7673 §3). A Via `alias`
 *   parameter proves nothing about who is at the other end, so noteViaAlias() only counts and logs it.
 * - No thundering herd: concurrent acquires for one (domain, credential) share one pending attempt.
 * - Lifetimes (issue 6 §2): past the idle timeout or the maximum age a connection takes no new
 *   transactions; the running ones get `drainGraceMs` to finish, then it closes; the next acquire opens and
 *   re-verifies a new one.
 * - Reload (issue 6 §3): `revalidate` re-checks every open connection against the new trust (CA set via
 *   decideServerTrust, and the per-domain client certificate) and drains those that no longer pass.
 * - Per connection: the stream framer (RFC 3261 §18.3), RFC 5626 §3.5.1 keep-alive pong, a bounded write
 *   buffer and a partial-message timeout, as on the listener side.
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { TrustAnchor } from "../pki/chain.js";
import { normalizeDomain, type IdentityOptions, type SipIdentity } from "../pki/identities.js";
import { Framer, type SipLimits, type SipMessage } from "../sip/index.js";
import { closeGracefully } from "../tls/client-handshake.js";
import {
  chooseClientCredentials,
  type ClientCredentialTable,
  type NamedClientCredentials,
} from "../tls/client-credential-table.js";
import {
  verifyOutbound,
  type OutboundAttempt,
  type OutboundResolver,
  type OutboundResult,
} from "../tls/outbound.js";
import { decideServerTrust, type TlsaEvidence, type TrustMethod } from "../tls/server-trust.js";
import {
  ConnectionTable,
  type ConnectionEntry,
  type ConnectionLimits,
  type ConnectionState,
  type ReuseDecision,
} from "./connection-table.js";
import { Counters } from "./counters.js";
import { feedStream } from "./stream-events.js";
import type { TransportLogger } from "./tls-listener.js";

/** Everything a reload may replace: the DNS side, the CA set, the per-domain client certificates. */
export interface OutboundTrust {
  readonly resolver: OutboundResolver;
  /** CA set for verifying servers (RFC 5922 path, PKIX-TA/EE). */
  readonly anchors: readonly TrustAnchor[];
  readonly clientCredentials: ClientCredentialTable;
  readonly identityOptions?: IdentityOptions;
  /** Configuration generation; connections record the one they were (re)verified under. */
  readonly generation: number;
}

export interface OutboundLimits extends ConnectionLimits {
  /** Time running transactions get to finish on an expiring or distrusted connection (ms). */
  readonly drainGraceMs: number;
  /** How often idle/max-age expiry is swept (ms). */
  readonly sweepIntervalMs: number;
  readonly handshakeTimeoutMs: number;
  /** A message that started must complete within this bound (slowloris from a server we called). */
  readonly partialMessageTimeoutMs: number;
  /** A peer whose unread output exceeds this many bytes is disconnected. */
  readonly maxWriteBufferBytes: number;
  readonly sip?: Partial<SipLimits>;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = {
  idleTimeoutMs: 5 * 60_000,
  maxAgeMs: 60 * 60_000,
  // RFC 3261 §17.1.1.2/§17.1.2.2: Timer B/F = 64·T1 = 32 s bounds how long a client transaction waits.
  drainGraceMs: 32_000,
  sweepIntervalMs: 1000,
  handshakeTimeoutMs: 5000,
  partialMessageTimeoutMs: 30_000,
  maxWriteBufferBytes: 1024 * 1024,
};

export interface AcquireDestination {
  readonly scheme: "sip" | "sips";
  /** The SIP domain (host part of the target URI). */
  readonly host: string;
  readonly port?: number;
  readonly transport?: string;
  /** The target URI as text, for reports; defaults to `<scheme>:<host>`. */
  readonly uri?: string;
}

export type TransactionStart =
  | { readonly ok: true; readonly code: "begun" }
  | { readonly ok: false; readonly code: "draining" | "expiring" | "closed"; readonly detail: string };

/** A verified outbound connection as the proxy and `/connections` see it. */
export interface OutboundConnection {
  readonly id: number;
  /** The SIP domain the connection was opened and verified for. */
  readonly domain: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly sni: string | null;
  readonly srvHost?: string;
  readonly delegation: "secure" | "insecure";
  readonly method: TrustMethod;
  readonly verificationCode: string;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly chain: readonly X509Certificate[];
  readonly identities: readonly SipIdentity[];
  /** The client certificate presented (name and fingerprint); undefined = none. */
  readonly clientCredential?: { readonly name: string; readonly fingerprint: string };
  readonly state: ConnectionState;
  readonly generation: number;
  /** Names this connection may be reused for (exactly those verified on it). */
  readonly verifiedNames: ReadonlySet<string>;
  readonly activeTransactions: number;
  /** Writes bytes; false (and the connection is closed) when the peer's unread output exceeds the bound. */
  send(data: Buffer | string): boolean;
  /** Counts a transaction in; refused once the connection is expiring, draining or closed. */
  beginTransaction(): TransactionStart;
  /** Counts a transaction out; a draining connection closes when its last transaction ends. */
  endTransaction(): void;
}

export type AcquireResult =
  | {
      readonly ok: true;
      readonly code: "reused" | "opened";
      readonly connection: OutboundConnection;
      /** Why an existing connection was not reused (only for `opened`). */
      readonly reuse?: Exclude<ReuseDecision["code"], "reuse">;
      /** True when this caller joined an attempt another acquire had already started. */
      readonly shared?: boolean;
      /** The full outbound procedure (only for `opened`), for `check`-style logs and accounting. */
      readonly outbound?: OutboundResult;
    }
  | {
      readonly ok: false;
      /** verifyOutbound's failure code, or `closed` when the manager shut down meanwhile. */
      readonly code: string;
      readonly detail: string;
      /** RFC 3261 §16.7: no target could be reached or verified → 503 to the sender. */
      readonly status: 503;
      readonly shared?: boolean;
      readonly outbound?: OutboundResult;
    };

export interface ViaAliasHint {
  /** The connection the request carrying the Via arrived on, when known. */
  readonly connectionId?: number;
  /** The Via sent-by host that an `alias` parameter asks us to reuse the connection for. */
  readonly host: string;
  readonly port?: number;
}

export interface ViaAliasVerdict {
  readonly ok: false;
  readonly code: "via-alias-ignored";
  readonly detail: string;
}

export interface RevalidationOutcome {
  readonly connectionId: number;
  readonly domain: string;
  readonly ok: boolean;
  readonly code: string;
  readonly detail: string;
}

export type ReloadPolicy = "keep" | "drop" | "revalidate";

export type CloseReason =
  | "idle"
  | "max-age"
  | "drain-grace-expired"
  | "drained"
  | "reload-drop"
  | "peer-closed"
  | "write-buffer"
  | "framing-error"
  | "partial-message-timeout"
  | "shutdown"
  | `revalidate:${string}`;

export interface OutboundConnectionsOptions {
  readonly trust: OutboundTrust;
  readonly limits?: Partial<OutboundLimits>;
  /** Requests and responses the peer sends on an outbound connection. */
  readonly onMessage: (connection: OutboundConnection, message: SipMessage) => void;
  /** Called once per connection when its socket has closed, with the reason it was closed for. */
  readonly onClose?: (connection: OutboundConnection, reason: CloseReason) => void;
  readonly logger?: TransportLogger;
  readonly counters?: Counters;
  /** Clock for lifetimes (tests); timers still run on real time. */
  readonly now?: () => number;
}

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined };

/** Which names verifyOutbound proved on a connection: the only names it may later be reused for. */
export function namesVerifiedBy(domain: string, target: OutboundAttempt): string[] {
  const names = [normalizeDomain(domain)];
  // RFC 7673 §3: under DANE the SRV target host is the verified reference identifier. Under RFC 5922 only the
  // SIP domain was matched against the certificate, so the SRV host is not an identity of this connection.
  const dane = target.verification.method !== "rfc5922";
  if (dane && target.srvHost) names.push(normalizeDomain(target.srvHost));
  return [...new Set(names)];
}

export class OutboundConnections {
  readonly counters: Counters;
  readonly table: ConnectionTable;
  private trust: OutboundTrust;
  private readonly limits: OutboundLimits;
  private readonly logger: TransportLogger;
  private readonly now: () => number;
  private readonly live = new Map<number, ManagedConnection>();
  private readonly pending = new Map<string, Promise<AcquireResult>>();
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: OutboundConnectionsOptions) {
    this.trust = options.trust;
    this.limits = { ...DEFAULT_OUTBOUND_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    this.counters = options.counters ?? new Counters();
    this.now = options.now ?? Date.now;
    this.table = new ConnectionTable(this.limits, this.now);
    this.sweepTimer = setInterval(() => this.sweep(), this.limits.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  get generation(): number {
    return this.trust.generation;
  }

  /** Live connections (open and draining). */
  connections(): OutboundConnection[] {
    return [...this.live.values()];
  }

  /** A verified connection for the destination's SIP domain: an identity-bound one reused, or a new one. */
  async acquire(destination: AcquireDestination): Promise<AcquireResult> {
    if (this.closed) return closedResult();
    const domain = normalizeDomain(destination.host);
    const credentials = chooseClientCredentials(this.trust.clientCredentials, domain).credentials;
    const reuse = this.table.findReusable(domain, credentials?.fingerprint);
    const reused = reuse.ok ? this.live.get(reuse.entry.id) : undefined;
    // A socket torn down a moment ago may not have reported 'close' yet: never hand it out.
    if (reused && !reused.socket.destroyed) {
      this.counters.increment("outbound.reused");
      return { ok: true, code: "reused", connection: reused };
    }
    const key = `${domain}\n${credentials?.fingerprint ?? "-"}`;
    const pending = this.pending.get(key);
    if (pending) {
      this.counters.increment("outbound.shared-attempt");
      return { ...(await pending), shared: true };
    }
    const attempt = this.open(domain, destination, credentials, reuse).finally(() =>
      this.pending.delete(key),
    );
    this.pending.set(key, attempt);
    return attempt;
  }

  /**
   * RFC 5923 §9: an `alias` Via parameter alone does not make the connection usable for the sent-by name;
   * only names verified on the TLS session are aliases. The hint is counted and logged, never recorded.
   */
  noteViaAlias(hint: ViaAliasHint): ViaAliasVerdict {
    this.counters.increment("reuse.via-alias-ignored");
    const detail = `Via alias for ${hint.host}${hint.port ? `:${hint.port}` : ""} ignored: not verified on the connection`;
    this.logger.info(
      { code: "via-alias-ignored", connection: hint.connectionId, host: hint.host, port: hint.port },
      detail,
    );
    return { ok: false, code: "via-alias-ignored", detail };
  }

  /**
   * Reload: swap in the new trust, then handle existing connections by policy. `keep` leaves them (reuse
   * still requires the newly configured client certificate); `drop` drains all; `revalidate` drains those
   * that fail the new trust. Draining connections finish their transactions within `drainGraceMs`.
   */
  reload(trust: OutboundTrust, policy: ReloadPolicy = "revalidate"): RevalidationOutcome[] {
    this.trust = trust;
    if (policy === "keep") return [];
    if (policy === "drop") return this.dropAll();
    return this.revalidate(trust);
  }

  /** Reload policy `revalidate` (issue 6 §3): re-checks every open connection against `trust`. */
  revalidate(trust: OutboundTrust): RevalidationOutcome[] {
    this.trust = trust;
    const outcomes: RevalidationOutcome[] = [];
    for (const connection of this.live.values()) {
      if (connection.state !== "open") continue;
      const outcome = this.recheck(connection);
      outcomes.push(outcome);
      if (outcome.ok) connection.entry.generation = trust.generation;
      else this.distrust(connection, outcome);
    }
    return outcomes;
  }

  /** Stops sweeping and opening; drains every connection (grace applies); resolves when all are closed. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    const closing = [...this.live.values()].map((c) => c.closedPromise);
    for (const connection of this.live.values()) this.beginDrain(connection, "shutdown");
    await Promise.all(closing);
  }

  /** Moves expired connections to draining and closes those with no transaction left. Runs on a timer. */
  sweep(): void {
    this.table.sweep();
    for (const connection of [...this.live.values()]) {
      if (connection.state === "draining" && !connection.draining) {
        this.beginDrain(connection, expiryReason(connection.entry, this.limits, this.now()));
      }
    }
  }

  private async open(
    domain: string,
    destination: AcquireDestination,
    credentials: NamedClientCredentials | undefined,
    reuse: ReuseDecision,
  ): Promise<AcquireResult> {
    const generation = this.trust.generation;
    this.counters.increment("outbound.handshake-attempts");
    const result = await verifyOutbound(
      destination.uri ?? `${destination.scheme}:${domain}`,
      { scheme: destination.scheme, host: domain, port: destination.port, transport: destination.transport },
      {
        resolver: this.trust.resolver,
        anchors: this.trust.anchors,
        clientCredentials: credentials,
        handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
        identityOptions: this.trust.identityOptions,
        keepSocket: true,
      },
    );
    if (!result.ok || !result.socket || !result.target) return this.failed(domain, result);
    if (this.closed) {
      closeGracefully(result.socket);
      return closedResult();
    }
    const connection = this.register(domain, result, result.socket, result.target, credentials, generation);
    return {
      ok: true,
      code: "opened",
      connection,
      outbound: result,
      ...(reuse.ok ? {} : { reuse: reuse.code }),
    };
  }

  private failed(domain: string, result: OutboundResult): AcquireResult {
    this.counters.increment(`outbound.failed.${result.code}`);
    this.logger.warn({ code: result.code, domain, detail: result.detail }, "outbound connection failed");
    return { ok: false, code: result.code, detail: result.detail, status: 503, outbound: result };
  }

  private register(
    domain: string,
    result: OutboundResult,
    socket: TLSSocket,
    target: OutboundAttempt,
    credentials: NamedClientCredentials | undefined,
    generation: number,
  ): ManagedConnection {
    const entry = this.table.add({
      direction: "outbound",
      remoteAddress: target.host,
      remotePort: target.port,
      clientCredential: credentials?.fingerprint,
      generation,
    });
    // RFC 5923 §9: aliases only for what was verified on this TLS session.
    for (const name of namesVerifiedBy(domain, target)) this.table.recordVerified(entry.id, name);
    const connection = new ManagedConnection(entry, domain, target, socket, credentials, this.hooks());
    this.live.set(entry.id, connection);
    this.counters.increment("outbound.opened");
    this.logger.info(
      { connection: entry.id, domain, remote: `${target.host}:${target.port}`, method: result.method },
      "outbound connection verified",
    );
    // A reload that happened while the handshake ran: the connection must pass the new trust too.
    if (generation !== this.trust.generation) this.revalidateLate(connection);
    return connection;
  }

  private revalidateLate(connection: ManagedConnection): void {
    const outcome = this.recheck(connection);
    if (outcome.ok) connection.entry.generation = this.trust.generation;
    else this.distrust(connection, outcome);
  }

  /** The new trust's verdict on an existing connection: same client certificate, and the chain still passes. */
  private recheck(connection: ManagedConnection): RevalidationOutcome {
    const base = { connectionId: connection.id, domain: connection.domain };
    const wanted = chooseClientCredentials(this.trust.clientCredentials, connection.domain).credentials;
    if (wanted?.fingerprint !== connection.clientCredential?.fingerprint) {
      const detail = `${connection.domain} is now configured with client certificate ${wanted?.name ?? "(none)"}, the connection used ${connection.clientCredential?.name ?? "(none)"}`;
      return { ...base, ok: false, code: "client-credential-changed", detail };
    }
    const trust = decideServerTrust({
      chain: connection.chain,
      sipDomain: connection.domain,
      srvHost: connection.srvHost,
      delegation: connection.delegation,
      // The TLSA evidence of the original lookup: revalidation re-checks trust, it does not re-query DNS.
      tlsa: connection.tlsa,
      anchors: this.trust.anchors,
      at: new Date(this.now()),
      identityOptions: this.trust.identityOptions,
    });
    return { ...base, ok: trust.ok, code: trust.code, detail: trust.detail };
  }

  private distrust(connection: ManagedConnection, outcome: RevalidationOutcome): void {
    this.counters.increment(`reload.revalidate.${outcome.code}`);
    this.logger.warn(
      { connection: connection.id, domain: connection.domain, code: outcome.code, detail: outcome.detail },
      "outbound connection lost trust on reload; draining",
    );
    this.beginDrain(connection, `revalidate:${outcome.code}`);
  }

  private dropAll(): RevalidationOutcome[] {
    const outcomes: RevalidationOutcome[] = [];
    for (const connection of this.live.values()) {
      if (connection.state !== "open") continue;
      outcomes.push({
        connectionId: connection.id,
        domain: connection.domain,
        ok: false,
        code: "reload-drop",
        detail: "reload policy drop",
      });
      this.beginDrain(connection, "reload-drop");
    }
    return outcomes;
  }

  /** No new transactions from now on; close at once when none runs, else after the last or the grace. */
  private beginDrain(connection: ManagedConnection, reason: CloseReason): void {
    if (connection.state === "closed" || connection.draining) return;
    this.table.drain(connection.id);
    connection.draining = reason;
    this.counters.increment(`outbound.drain.${reason}`);
    if (connection.activeTransactions === 0) {
      this.closeConnection(connection, reason);
      return;
    }
    connection.graceTimer = setTimeout(() => {
      this.counters.increment("outbound.drain-grace-expired");
      this.logger.warn(
        { connection: connection.id, running: connection.activeTransactions },
        "transactions did not finish within the drain grace; closing",
      );
      this.closeConnection(connection, "drain-grace-expired");
    }, this.limits.drainGraceMs);
    connection.graceTimer.unref();
  }

  private closeConnection(connection: ManagedConnection, reason: CloseReason): void {
    if (connection.closeReason) return;
    connection.closeReason = reason;
    this.forget(connection);
    closeGracefully(connection.socket);
  }

  /** Out of the table at once: a closing connection is never handed out again. */
  private forget(connection: ManagedConnection): void {
    if (connection.graceTimer) clearTimeout(connection.graceTimer);
    this.table.remove(connection.id);
  }

  private onSocketClosed(connection: ManagedConnection): void {
    connection.closeReason ??= "peer-closed";
    this.forget(connection);
    this.live.delete(connection.id);
    this.counters.increment(`outbound.closed.${connection.closeReason}`);
    this.options.onClose?.(connection, connection.closeReason);
  }

  private hooks(): ConnectionHooks {
    return {
      table: this.table,
      limits: this.limits,
      counters: this.counters,
      logger: this.logger,
      onMessage: (connection, message) => this.options.onMessage(connection, message),
      expire: (connection) =>
        this.beginDrain(connection, expiryReason(connection.entry, this.limits, this.now())),
      lastTransactionEnded: (connection) => {
        if (connection.draining) this.closeConnection(connection, "drained");
      },
      fail: (connection, reason) => {
        connection.closeReason ??= reason;
        this.forget(connection);
        connection.socket.destroy();
      },
      closed: (connection) => this.onSocketClosed(connection),
    };
  }
}

function closedResult(): AcquireResult {
  return { ok: false, code: "closed", detail: "outbound connections are shutting down", status: 503 };
}

function expiryReason(entry: ConnectionEntry, limits: ConnectionLimits, at: number): CloseReason {
  return at - entry.openedAt >= limits.maxAgeMs ? "max-age" : "idle";
}

const TLSA_STATUSES: ReadonlySet<string> = new Set(["secure", "insecure", "bogus", "error"]);

/** OutboundAttempt keeps the TLSA status as text; decideServerTrust wants its narrow form back. */
function tlsaEvidence(tlsa: OutboundAttempt["tlsa"]): TlsaEvidence | undefined {
  if (!tlsa) return undefined;
  const status = TLSA_STATUSES.has(tlsa.status) ? (tlsa.status as TlsaEvidence["status"]) : "error";
  return { status, records: tlsa.records };
}

/** What a connection needs from its manager. */
interface ConnectionHooks {
  readonly table: ConnectionTable;
  readonly limits: OutboundLimits;
  readonly counters: Counters;
  readonly logger: TransportLogger;
  onMessage(connection: ManagedConnection, message: SipMessage): void;
  expire(connection: ManagedConnection): void;
  lastTransactionEnded(connection: ManagedConnection): void;
  fail(connection: ManagedConnection, reason: CloseReason): void;
  closed(connection: ManagedConnection): void;
}

class ManagedConnection implements OutboundConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly sni: string | null;
  readonly srvHost?: string;
  readonly delegation: "secure" | "insecure";
  readonly method: TrustMethod;
  readonly verificationCode: string;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly chain: readonly X509Certificate[];
  readonly identities: readonly SipIdentity[];
  /** The TLSA evidence the connection was verified with (secure delegations only). */
  readonly tlsa: TlsaEvidence | undefined;
  readonly clientCredential?: { readonly name: string; readonly fingerprint: string };
  readonly closedPromise: Promise<void>;
  /** Why it is draining, once it is. */
  draining: CloseReason | undefined;
  closeReason: CloseReason | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  private partialTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly entry: ConnectionEntry,
    readonly domain: string,
    target: OutboundAttempt,
    readonly socket: TLSSocket,
    credentials: NamedClientCredentials | undefined,
    private readonly hooks: ConnectionHooks,
  ) {
    this.remoteAddress = target.host;
    this.remotePort = target.port;
    this.sni = target.sni;
    this.srvHost = target.srvHost;
    this.delegation = target.delegation;
    this.method = target.verification.method;
    this.verificationCode = target.verification.code;
    this.tlsVersion = target.tls?.version ?? "unknown";
    this.cipher = target.tls?.cipher ?? "unknown";
    this.chain = target.chain;
    this.identities = target.identities;
    this.tlsa = tlsaEvidence(target.tlsa);
    if (credentials) this.clientCredential = { name: credentials.name, fingerprint: credentials.fingerprint };
    this.closedPromise = new Promise((resolve) => socket.once("close", () => resolve()));
    this.attach();
  }

  get id(): number {
    return this.entry.id;
  }

  get state(): ConnectionState {
    return this.closeReason ? "closed" : this.entry.state;
  }

  get generation(): number {
    return this.entry.generation;
  }

  get verifiedNames(): ReadonlySet<string> {
    return this.entry.verifiedNames;
  }

  get activeTransactions(): number {
    return this.entry.activeTransactions;
  }

  send(data: Buffer | string): boolean {
    if (this.socket.destroyed || this.closeReason) return false;
    if (this.socket.writableLength > this.hooks.limits.maxWriteBufferBytes) {
      this.hooks.counters.increment("limit.write-buffer");
      this.hooks.logger.warn(
        { code: "write-buffer", connection: this.id, remote: this.remoteAddress },
        "peer does not read; disconnecting",
      );
      this.hooks.fail(this, "write-buffer");
      return false;
    }
    this.hooks.table.touch(this.id);
    this.socket.write(data);
    return true;
  }

  beginTransaction(): TransactionStart {
    if (this.state === "closed") return { ok: false, code: "closed", detail: "connection closed" };
    if (this.state === "draining") return { ok: false, code: "draining", detail: "connection is draining" };
    // The sweep runs on a timer: a connection past its idle/max age is refused here even before it runs.
    if (!this.hooks.table.acceptsNewTransactions(this.entry)) {
      this.hooks.expire(this);
      return { ok: false, code: "expiring", detail: "connection reached its idle timeout or maximum age" };
    }
    this.entry.activeTransactions++;
    this.hooks.table.touch(this.id);
    return { ok: true, code: "begun" };
  }

  endTransaction(): void {
    if (this.entry.activeTransactions === 0) return;
    this.entry.activeTransactions--;
    this.hooks.table.touch(this.id);
    if (this.entry.activeTransactions === 0) this.hooks.lastTransactionEnded(this);
  }

  private attach(): void {
    const framer = new Framer({ limits: this.hooks.limits.sip });
    this.socket.on("data", (chunk: Buffer) => {
      let completed = false;
      const readable = feedStream(framer, chunk, {
        message: (message) => {
          completed = true;
          this.deliver(message);
        },
        pong: () => void this.send("\r\n"),
        framingError: (error) => {
          this.hooks.counters.increment(`sip.framing.${error.code}`);
          this.hooks.logger.warn({ code: error.code, connection: this.id }, error.message);
          this.hooks.fail(this, "framing-error");
        },
      });
      if (!readable) return;
      this.watchPartial(framer.buffered > 0, completed);
    });
    this.socket.on("error", (err) => {
      this.hooks.counters.increment("outbound.socket-error");
      this.hooks.logger.warn({ connection: this.id, err: err.message }, "outbound connection error");
    });
    this.socket.once("close", () => {
      this.watchPartial(false);
      this.hooks.closed(this);
    });
  }

  private deliver(message: SipMessage): void {
    this.hooks.counters.increment("sip.messages");
    this.hooks.table.touch(this.id);
    this.hooks.onMessage(this, message);
  }

  /**
   * Slowloris bound: a message that started must complete within partialMessageTimeoutMs. The bound is per
   * message: when a chunk completed a message and left the start of the next one, the clock starts again
   * (a busy peer's reads rarely end on a message boundary).
   */
  private watchPartial(partial: boolean, completedOne = false): void {
    if (!partial || completedOne) {
      if (this.partialTimer) clearTimeout(this.partialTimer);
      this.partialTimer = undefined;
      if (!partial) return;
    }
    if (this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.hooks.counters.increment("limit.partial-message-timeout");
      this.hooks.fail(this, "partial-message-timeout");
    }, this.hooks.limits.partialMessageTimeoutMs);
    this.partialTimer.unref();
  }
}
