/**
 * The table of live TLS connections and what each may be reused for (RFC 5923, made safe).
 *
 * RFC 5923 §4–5 lets a connection be reused for requests towards a peer once the peer's identity was
 * verified on it, and §9 warns that an alias learned from a Via `alias` parameter alone proves nothing.
 * So the only way a name becomes an alias here is `recordVerified()`, called with an identity that the TLS
 * layer verified on that very connection (RFC 5922 match, DANE-verified SRV host, or a verified client's
 * domain). Reuse additionally requires the same client certificate the destination is configured to use:
 * a connection opened for domain A with certificate X is never handed out for domain B that needs Y.
 *
 * Pure bookkeeping with an injected clock: sockets are owned by the caller.
 */
import { normalizeDomain } from "../pki/identities.js";

export type ConnectionDirection = "inbound" | "outbound";
export type ConnectionState = "open" | "draining" | "closed";

export interface ConnectionLimits {
  /** Idle time after which a connection stops taking new transactions (ms). */
  readonly idleTimeoutMs: number;
  /** Age after which a connection stops taking new transactions and is re-verified by a new one (ms). */
  readonly maxAgeMs: number;
}

export interface ConnectionEntry {
  readonly id: number;
  readonly direction: ConnectionDirection;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** SHA-256 fingerprint of the client certificate we presented (outbound); undefined = none. */
  readonly clientCredential?: string;
  /** Configuration generation the connection was verified under. */
  generation: number;
  readonly openedAt: number;
  lastActivityAt: number;
  state: ConnectionState;
  /** Normalized names verified on this connection; the only names it may be reused for. */
  readonly verifiedNames: Set<string>;
  /** Transactions running on it; a draining connection closes when this reaches zero. */
  activeTransactions: number;
}

export interface NewConnection {
  readonly direction: ConnectionDirection;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly clientCredential?: string;
  readonly generation: number;
}

export type ReuseDecision =
  | { readonly ok: true; readonly code: "reuse"; readonly entry: ConnectionEntry }
  | {
      readonly ok: false;
      readonly code: "no-verified-connection" | "client-credential-differs" | "expiring";
      readonly detail: string;
    };

export class ConnectionTable {
  private readonly entries = new Map<number, ConnectionEntry>();
  private readonly byName = new Map<string, Set<number>>();
  private nextId = 1;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  all(): IterableIterator<ConnectionEntry> {
    return this.entries.values();
  }

  get(id: number): ConnectionEntry | undefined {
    return this.entries.get(id);
  }

  add(connection: NewConnection): ConnectionEntry {
    const at = this.now();
    const entry: ConnectionEntry = {
      ...connection,
      id: this.nextId++,
      openedAt: at,
      lastActivityAt: at,
      state: "open",
      verifiedNames: new Set(),
      activeTransactions: 0,
    };
    this.entries.set(entry.id, entry);
    return entry;
  }

  /** RFC 5923 §5: an alias exists only for a name verified on this connection's TLS session. */
  recordVerified(id: number, name: string): void {
    const entry = this.entries.get(id);
    if (!entry || entry.state === "closed") return;
    const key = normalizeDomain(name);
    entry.verifiedNames.add(key);
    let ids = this.byName.get(key);
    if (!ids) this.byName.set(key, (ids = new Set()));
    ids.add(id);
  }

  touch(id: number): void {
    const entry = this.entries.get(id);
    if (entry) entry.lastActivityAt = this.now();
  }

  /**
   * A connection for requests towards `name`, opened with `clientCredential` (undefined = none). Only an
   * open, unexpired connection on which `name` was verified qualifies.
   */
  findReusable(name: string, clientCredential: string | undefined): ReuseDecision {
    const ids = this.byName.get(normalizeDomain(name));
    const candidates = [...(ids ?? [])]
      .map((id) => this.entries.get(id))
      .filter((e): e is ConnectionEntry => !!e);
    if (candidates.length === 0) {
      return { ok: false, code: "no-verified-connection", detail: `no connection has verified ${name}` };
    }
    const sameCredential = candidates.filter((e) => e.clientCredential === clientCredential);
    if (sameCredential.length === 0) {
      return {
        ok: false,
        code: "client-credential-differs",
        detail: `connections verified for ${name} were opened with another client certificate`,
      };
    }
    const usable = sameCredential.find((e) => this.acceptsNewTransactions(e));
    if (!usable)
      return { ok: false, code: "expiring", detail: `connections for ${name} are draining or expired` };
    return { ok: true, code: "reuse", entry: usable };
  }

  /** Idle timeout and maximum age: past either, a connection takes no new transactions. */
  acceptsNewTransactions(entry: ConnectionEntry): boolean {
    if (entry.state !== "open") return false;
    const at = this.now();
    return (
      at - entry.openedAt < this.limits.maxAgeMs && at - entry.lastActivityAt < this.limits.idleTimeoutMs
    );
  }

  /** Moves expired connections to `draining`; returns those that can close now (no transaction running). */
  sweep(): ConnectionEntry[] {
    const closable: ConnectionEntry[] = [];
    for (const entry of this.entries.values()) {
      if (entry.state === "open" && !this.acceptsNewTransactions(entry)) entry.state = "draining";
      if (entry.state === "draining" && entry.activeTransactions === 0) closable.push(entry);
    }
    return closable;
  }

  /** Stops new transactions on `id`; running ones may finish (graceful close, reload `revalidate`). */
  drain(id: number): void {
    const entry = this.entries.get(id);
    if (entry && entry.state === "open") entry.state = "draining";
  }

  remove(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.state = "closed";
    this.entries.delete(id);
    for (const name of entry.verifiedNames) {
      const ids = this.byName.get(name);
      ids?.delete(id);
      if (ids && ids.size === 0) this.byName.delete(name);
    }
  }
}
