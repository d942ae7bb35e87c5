// The data a DNS lab is built from: zones, how each is secured, and their records.
// Tests build this after they have made their certificates (TLSA data depends on them),
// then hand it to startDnsLab(). Everything is checked here, before any process starts,
// so a mistake in a test's spec is a typed error that names the zone and record.
import { isIPv4 } from "node:net";

/**
 * How a zone relates to the chain of trust (RFC 4035 §4.3 statuses, as a validator will see them):
 * - `secure`: signed by Knot, parent publishes the matching DS.
 * - `unsigned`: not signed, parent publishes no DS (insecure delegation; the only mode allowed for a
 *   top-level zone outside the anchor, which no trust anchor covers).
 * - `bogus`: signed, but the parent's DS digest does not match the child's key (EDE "DNSKEY Missing").
 * - `stripped`: parent publishes a DS, child is served unsigned (no DNSKEY at all; EDE "DNSKEY Missing").
 */
export type ZoneSecurity = "secure" | "unsigned" | "bogus" | "stripped";

export type LabRecordType = "A" | "AAAA" | "CNAME" | "NAPTR" | "SRV" | "TLSA" | "TXT";

export interface LabRecord {
  /** `@`, a name relative to the zone (`_sips._tcp`, `*.wild`), or absolute with a trailing dot. */
  readonly name: string;
  readonly type: LabRecordType;
  /** RDATA in presentation format, e.g. TLSA `3 1 1 <hex>`, SRV `10 50 5061 a.sip.test.`. */
  readonly data: string;
  readonly ttl?: number;
}

export interface LabZone {
  readonly name: string;
  /** Default `secure`. */
  readonly security?: ZoneSecurity;
  readonly records?: readonly LabRecord[];
}

export interface DnsLabSpec {
  /** Zone whose key becomes Unbound's trust anchor; default `test.`. Added (empty) when not in `zones`. */
  readonly anchor?: string;
  readonly zones: readonly LabZone[];
  /** Default TTL for records without their own; default 300. */
  readonly ttl?: number;
  /** Bound for the whole start (key import, both daemons ready); default 20,000 ms. */
  readonly startTimeoutMs?: number;
  /** The daemons are killed by a watchdog after this long even if the test process dies; default 600,000 ms. */
  readonly maxLifetimeMs?: number;
}

/** A spec after checking: names absolute and lower-case, parents resolved. */
export interface NormalizedZone {
  readonly name: string;
  readonly security: ZoneSecurity;
  /** Closest enclosing lab zone; undefined for the anchor and top-level zones outside it. */
  readonly parent: string | undefined;
  readonly records: readonly NormalizedRecord[];
}

export interface NormalizedRecord {
  readonly owner: string;
  readonly type: LabRecordType;
  readonly data: string;
  readonly ttl: number;
}

export interface NormalizedSpec {
  readonly anchor: string;
  readonly zones: readonly NormalizedZone[];
  readonly ttl: number;
  readonly startTimeoutMs: number;
  readonly maxLifetimeMs: number;
}

export class LabSpecError extends Error {
  constructor(
    readonly code: "bad-name" | "bad-zone" | "bad-record" | "bad-option",
    message: string,
  ) {
    super(message);
    this.name = "LabSpecError";
  }
}

const LABEL = /^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;
const SECURITIES: readonly ZoneSecurity[] = ["secure", "unsigned", "bogus", "stripped"];

/** Lower-cases and adds the trailing dot; RFC 1035 §2.3.4 length limits; `*` only as leftmost label. */
export function absoluteName(name: string): string {
  const lower = name.toLowerCase();
  const fqdn = lower.endsWith(".") ? lower : `${lower}.`;
  const labels = fqdn.slice(0, -1).split(".");
  const badLabel = labels.findIndex((l, i) => !LABEL.test(l) || (l === "*" && i !== 0));
  if (fqdn === "." || fqdn.length > 254 || badLabel !== -1) {
    throw new LabSpecError("bad-name", `not a usable DNS name: ${JSON.stringify(name)}`);
  }
  return fqdn;
}

