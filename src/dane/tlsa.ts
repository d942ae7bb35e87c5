/**
 * The TLSA record model (RFC 6698 §2.1) and the usability rules of RFC 6698 §4.1 and RFC 7671 §4.1: a client ignores records
 * whose parameters it does not support or whose data cannot be what the parameters say, and treats an RRset
 * without any usable record as if it had no TLSA records at all.
 */
import { X509Certificate, createPublicKey, type KeyObject } from "node:crypto";
import { DerError, readElement } from "../pki/der.js";
import type { TlsaMatching, TlsaSelector, TlsaUsage } from "../pki/tlsa-data.js";

// The parameter types are pki/tlsa-data.ts's (shared with `siptrust tlsa`); these are their names.
/** RFC 6698 §2.1.1 / RFC 7218 §2.1: certificate usage. */
export const USAGE = { PKIX_TA: 0, PKIX_EE: 1, DANE_TA: 2, DANE_EE: 3 } as const satisfies Record<
  string,
  TlsaUsage
>;
/** RFC 6698 §2.1.2 / RFC 7218 §2.2: selector. */
export const SELECTOR = { CERT: 0, SPKI: 1 } as const satisfies Record<string, TlsaSelector>;
/** RFC 6698 §2.1.3 / RFC 7218 §2.3: matching type. */
export const MATCHING = { FULL: 0, SHA256: 1, SHA512: 2 } as const satisfies Record<string, TlsaMatching>;

/** One TLSA RDATA as it came from DNS: the numbers are not yet checked. */
export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  readonly data: Uint8Array;
}

/** A record this implementation can use; `cert`/`publicKey` are set for Full(0) data (RFC 7671 §5.2). */
export interface UsableTlsaRecord {
  readonly record: TlsaRecord;
  /** Position in the input RRset, for reports. */
  readonly index: number;
  readonly usage: TlsaUsage;
  readonly selector: TlsaSelector;
  readonly matchingType: TlsaMatching;
  readonly data: Buffer;
  readonly cert?: X509Certificate;
  readonly publicKey?: KeyObject;
}

export type UnusableReason =
  | "bad-data"
  | "unknown-usage"
  | "unknown-selector"
  | "unknown-matching-type"
  | "bad-digest-length"
  | "bad-certificate"
  | "bad-public-key";

export interface UnusableTlsaRecord {
  readonly record: TlsaRecord;
  readonly index: number;
  readonly reason: UnusableReason;
  readonly detail: string;
}

export interface ClassifiedRecords {
  readonly usable: readonly UsableTlsaRecord[];
  readonly unusable: readonly UnusableTlsaRecord[];
}

/** Digest lengths in octets (RFC 6234): data of another length can never match, so the record is unusable. */
export const DIGEST_LENGTH: Readonly<Record<number, number>> = {
  [MATCHING.SHA256]: 32,
  [MATCHING.SHA512]: 64,
};

/** Bounds the work per RRset; a DNS message cannot legitimately carry more than this many TLSA records. */
export const MAX_TLSA_RECORDS = 256;

/** Splits an RRset into usable and unusable records (RFC 7671 §4.1), keeping each record's position. */
export function classifyRecords(records: readonly TlsaRecord[]): ClassifiedRecords {
  const usable: UsableTlsaRecord[] = [];
  const unusable: UnusableTlsaRecord[] = [];
  records.slice(0, MAX_TLSA_RECORDS).forEach((record, index) => {
    const result = classifyRecord(record, index);
    if ("reason" in result) unusable.push(result);
    else usable.push(result);
  });
  return { usable, unusable };
}

/** One record's verdict: usable with its parsed parameters, or unusable with the rule that failed. */
export function classifyRecord(record: TlsaRecord, index: number): UsableTlsaRecord | UnusableTlsaRecord {
  const bad = (reason: UnusableReason, detail: string): UnusableTlsaRecord => ({
    record,
    index,
    reason,
    detail,
  });
  const problem = parameterProblem(record);
  if (problem) return bad(...problem);
  const { usage, selector, matchingType } = record as TlsaRecord & UsableParameters;
  const data = Buffer.from(record.data);
  const base = { record, index, usage, selector, matchingType };
  if (matchingType !== MATCHING.FULL) return { ...base, data };
  return selector === SELECTOR.CERT ? withCertificate(base, data, bad) : withPublicKey(base, data, bad);
}

