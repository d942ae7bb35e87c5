/**
 * Extended DNS Errors (RFC 8914): EDNS option code 15 carried in the OPT record, decoded here from the raw option
 * bytes (dns-packet leaves unknown options raw).
 *
 * Which info-codes mean "DNSSEC validation failed" (our `bogus`), read from RFC 8914 §4:
 *   1 Unsupported DNSKEY Algorithm, 2 Unsupported DS Digest Type: validation was attempted and could not complete;
 *     with SERVFAIL the resolver refused to hand out an unvalidated answer.
 *   5 DNSSEC Indeterminate, 6 DNSSEC Bogus, 7 Signature Expired, 8 Signature Not Yet Valid, 9 DNSKEY Missing,
 *     10 RRSIGs Missing, 11 No Zone Key Bit Set, 12 NSEC Missing: each names a validation failure (RFC 4035 §5).
 *   25 Signature Expired before Valid (IANA EDE registry, added after RFC 8914): also a signature-validity failure.
 * Not validation failures: 0 Other, 3 Stale Answer and 19 Stale NXDOMAIN (served from cache), 4 Forged Answer (a
 * policy rewrite, §4.5), 13 Cached Error (origin unknown), 14 Not Ready, 15-18 policy blocks, 20-24 server and
 * network problems, and anything unknown. A SERVFAIL with only those codes (or none) is an `error`, not `bogus`.
 */

export const EDE_OPTION_CODE = 15;

const DNSSEC_FAILURE_CODES: ReadonlySet<number> = new Set([1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 25]);

/** RFC 8914 §4 names, for reports. */
const NAMES: Readonly<Record<number, string>> = {
  0: "Other Error",
  1: "Unsupported DNSKEY Algorithm",
  2: "Unsupported DS Digest Type",
  3: "Stale Answer",
  4: "Forged Answer",
  5: "DNSSEC Indeterminate",
  6: "DNSSEC Bogus",
  7: "Signature Expired",
  8: "Signature Not Yet Valid",
  9: "DNSKEY Missing",
  10: "RRSIGs Missing",
  11: "No Zone Key Bit Set",
  12: "NSEC Missing",
  13: "Cached Error",
  14: "Not Ready",
  15: "Blocked",
  16: "Censored",
  17: "Filtered",
  18: "Prohibited",
  19: "Stale NXDomain Answer",
  20: "Not Authoritative",
  21: "Not Supported",
  22: "No Reachable Authority",
  23: "Network Error",
  24: "Invalid Data",
  25: "Signature Expired before Valid",
  26: "Too Early",
  27: "Unsupported NSEC3 Iterations Value",
  28: "Unable to conform to policy",
  29: "Synthesized",
  30: "Invalid Query Type",
};

/** EXTRA-TEXT is free text from the network: bounded and stripped of control characters before it reaches logs. */
const MAX_TEXT = 200;

export interface ExtendedError {
  readonly infoCode: number;
  /** RFC 8914 §4 name of the code, or "Unknown". */
  readonly name: string;
  /** EXTRA-TEXT (RFC 8914 §2), sanitised; empty when absent. */
  readonly text: string;
  /** True when the code says DNSSEC validation failed (see the list above). */
  readonly dnssecFailure: boolean;
}

/** Decodes one EDE option body: INFO-CODE (16 bits) then optional UTF-8 EXTRA-TEXT (RFC 8914 §2). */
export function decodeEde(data: Buffer): ExtendedError | undefined {
  if (data.length < 2) return undefined;
  const infoCode = data.readUInt16BE(0);
  const raw = data.subarray(2).toString("utf8");
  // RFC 8914 §2: the text SHOULD NOT be NUL-terminated, but some servers do; drop NULs and other controls.
  const text = raw.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, MAX_TEXT);
  return {
    infoCode,
    name: NAMES[infoCode] ?? "Unknown",
    text,
    dnssecFailure: DNSSEC_FAILURE_CODES.has(infoCode),
  };
}

/** All well-formed EDE options of a message, in order (RFC 8914 §3 allows several). */
export function extractEde(options: readonly { code: number; data: Buffer }[]): ExtendedError[] {
  const out: ExtendedError[] = [];
  for (const option of options) {
    if (option.code !== EDE_OPTION_CODE) continue;
    const ede = decodeEde(option.data);
    if (ede !== undefined) out.push(ede);
  }
  return out;
}

/** Encodes an EDE option body (used by tests and fake servers). */
export function encodeEde(infoCode: number, text = ""): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(infoCode, 0);
  return Buffer.concat([head, Buffer.from(text, "utf8")]);
}
