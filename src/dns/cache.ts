/**
 * A bounded TTL cache for DNS answers keyed by (name, type), with negative caching per RFC 2308 and an injectable
 * clock. Only definite answers (records, NODATA, NXDOMAIN with a secure or insecure status) are cached: failures and
 * bogus results are left to the validating resolver, which caches them itself (RFC 9520).
 */
import type { DnsAnswer } from "./answer.js";
import { soaData } from "./records.js";

export interface DnsCacheOptions {
  /** Maximum entries; the least recently used is evicted first. */
  readonly maxEntries?: number;
  /** Upper bound on positive TTLs (seconds). */
  readonly maxTtl?: number;
  /** Upper bound on negative TTLs (seconds); RFC 2308 §5 finds 1-3 hours sensible. */
  readonly maxNegativeTtl?: number;
  /** Milliseconds since some epoch; Date.now by default. */
  readonly now?: () => number;
}

interface Entry {
  readonly answer: DnsAnswer;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** Positive TTL: the smallest TTL of the records used, CNAMEs included (RFC 2181 §5.2: one RRset, one TTL). */
export function positiveTtl(answer: Pick<DnsAnswer, "records" | "cnames">): number {
  const ttls = [...answer.records, ...answer.cnames].map((r) => r.ttl);
  return ttls.length === 0 ? 0 : Math.min(...ttls);
}

/**
 * RFC 2308 §5: the negative TTL is the minimum of the SOA record's own TTL and its MINIMUM field. A negative answer
 * without an SOA in the authority section SHOULD NOT be cached: TTL 0. In-answer CNAMEs bound it too.
 */
export function negativeTtl(answer: Pick<DnsAnswer, "authorities" | "cnames">): number {
  const soa = answer.authorities.find((r) => r.type === "SOA");
  const data = soa === undefined ? undefined : soaData(soa);
  if (soa === undefined || data === undefined) return 0;
  return Math.min(soa.ttl, data.minimum, ...answer.cnames.map((r) => r.ttl));
}

export class DnsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;
  private readonly now: () => number;

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.maxTtl = options.maxTtl ?? 86_400;
    this.maxNegativeTtl = options.maxNegativeTtl ?? 10_800;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer with its TTL counted down, or undefined when absent or expired. */
  get(name: string, type: string): DnsAnswer | undefined {
    const key = cacheKey(name, type);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    const remaining = Math.ceil((entry.expiresAt - now) / 1000);
    return { ...entry.answer, ttl: remaining, fromCache: true };
  }

  /** Stores a definite answer for its TTL (bounded); other answers are ignored. */
  put(answer: DnsAnswer): void {
    const ttl = this.cacheableTtl(answer);
    if (ttl <= 0) return;
    const key = cacheKey(answer.name, answer.type);
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { answer, storedAt: now, expiresAt: now + ttl * 1000 });
    this.evict();
  }

  clear(): void {
    this.entries.clear();
  }

  private cacheableTtl(answer: DnsAnswer): number {
    if (answer.status !== "secure" && answer.status !== "insecure") return 0;
    if (answer.code === "answer") return Math.min(answer.ttl, this.maxTtl);
    if (answer.code === "nodata" || answer.code === "nxdomain")
      return Math.min(answer.ttl, this.maxNegativeTtl);
    return 0;
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) return;
      this.entries.delete(oldest.value);
    }
  }
}

function cacheKey(name: string, type: string): string {
  return `${name.toLowerCase().replace(/\.$/, "")}|${type}`;
}
