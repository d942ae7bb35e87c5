/**
 * Distinguished names read from DER (RFC 5280 §4.1.2.4) and compared for path building (§7.1).
 *
 * RFC 5280 §7.1 compares names after RFC 4518 string preparation; like OpenSSL's canonical encoding we apply
 * the part that matters in practice for directory strings: ASCII case folding, leading/trailing space removal
 * and internal whitespace collapsing. Attributes that are not strings are compared by their exact DER.
 * Multi-valued RDNs are compared as sets (X.501), so their AVAs are sorted.
 */
import { DerError, readChildren, readElement, type DerElement } from "./der.js";
import { decodeOid } from "./extensions.js";

/** One RDN as a sorted list of `oid=value` keys. */
export type CanonicalRdn = readonly string[];

export interface CanonicalName {
  /** The RDNs in order, each canonicalised. */
  readonly rdns: readonly CanonicalRdn[];
  /** A single string key: equal keys ⇔ names match per RFC 5280 §7.1 (as approximated above). */
  readonly key: string;
  /** Human form, `CN=a, O=b`, for details and the CLI. */
  readonly text: string;
  /** Every attribute in encoding order, with its text when it is a string type. */
  readonly attributes: ReadonlyArray<{ readonly type: string; readonly text?: string }>;
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

interface Ava {
  readonly type: string;
  readonly text?: string;
  readonly canonical: string;
  readonly display: string;
}

/** Canonicalises the DER of a Name (`SEQUENCE OF RelativeDistinguishedName`). Throws DerError. */
export function canonicalName(nameDer: Buffer): CanonicalName {
  const name = readElement(nameDer);
  if (name.tag !== 0x30) throw new DerError("Name is not a SEQUENCE");
  const rdns = readChildren(name.value).map(readRdn);
  const text = rdns
    .map((avas) => avas.map((a) => `${SHORT_NAMES[a.type] ?? a.type}=${a.display}`).join("+"))
    .join(", ");
  const canonical = rdns.map((avas) => avas.map((a) => `${a.type}=${a.canonical}`).sort());
  const attributes = rdns
    .flat()
    .map((a) => (a.text === undefined ? { type: a.type } : { type: a.type, text: a.text }));
  return { rdns: canonical, key: JSON.stringify(canonical), text, attributes };
}

function readRdn(rdn: DerElement): Ava[] {
  if (rdn.tag !== 0x31) throw new DerError("RelativeDistinguishedName is not a SET");
  const avas = readChildren(rdn.value).map(readAva);
  if (avas.length === 0) throw new DerError("empty RelativeDistinguishedName");
  return avas;
}

function readAva(ava: DerElement): Ava {
  const [type, value, extra] = ava.tag === 0x30 ? readChildren(ava.value) : [];
  if (type?.tag !== 0x06 || !value || extra) throw new DerError("malformed AttributeTypeAndValue");
  const oid = decodeOid(type.value);
  const text = directoryString(value);
  if (text !== undefined) return { type: oid, text, canonical: prepareString(text), display: text };
  const hex = `#${value.whole.toString("hex")}`;
  return { type: oid, canonical: hex, display: hex };
}

// RFC 5280 §4.1.2.4 DirectoryString choices, plus IA5String, VisibleString and NumericString.
function directoryString(el: DerElement): string | undefined {
  switch (el.tag) {
    case 0x0c: // UTF8String
      return el.value.toString("utf8");
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x14: // TeletexString (treated as Latin-1, as OpenSSL does)
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return el.value.toString("latin1");
    case 0x1e: // BMPString, UCS-2 big-endian
      return el.value.length % 2 === 0 ? Buffer.from(el.value).swap16().toString("utf16le") : undefined;
    case 0x1c: // UniversalString, UCS-4 big-endian
      return universalString(el.value);
    default:
      return undefined;
  }
}

function universalString(value: Buffer): string | undefined {
  if (value.length % 4 !== 0) return undefined;
  const points: number[] = [];
  for (let i = 0; i < value.length; i += 4) points.push(value.readUInt32BE(i));
  return points.every((p) => p <= 0x10ffff) ? String.fromCodePoint(...points) : undefined;
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
