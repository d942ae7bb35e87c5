/**
 * RRset extraction from an answer section, and presentation-format rendering for reports.
 */
import type { WireRecord } from "./wire.js";
import { canonicalName } from "./names.js";

/** Bound on CNAMEs followed inside one response (a resolver legitimately returns short chains). */
export const MAX_IN_ANSWER_CNAMES = 16;

export interface RrsetView {
  readonly canonicalName: string;
  readonly cnames: readonly WireRecord[];
  readonly records: readonly WireRecord[];
  /** True when the chain looped or exceeded the bound. */
  readonly chainBroken: boolean;
}

/**
 * RFC 1034 §3.6.2 / §4.3.2: an answer for `qname` may start with a CNAME chain; the RRset asked for sits at the end of
 * the chain. Records owned by other names are ignored (they are not part of this answer).
 */
export function extractRrset(answers: readonly WireRecord[], qname: string, type: string): RrsetView {
  let current = canonicalName(qname);
  const cnames: WireRecord[] = [];
  const seen = new Set<string>([current]);
  for (;;) {
    const records = answers.filter((r) => r.name === current && r.type === type);
    if (records.length > 0 || type === "CNAME")
      return { canonicalName: current, cnames, records, chainBroken: false };
    const cname = answers.find((r) => r.name === current && r.type === "CNAME");
    if (cname === undefined || typeof cname.data !== "string") {
      return { canonicalName: current, cnames, records: [], chainBroken: false };
    }
    const next = canonicalName(cname.data);
    cnames.push(cname);
    if (seen.has(next) || cnames.length > MAX_IN_ANSWER_CNAMES) {
      return { canonicalName: next, cnames, records: [], chainBroken: true };
    }
    seen.add(next);
    current = next;
  }
}

interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
interface NaptrData {
  order: number;
  preference: number;
  flags: string;
  services: string;
  regexp: string;
  replacement: string;
}
interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export function srvData(record: WireRecord): SrvData | undefined {
  return record.type === "SRV" ? (record.data as SrvData) : undefined;
}
export function naptrData(record: WireRecord): NaptrData | undefined {
  return record.type === "NAPTR" ? (record.data as NaptrData) : undefined;
}
export function soaData(record: WireRecord): SoaData | undefined {
  return record.type === "SOA" ? (record.data as SoaData) : undefined;
}

const fqdn = (name: string): string => (name === "." || name.endsWith(".") ? name : `${name}.`);

/** RDATA in presentation format (RFC 1035 §5.1 and each type's RFC). */
export function formatRdata(record: WireRecord): string {
  const srv = srvData(record);
  if (srv) return `${srv.priority} ${srv.weight} ${srv.port} ${fqdn(srv.target)}`;
  const naptr = naptrData(record);
  if (naptr) {
    const q = (s: string) => JSON.stringify(s);
    return `${naptr.order} ${naptr.preference} ${q(naptr.flags)} ${q(naptr.services)} ${q(naptr.regexp)} ${fqdn(naptr.replacement)}`;
  }
  const soa = soaData(record);
  if (soa) {
    return `${fqdn(soa.mname)} ${fqdn(soa.rname)} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
  }
  if (record.type === "TLSA" && record.rdata.length >= 3) {
    const [u, s, m] = record.rdata;
    return `${u} ${s} ${m} ${record.rdata.subarray(3).toString("hex")}`;
  }
  if (record.type === "CNAME" || record.type === "NS") return fqdn(String(record.data));
  if (typeof record.data === "string") return record.data;
  return `\\# ${record.rdata.length} ${record.rdata.toString("hex")}`;
}

/** One record as a zone-file line: `owner. TTL IN TYPE rdata`. */
export function formatRecord(record: WireRecord): string {
  return `${fqdn(record.name)} ${record.ttl} IN ${record.type} ${formatRdata(record)}`;
}
