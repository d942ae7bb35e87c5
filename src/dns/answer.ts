/**
 * The result of one DNS question: never thrown, always a value with a DNSSEC status and a machine-readable code.
 */
import type { ExtendedError } from "./ede.js";
import type { QueryType, WireRecord } from "./wire.js";

/**
 * DNSSEC status of an answer (RFC 4035 §4.3 states, as a stub sees them through its validating resolver):
 * - `secure`: AD=1 from a trusted resolver (RFC 4035 §3.2.3);
 * - `insecure`: NOERROR/NXDOMAIN without a believable AD bit;
 * - `bogus`: SERVFAIL carrying an Extended DNS Error that names a validation failure (RFC 8914, see ede.ts);
 * - `error`: no usable answer (other SERVFAIL, REFUSED, timeout, malformed or mismatched responses, ...).
 */
export type DnssecStatus = "secure" | "insecure" | "bogus" | "error";

export type AnswerCode =
  /** NOERROR with records of the asked type (after following in-answer CNAMEs). */
  | "answer"
  /** NOERROR without records of the asked type (RFC 2308 §2.2 NODATA). */
  | "nodata"
  | "nxdomain"
  | "servfail"
  | "refused"
  | "formerr"
  | "rcode"
  /** No response within the timeout, on every attempt. */
  | "timeout"
  /** Only undecodable responses arrived. */
  | "garbage"
  /** Only responses with a foreign ID or question arrived. */
  | "mismatched"
  /** The TCP stream ended before the announced message length. */
  | "tcp-truncated"
  /** TC=1 even over TCP: the answer is incomplete. */
  | "truncated"
  /** A response larger than the configured limit. */
  | "too-large"
  | "network-error"
  | "bad-name"
  /** A CNAME chain looped or exceeded its bound. */
  | "cname-chain";

export interface DnsAnswer {
  /** The name asked (canonical form). */
  readonly name: string;
  readonly type: QueryType;
  readonly status: DnssecStatus;
  readonly code: AnswerCode;
  readonly detail: string;
  /** RCODE when a response was received. */
  readonly rcode: number | undefined;
  /** The AD bit as received. */
  readonly ad: boolean;
  /** AD=1 arrived from a resolver whose AD bit is not trusted: reported, not believed (status stays insecure). */
  readonly adUntrusted: boolean;
  readonly ede: readonly ExtendedError[];
  /** Owner name of `records`: the query name, or the end of the in-answer CNAME chain. */
  readonly canonicalName: string;
  /** CNAME records followed inside the answer, in order. */
  readonly cnames: readonly WireRecord[];
  /** The RRset of the asked type at `canonicalName`. */
  readonly records: readonly WireRecord[];
  /** Authority section (SOA for negative answers, RFC 2308 §3). */
  readonly authorities: readonly WireRecord[];
  /** Seconds this answer may be used: minimum record TTL, or the RFC 2308 §5 negative TTL; 0 for failures. */
  readonly ttl: number;
  readonly transport: "udp" | "tcp" | undefined;
  readonly fromCache: boolean;
  /** `host:port` of the resolver that answered (or was asked). */
  readonly resolver: string;
}
