/**
 * Distinguished-name comparison for path building (RFC 5280 §7.1).
 *
 * RFC 5280 §7.1 compares names after RFC 4518 string preparation; like OpenSSL's canonical encoding we apply
 * the part that matters in practice for directory strings: case folding (ASCII), leading/trailing space removal
 * and internal whitespace collapsing. Attributes that are not strings are compared by their exact DER value.
 * Multi-valued RDNs are compared as sets (X.501), so their AVAs are sorted.
 */
import * as asn1js from "asn1js";
import type { RelativeDistinguishedNames } from "pkijs";

/** One RDN as a sorted list of `oid=value` keys. */
export type CanonicalRdn = readonly string[];

export interface CanonicalName {
  /** The RDNs in order, each canonicalised. */
  readonly rdns: readonly CanonicalRdn[];
  /** A single string key: equal keys ⇔ names match per RFC 5280 §7.1 (as approximated above). */
  readonly key: string;
  /** Human form, `CN=a, O=b`, for details and the CLI. */
  readonly text: string;
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.5": "serialNumber",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** Canonicalises a pkijs name. */
export function canonicalName(name: RelativeDistinguishedNames): CanonicalName {
  const rdns = groupRdns(name);
  const text = rdns
    .map((avas) => avas.map((a) => `${SHORT_NAMES[a.type] ?? a.type}=${a.display}`).join("+"))
    .join(", ");
  const canonical = rdns.map((avas) => avas.map((a) => `${a.type}=${a.canonical}`).sort());
  return { rdns: canonical, key: JSON.stringify(canonical), text };
}

interface Ava {
  readonly type: string;
  readonly canonical: string;
  readonly display: string;
}

// pkijs flattens the RDNSequence into typesAndValues; the SET boundaries are only in the raw structure,
// so we re-read them from valueBeforeDecode when present.
function groupRdns(name: RelativeDistinguishedNames): Ava[][] {
  const flat = name.typesAndValues.map(toAva);
  const sizes = rdnSizes(name.valueBeforeDecode);
  if (!sizes || sizes.reduce((a, b) => a + b, 0) !== flat.length) return flat.map((a) => [a]);
  const out: Ava[][] = [];
  let offset = 0;
  for (const size of sizes) {
    out.push(flat.slice(offset, offset + size));
    offset += size;
  }
  return out;
}

function rdnSizes(der: ArrayBuffer): number[] | undefined {
  if (der.byteLength === 0) return undefined;
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  return parsed.result.valueBlock.value.map((rdn) =>
    rdn instanceof asn1js.Set ? rdn.valueBlock.value.length : 1,
  );
}

function toAva(tv: { type: string; value: unknown }): Ava {
  const text = stringValue(tv.value);
  if (text !== undefined) return { type: tv.type, canonical: prepareString(text), display: text };
  const hex = derHex(tv.value);
  return { type: tv.type, canonical: `#${hex}`, display: `#${hex}` };
}

function stringValue(value: unknown): string | undefined {
  if (
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.BmpString ||
    value instanceof asn1js.UniversalString ||
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.IA5String ||
    value instanceof asn1js.TeletexString ||
    value instanceof asn1js.VisibleString ||
    value instanceof asn1js.NumericString
  ) {
    return value.valueBlock.value;
  }
  return undefined;
}

function derHex(value: unknown): string {
  if (value instanceof asn1js.BaseBlock) return Buffer.from(value.toBER(false)).toString("hex");
  return "";
}

// RFC 4518 §2 (simplified, as OpenSSL does): fold case, trim, collapse inner whitespace.
function prepareString(text: string): string {
  return text
    .trim()
    .replace(/\s+/g, " ")
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** True when `prefix`'s RDNs are the first RDNs of `name` (directoryName constraints, RFC 5280 §4.2.1.10). */
export function hasRdnPrefix(name: CanonicalName, prefix: CanonicalName): boolean {
  if (prefix.rdns.length > name.rdns.length) return false;
  return prefix.rdns.every((rdn, i) => JSON.stringify(rdn) === JSON.stringify(name.rdns[i]));
}