export function isAtOrBelow(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function ownerName(recordName: string, zone: string): string {
  if (recordName === "@") return zone;
  const owner = recordName.endsWith(".") ? absoluteName(recordName) : absoluteName(`${recordName}.${zone}`);
  if (!isAtOrBelow(owner, zone)) {
    throw new LabSpecError("bad-record", `record ${recordName} is outside zone ${zone}`);
  }
  return owner;
}

const U8 = "(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)";
const U16 = "(?:\\d{1,5})";
const HOST = "(?:[A-Za-z0-9_*-]+(?:\\.[A-Za-z0-9_-]+)*\\.|\\.)";
const QUOTED = '"[^"\\\\]*"';
const DATA_SYNTAX: Record<Exclude<LabRecordType, "A" | "AAAA">, RegExp> = {
  CNAME: new RegExp(`^${HOST}$`),
  // RFC 3403 §4.1: order preference "flags" "services" "regexp" replacement
  NAPTR: new RegExp(`^${U16} ${U16} ${QUOTED} ${QUOTED} ${QUOTED} ${HOST}$`),
  // RFC 2782: priority weight port target
  SRV: new RegExp(`^${U16} ${U16} ${U16} ${HOST}$`),
  // RFC 6698 §2.2: usage selector matching-type association-data (hex)
  TLSA: new RegExp(`^${U8} ${U8} ${U8} (?:[0-9A-Fa-f]{2})+$`),
  TXT: new RegExp(`^(?:${QUOTED} ?)+$`),
};

/** Loopback only (brief: tests use 127.0.0.0/8 and ::1), so a lab can never send a test off-machine. */
function checkData(type: LabRecordType, data: string): boolean {
  // one record per line in the zone file: no control characters, so no record can smuggle in another
  if (/[\x00-\x1f\x7f]/.test(data)) return false;
  if (type === "A") return isIPv4(data) && data.startsWith("127.");
  if (type === "AAAA") return data === "::1";
  if (!DATA_SYNTAX[type].test(data)) return false;
  if (type === "SRV" || type === "NAPTR") return data.split(" ").slice(0, 3).every(fitsU16);
  return true;
}

function fitsU16(field: string): boolean {
  return !/^\d+$/.test(field) || Number(field) <= 65535;
}

function normalizeRecord(record: LabRecord, zone: string, defaultTtl: number): NormalizedRecord {
  const owner = ownerName(record.name, zone);
  const ttl = record.ttl ?? defaultTtl;
  if (!checkData(record.type, record.data)) {
    throw new LabSpecError(
      "bad-record",
      `bad ${record.type} data for ${owner}: ${JSON.stringify(record.data)}`,
    );
  }
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 86400) {
    throw new LabSpecError("bad-record", `bad TTL ${ttl} for ${owner} ${record.type}`);
  }
  return { owner, type: record.type, data: record.data, ttl };
}

function closestEnclosing(name: string, zoneNames: readonly string[]): string | undefined {
  const enclosing = zoneNames.filter((z) => z !== name && isAtOrBelow(name, z));
  return enclosing.sort((a, b) => b.length - a.length)[0];
}

/** A record at or below a child's cut would be occluded (RFC 2181 §6): refuse it instead. */
function checkNotBelowCut(zone: NormalizedZone, zoneNames: readonly string[]): void {
  for (const r of zone.records) {
    const cut = zoneNames.find(
      (z) => z !== zone.name && isAtOrBelow(z, zone.name) && isAtOrBelow(r.owner, z),
    );
    if (cut !== undefined) {
      throw new LabSpecError("bad-record", `${r.owner} ${r.type} in ${zone.name} lies in child zone ${cut}`);
    }
  }
}

/** A DS only means something in a secure parent; anywhere else the child is just insecure, so say so. */
function checkSecurity(zone: NormalizedZone, zones: readonly NormalizedZone[], anchor: string): void {
  if (!SECURITIES.includes(zone.security)) {
    throw new LabSpecError(
      "bad-zone",
      `zone ${zone.name}: unknown security ${JSON.stringify(zone.security)}`,
    );
  }
  if (zone.name === anchor) {
    if (zone.security === "secure") return;
    throw new LabSpecError("bad-zone", `anchor ${anchor} must be secure (its key is the trust anchor)`);
  }
  const parent = zones.find((z) => z.name === zone.parent);
  const chained = isAtOrBelow(zone.name, anchor) && parent?.security === "secure";
  if (zone.security !== "unsigned" && !chained) {
    throw new LabSpecError(
      "bad-zone",
      `zone ${zone.name} ("${zone.security}") needs a secure parent below ${anchor}`,
    );
  }
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0)
    throw new LabSpecError("bad-option", `${what} must be a positive integer`);
  return v;
}

export function normalizeSpec(spec: DnsLabSpec): NormalizedSpec {
  const anchor = absoluteName(spec.anchor ?? "test.");
  const ttl = positiveInt(spec.ttl, 300, "ttl");
  const given = spec.zones.some((z) => absoluteName(z.name) === anchor)
    ? spec.zones
    : [{ name: anchor }, ...spec.zones];
  const names = given.map((z) => absoluteName(z.name));
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new LabSpecError("bad-zone", `zone ${duplicate} listed twice`);
  // zone-file.ts names ns.<anchor> (an A record in the anchor) as every zone's server
  if (names.includes(`ns.${anchor}`))
    throw new LabSpecError("bad-zone", `ns.${anchor} is the lab's server name`);
  const zones = given.map((z, i) => {
    const name = names[i] as string;
    const records = (z.records ?? []).map((r) => normalizeRecord(r, name, ttl));
    return { name, security: z.security ?? "secure", parent: closestEnclosing(name, names), records };
  });
  for (const zone of zones) {
    checkSecurity(zone, zones, anchor);
    checkNotBelowCut(zone, names);
  }
  return {
    anchor,
    zones,
    ttl,
    startTimeoutMs: positiveInt(spec.startTimeoutMs, 20_000, "startTimeoutMs"),
    maxLifetimeMs: positiveInt(spec.maxLifetimeMs, 600_000, "maxLifetimeMs"),
  };
}