interface UsableParameters {
  readonly usage: TlsaUsage;
  readonly selector: TlsaSelector;
  readonly matchingType: TlsaMatching;
}

/** The first rule the record's parameters or data length break, if any. */
function parameterProblem(record: TlsaRecord): [UnusableReason, string] | undefined {
  // Callers pass DNS data through untyped paths too: anything but bytes is refused, never thrown on.
  if (!(record.data instanceof Uint8Array)) return ["bad-data", "association data is not a byte array"];
  if (!isUsage(record.usage)) return ["unknown-usage", `certificate usage ${record.usage} is not supported`];
  if (!isSelector(record.selector))
    return ["unknown-selector", `selector ${record.selector} is not supported`];
  if (!isMatchingType(record.matchingType)) {
    return ["unknown-matching-type", `matching type ${record.matchingType} is not supported`];
  }
  const wanted = DIGEST_LENGTH[record.matchingType];
  if (wanted !== undefined && record.data.length !== wanted) {
    const got = record.data.length;
    return ["bad-digest-length", `matching type ${record.matchingType} needs ${wanted} octets, got ${got}`];
  }
  return undefined;
}

type Base = Omit<UsableTlsaRecord, "data" | "cert" | "publicKey">;
type Bad = (reason: UnusableReason, detail: string) => UnusableTlsaRecord;

// Full(0) Cert(0) data must be exactly one DER certificate: OpenSSL likewise refuses such a record when the
// data does not parse, and a DANE-TA(2) one is used as the trust anchor itself (RFC 7671 §5.2).
function withCertificate(base: Base, data: Buffer, bad: Bad): UsableTlsaRecord | UnusableTlsaRecord {
  try {
    const cert = new X509Certificate(data);
    if (!cert.raw.equals(data)) return bad("bad-certificate", "data is not exactly one DER certificate");
    return { ...base, data, cert };
  } catch (err) {
    return bad("bad-certificate", `data is not a DER certificate: ${(err as Error).message}`);
  }
}

// Full(0) SPKI(1) data must be one DER SubjectPublicKeyInfo; a DANE-TA(2) one is a bare trust-anchor key
// (RFC 7671 §5.2).
function withPublicKey(base: Base, data: Buffer, bad: Bad): UsableTlsaRecord | UnusableTlsaRecord {
  try {
    if (readElement(data).whole.length !== data.length) {
      return bad("bad-public-key", "data is not exactly one DER SubjectPublicKeyInfo");
    }
    const publicKey = createPublicKey({ key: data, format: "der", type: "spki" });
    return { ...base, data, publicKey };
  } catch (err) {
    if (err instanceof DerError) return bad("bad-public-key", `data is not DER: ${err.message}`);
    return bad("bad-public-key", `data is not a SubjectPublicKeyInfo: ${(err as Error).message}`);
  }
}

function isUsage(n: number): n is TlsaUsage {
  return n === 0 || n === 1 || n === 2 || n === 3;
}

function isSelector(n: number): n is TlsaSelector {
  return n === 0 || n === 1;
}

function isMatchingType(n: number): n is TlsaMatching {
  return n === 0 || n === 1 || n === 2;
}

const USAGE_NAMES = ["PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"];

/** "3 1 1 1a2b3c4d…" with the acronym of the usage, for logs and `check` output. */
export function describeRecord(record: TlsaRecord): string {
  const hex = Buffer.from(record.data).toString("hex");
  const shown = hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
  const name = USAGE_NAMES[record.usage] ?? "unknown";
  return `${record.usage} ${record.selector} ${record.matchingType} ${shown} (${name})`;
}
