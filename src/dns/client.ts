/**
 * A stub DNS client for one recursive, validating resolver (RFC 1034 §5.3.1 "stub resolver").
 *
 * Every query goes out over UDP with EDNS0 (1232-octet payload, DO=1); a truncated answer (TC=1) is asked again over
 * TCP (RFC 7766 §5). Each attempt has its own timeout and a fresh random ID; failed attempts are retried a bounded
 * number of times. The outcome is always a `DnsAnswer` with a DNSSEC status (see answer.ts), never an exception.
 */
import { randomInt } from "node:crypto";
import type { AnswerCode, DnsAnswer } from "./answer.js";
import { DnsCache, negativeTtl, positiveTtl } from "./cache.js";
import { extractEde } from "./ede.js";
import { DnsConfigError } from "./errors.js";
import {
  tcpExchange,
  udpExchange,
  type ExchangeOutcome,
  type ExchangeRequest,
  type ExchangeTally,
} from "./exchange.js";
import { canonicalName, isValidName } from "./names.js";
import { extractRrset } from "./records.js";
import { parseResolverAddress, systemResolver, type ResolverEndpoint } from "./resolver-config.js";
import { classifyResponse } from "./status.js";
import { encodeQuery, type DnsMessage, type QueryType } from "./wire.js";

export interface DnsClientOptions {
  /** `host`, `host:port`, `[v6]:port`, or an endpoint; default: first nameserver of /etc/resolv.conf. */
  readonly resolver?: string | ResolverEndpoint;
  /** Believe the AD bit of a non-loopback resolver (the path to it must be secured by other means). */
  readonly trusted?: boolean;
  /** Per-attempt timeout in milliseconds (default 2000). */
  readonly timeoutMs?: number;
  /** Extra attempts after the first (default 2). */
  readonly retries?: number;
  /** Largest response accepted, in octets (default and maximum 65535). */
  readonly maxResponseBytes?: number;
  /** A cache shared by queries, or `false` for none (default: a fresh DnsCache). */
  readonly cache?: DnsCache | false;
  /** Query ID source (default: crypto.randomInt). Tests only. */
  readonly randomId?: () => number;
}

export interface DnsCounters {
  queries: number;
  cacheHits: number;
  udpAttempts: number;
  tcpAttempts: number;
  tcpFallbacks: number;
  retries: number;
  timeouts: number;
  mismatched: number;
  garbage: number;
  oversize: number;
  tcpTruncated: number;
  networkErrors: number;
  secure: number;
  insecure: number;
  bogus: number;
  error: number;
}

/** Anything that answers questions: the client, or a test double. */
export interface DnsQuerier {
  query(name: string, type: QueryType): Promise<DnsAnswer>;
}

const MAX_MESSAGE = 65_535;

function newCounters(): DnsCounters {
  return {
    queries: 0,
    cacheHits: 0,
    udpAttempts: 0,
    tcpAttempts: 0,
    tcpFallbacks: 0,
    retries: 0,
    timeouts: 0,
    mismatched: 0,
    garbage: 0,
    oversize: 0,
    tcpTruncated: 0,
    networkErrors: 0,
    secure: 0,
    insecure: 0,
    bogus: 0,
    error: 0,
  };
}

export class DnsClient implements DnsQuerier {
  readonly endpoint: ResolverEndpoint;
  readonly counters: DnsCounters = newCounters();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxResponseBytes: number;
  private readonly cache: DnsCache | undefined;
  private readonly randomId: () => number;

  constructor(options: DnsClientOptions = {}) {
    this.endpoint = resolveEndpoint(options);
    this.timeoutMs = checkedInt(options.timeoutMs ?? 2000, 1, 60_000, "timeoutMs");
    this.retries = checkedInt(options.retries ?? 2, 0, 10, "retries");
    this.maxResponseBytes = checkedInt(
      options.maxResponseBytes ?? MAX_MESSAGE,
      512,
      MAX_MESSAGE,
      "maxResponseBytes",
    );
    this.cache = options.cache === false ? undefined : (options.cache ?? new DnsCache());
    this.randomId = options.randomId ?? (() => randomInt(0, 65_536));
  }

  get resolverLabel(): string {
    const { host, port } = this.endpoint;
    return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  }

  async query(name: string, type: QueryType): Promise<DnsAnswer> {
    this.counters.queries++;
    const qname = canonicalName(name);
    if (!isValidName(qname))
      return this.count(this.failure(qname, type, "bad-name", `"${name}" is not a valid DNS name`));
    const cached = this.cache?.get(qname, type);
    if (cached !== undefined) {
      this.counters.cacheHits++;
      return cached;
    }
    const answer = await this.ask(qname, type);
    this.cache?.put(answer);
    return this.count(answer);
  }

