/**
 * Resolution of one (name, type) across queries, following CNAMEs that the resolver did not already chase, and the
 * `Step` record kept for each query so that `check` can show the whole DNS path with its DNSSEC marks.
 */
import type { DnsAnswer, DnssecStatus } from "./answer.js";
import type { DnsQuerier } from "./client.js";
import type { ExtendedError } from "./ede.js";
import { formatRecord } from "./records.js";
import { worstStatus } from "./status.js";
import type { QueryType, WireRecord } from "./wire.js";

/** Bound on CNAME hops across separate queries (each hop is one more query). */
export const MAX_CNAME_QUERIES = 8;

/** One DNS query on the path, as `check` reports it. */
export interface Step {
  readonly name: string;
  readonly type: QueryType;
  readonly status: DnssecStatus;
  readonly code: string;
  readonly ttl: number;
  /** Records in presentation format (CNAMEs first). */
  readonly answers: readonly string[];
  readonly detail: string;
  readonly ede: readonly ExtendedError[];
  readonly adUntrusted: boolean;
  readonly fromCache: boolean;
}

export function toStep(answer: DnsAnswer): Step {
  return {
    name: answer.name,
    type: answer.type,
    status: answer.status,
    code: answer.code,
    ttl: answer.ttl,
    answers: [...answer.cnames, ...answer.records].map(formatRecord),
    detail: answer.detail,
    ede: answer.ede,
    adUntrusted: answer.adUntrusted,
    fromCache: answer.fromCache,
  };
}

export interface Resolution {
  /** Worst status over every step: a CNAME into an unsigned zone makes the whole resolution insecure. */
  readonly status: DnssecStatus;
  /** Code of the last answer (`answer`, `nodata`, `nxdomain`, failure codes, or `cname-chain`). */
  readonly code: string;
  readonly canonicalName: string;
  readonly records: readonly WireRecord[];
  readonly steps: readonly Step[];
}

/**
 * Asks for (name, type); when the answer ends in a CNAME without the RRset, asks again at the CNAME target, each hop
 * being its own step with its own status (RFC 1034 §5.3.3 lets a stub chase CNAMEs itself).
 */
export async function resolveFollowing(
  client: DnsQuerier,
  name: string,
  type: QueryType,
): Promise<Resolution> {
  const steps: Step[] = [];
  const seen = new Set<string>();
  let current = name;
  for (let hop = 0; hop <= MAX_CNAME_QUERIES; hop++) {
    seen.add(current);
    const answer = await client.query(current, type);
    steps.push(toStep(answer));
    const done = answer.records.length > 0 || answer.canonicalName === current || answer.code !== "nodata";
    if (done) return finish(answer.code, answer.canonicalName, answer.records, steps);
    if (seen.has(answer.canonicalName)) break;
    current = answer.canonicalName;
  }
  return { status: "error", code: "cname-chain", canonicalName: current, records: [], steps };
}

function finish(
  code: string,
  canonicalName: string,
  records: readonly WireRecord[],
  steps: Step[],
): Resolution {
  return { status: worstStatus(steps.map((s) => s.status)), code, canonicalName, records, steps };
}