  private async ask(qname: string, type: QueryType): Promise<DnsAnswer> {
    let last: DnsAnswer | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) this.counters.retries++;
      const outcome = await this.attempt(qname, type);
      if (outcome.answer !== undefined) return outcome.answer;
      last = outcome.failure;
    }
    return last ?? this.failure(qname, type, "timeout", "no attempt made");
  }

  /** One UDP exchange, and the TCP retry when the UDP answer was truncated. */
  private async attempt(
    qname: string,
    type: QueryType,
  ): Promise<{ answer?: DnsAnswer; failure?: DnsAnswer }> {
    const tally: ExchangeTally = { garbage: 0, mismatched: 0, oversize: 0 };
    const request = this.request(qname, type);
    this.counters.udpAttempts++;
    let outcome = await udpExchange(request, tally);
    let transport: "udp" | "tcp" = "udp";
    if (outcome.kind === "response" && outcome.message.tc) {
      this.counters.tcpFallbacks++;
      this.counters.tcpAttempts++;
      transport = "tcp";
      outcome = await tcpExchange(this.request(qname, type), tally);
    }
    this.addTally(tally);
    if (outcome.kind === "response")
      return { answer: this.fromMessage(qname, type, outcome.message, transport) };
    return { failure: this.fromFailure(qname, type, outcome, tally, transport) };
  }

  private request(name: string, type: QueryType): ExchangeRequest {
    const id = this.randomId() & 0xffff;
    const query = encodeQuery(id, name, type);
    return {
      endpoint: this.endpoint,
      query,
      id,
      name,
      type,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
    };
  }

  private addTally(tally: ExchangeTally): void {
    this.counters.garbage += tally.garbage;
    this.counters.mismatched += tally.mismatched;
    this.counters.oversize += tally.oversize;
  }

  private fromMessage(
    qname: string,
    type: QueryType,
    message: DnsMessage,
    transport: "udp" | "tcp",
  ): DnsAnswer {
    const ede = extractEde(message.opt?.options ?? []);
    const view = extractRrset(message.answers, qname, type);
    const verdict = classifyResponse({
      rcode: message.rcode,
      ad: message.ad,
      adTrusted: this.endpoint.adTrusted,
      ede,
      hasRecords: view.records.length > 0,
    });
    const base = {
      name: qname,
      type,
      rcode: message.rcode,
      ad: message.ad,
      ede,
      canonicalName: view.canonicalName,
      cnames: view.cnames,
      authorities: message.authorities,
      transport,
      fromCache: false,
      resolver: this.resolverLabel,
    };
    // RFC 1035 §4.1.1: TC=1 even over TCP means the answer is incomplete: unusable.
    if (message.tc) return { ...base, ...unusable("truncated", "TC=1 over TCP") };
    if (view.chainBroken) {
      return { ...base, ...unusable("cname-chain", `CNAME chain from ${qname} loops or exceeds its bound`) };
    }
    const usable = verdict.status === "secure" || verdict.status === "insecure";
    const partial = { ...base, ...verdict, records: usable ? view.records : [] };
    return { ...partial, ttl: answerTtl(partial) };
  }

  private fromFailure(
    qname: string,
    type: QueryType,
    outcome: Exclude<ExchangeOutcome, { kind: "response" }>,
    tally: ExchangeTally,
    transport: "udp" | "tcp",
  ): DnsAnswer {
    if (outcome.kind === "timeout") {
      const cause = discardedCause(tally);
      if (cause !== undefined) return this.failure(qname, type, cause.code, cause.detail, transport);
      this.counters.timeouts++;
      return this.failure(qname, type, "timeout", `no answer within ${this.timeoutMs} ms`, transport);
    }
    if (outcome.kind === "tcp-truncated") this.counters.tcpTruncated++;
    if (outcome.kind === "network-error") this.counters.networkErrors++;
    return this.failure(qname, type, outcome.kind, outcome.detail, transport);
  }

  private failure(
    name: string,
    type: QueryType,
    code: AnswerCode,
    detail: string,
    transport?: "udp" | "tcp",
  ): DnsAnswer {
    return {
      name,
      type,
      status: "error",
      code,
      detail,
      rcode: undefined,
      ad: false,
      adUntrusted: false,
      ede: [],
      canonicalName: name,
      cnames: [],
      records: [],
      authorities: [],
      ttl: 0,
      transport,
      fromCache: false,
      resolver: this.resolverLabel,
    };
  }

  private count(answer: DnsAnswer): DnsAnswer {
    this.counters[answer.status]++;
    return answer;
  }
}

function unusable(code: AnswerCode, detail: string) {
  return { status: "error" as const, code, detail, adUntrusted: false, records: [], ttl: 0 };
}

/** Positive answers live for their records' TTL; negative ones for the RFC 2308 §5 TTL; failures not at all. */
function answerTtl(
  answer: Pick<DnsAnswer, "code" | "status" | "records" | "cnames" | "authorities">,
): number {
  if (answer.status === "error" || answer.status === "bogus") return 0;
  return answer.code === "answer" ? positiveTtl(answer) : negativeTtl(answer);
}

/** When only discarded responses arrived, they explain the failure better than a timeout does. */
function discardedCause(tally: ExchangeTally): { code: AnswerCode; detail: string } | undefined {
  if (tally.garbage > 0)
    return { code: "garbage", detail: `${tally.garbage} undecodable response(s), no valid answer` };
  if (tally.mismatched > 0) {
    return { code: "mismatched", detail: `${tally.mismatched} response(s) with a foreign ID or question` };
  }
  if (tally.oversize > 0) return { code: "too-large", detail: `${tally.oversize} oversize response(s)` };
  return undefined;
}

function resolveEndpoint(options: DnsClientOptions): ResolverEndpoint {
  const trusted = options.trusted === true;
  if (options.resolver === undefined) return systemResolver({ trusted });
  if (typeof options.resolver === "string") return parseResolverAddress(options.resolver, { trusted });
  return options.resolver;
}

function checkedInt(value: number, min: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DnsConfigError("bad-option", `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}
