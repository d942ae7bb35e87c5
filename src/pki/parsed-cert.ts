/**
 * The facts path validation needs from one certificate (RFC 5280 §4.1–4.2), read straight from the DER with
 * the bounds-checked reader of der.ts (an order of magnitude faster than a full ASN.1 object model, which
 * matters once per TLS handshake) and cached per node:crypto X509Certificate object, and by content (SHA-256
 * fingerprint, bounded) so that a peer presenting the same certificate again is not decoded again. Path
 * validation, EKU (eku.ts) and identity extraction (identities.ts) all read this one parse.
 */
import type { X509Certificate } from "node:crypto";
import { DerError, readChildren, readElement, type DerElement } from "./der.js";
import { canonicalName, type CanonicalName } from "./distinguished-name.js";
import { findExtension, readExtensions, type RawExtension } from "./extensions.js";
import { readGeneralName, type GeneralName } from "./general-name.js";

/** A certificate whose structure or extension content does not decode. */
export class CertificateParseError extends Error {
  override readonly name = "CertificateParseError";
  readonly code = "malformed-certificate";
}

export const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  issuerAltName: "2.5.29.18",
  nameConstraints: "2.5.29.30",
  certificatePolicies: "2.5.29.32",
  authorityKeyIdentifier: "2.5.29.35",
  subjectKeyIdentifier: "2.5.29.14",
  crlDistributionPoints: "2.5.29.31",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  emailAddress: "1.2.840.113549.1.9.1",
  commonName: "2.5.4.3",
} as const;

/** RFC 5280 §4.2.1.3 KeyUsage bit numbers. */
export const KEY_USAGE_BIT = { keyCertSign: 5, cRLSign: 6 } as const;

export interface NameConstraintSet {
  readonly permitted: readonly GeneralName[];
  readonly excluded: readonly GeneralName[];
  /** RFC 5280 §4.2.1.10: minimum MUST be zero and maximum MUST be absent; anything else is not supported. */
  readonly hasMinMax: boolean;
}

export interface ParsedCert {
  readonly x509: X509Certificate;
  readonly fingerprint: string;
  readonly subject: CanonicalName;
  readonly issuer: CanonicalName;
  /** RFC 5280 §6.1: subject and issuer names match. */
  readonly selfIssued: boolean;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints?: { readonly cA: boolean; readonly pathLen?: number };
  /** The KeyUsage bits when the extension is present. */
  readonly keyUsage?: ReadonlySet<number>;
  readonly subjectKeyId?: string;
  readonly authorityKeyId?: string;
  /** undefined when the certificate has no subjectAltName extension. */
  readonly subjectAltNames?: readonly GeneralName[];
  readonly nameConstraints?: NameConstraintSet;
  /** Every extension's OID with its critical flag. */
  readonly extensions: ReadonlyArray<{ readonly oid: string; readonly critical: boolean }>;
  /**
   * Every extension verbatim (OID, critical, extnValue contents), so that EKU (eku.ts) and identity extraction
   * (san.ts, identities.ts) read the one decode of the handshake instead of decoding the DER again.
   */
  readonly rawExtensions: readonly RawExtension[];
  /** fullName URIs of the cRLDistributionPoints extension (RFC 5280 §4.2.1.13). */
  readonly crlDistributionPointUris: readonly string[];
  /** Values of the subject's emailAddress and commonName attributes. */
  readonly subjectEmails: readonly string[];
  readonly subjectCommonNames: readonly string[];
}

const cache = new WeakMap<X509Certificate, ParsedCert>();

/**
 * The cached parse of `x509`, or undefined when it does not parse; for readers with their own error handling
 * for malformed input (they fall back to it, so their verdicts and messages stay what they were).
 */
export function tryParseCert(x509: X509Certificate): ParsedCert | undefined {
  try {
    return parseCert(x509);
  } catch {
    return undefined;
  }
}

/** Parses (or returns the cached parse of) a certificate. Throws CertificateParseError. */
export function parseCert(x509: X509Certificate): ParsedCert {
  const hit = cache.get(x509);
  if (hit) return hit;
  let parsed: ParsedCert;
  try {
    parsed = parseByContent(x509);
  } catch (err) {
    if (err instanceof DerError)
      throw new CertificateParseError(`certificate cannot be decoded: ${err.message}`);
    throw err;
  }
  cache.set(x509, parsed);
  return parsed;
}

/**
 * Bounds of the content cache: every TLS handshake brings new X509Certificate objects, but a SIP peer that
 * reconnects presents the same DER again. A parse is a pure function of the DER, so it is shared between
 * objects with the same SHA-256 fingerprint (the identity path building already uses). Bounded in entries and
 * in certificate size, least recently used first out, so hostile peers cannot grow it; they only evict.
 */
export const PARSE_CACHE_LIMITS = { entries: 512, maxCertificateBytes: 8192 } as const;

type ParsedContent = Omit<ParsedCert, "x509">;

const byFingerprint = new Map<string, ParsedContent>();

function parseByContent(x509: X509Certificate): ParsedCert {
  const fingerprint = x509.fingerprint256;
  const known = byFingerprint.get(fingerprint);
  if (known) {
    // Re-inserted: Map iteration order is insertion order, so the first key is the least recently used.
    byFingerprint.delete(fingerprint);
    byFingerprint.set(fingerprint, known);
    return { ...known, x509 };
  }
  const raw = x509.raw;
  const content = buildParsedContent(raw, fingerprint);
  if (raw.length <= PARSE_CACHE_LIMITS.maxCertificateBytes) {
    byFingerprint.set(fingerprint, content);
    if (byFingerprint.size > PARSE_CACHE_LIMITS.entries) {
      const oldest = byFingerprint.keys().next();
      if (!oldest.done) byFingerprint.delete(oldest.value);
    }
  }
  return { ...content, x509 };
}

function buildParsedContent(raw: Buffer, fingerprint: string): ParsedContent {
  const tbs = readChildren(readElement(raw).value)[0];
  if (tbs?.tag !== 0x30) throw new DerError("certificate has no TBSCertificate");
  const fields = readChildren(tbs.value);
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki, ...
  const at = (i: number, tag: number): DerElement => {
    const el = fields[(fields[0]?.tag === 0xa0 ? 1 : 0) + i];
    if (el?.tag !== tag) throw new DerError(`TBSCertificate field ${i} is missing or mistagged`);
    return el;
  };
  const subject = canonicalName(at(4, 0x30).whole);
  const issuer = canonicalName(at(2, 0x30).whole);
  const [notBefore, notAfter] = readChildren(at(3, 0x30).value).map(readTime);
  if (!notBefore || !notAfter) throw new DerError("validity lacks notBefore/notAfter");
  const extensions = readExtensions(raw);
  return {
    fingerprint,
    subject,
    issuer,
    selfIssued: subject.key === issuer.key,
    serialHex: serialHex(at(0, 0x02).value),
    notBefore,
    notAfter,
    basicConstraints: basicConstraints(findExtension(extensions, OID.basicConstraints)),
    keyUsage: keyUsage(findExtension(extensions, OID.keyUsage)),
    subjectKeyId: subjectKeyId(findExtension(extensions, OID.subjectKeyIdentifier)),
    authorityKeyId: authorityKeyId(findExtension(extensions, OID.authorityKeyIdentifier)),
    subjectAltNames: altNames(findExtension(extensions, OID.subjectAltName)),
    nameConstraints: nameConstraints(findExtension(extensions, OID.nameConstraints)),
    extensions: extensions.map((e) => ({ oid: e.oid, critical: e.critical })),
    rawExtensions: extensions,
    crlDistributionPointUris: crlDistributionPointUris(findExtension(extensions, OID.crlDistributionPoints)),
    subjectEmails: attributeTexts(subject, OID.emailAddress),
    subjectCommonNames: attributeTexts(subject, OID.commonName),
  };
}

/** Hex of an INTEGER's contents without leading zero octets (serial numbers compare this way). */
export function serialHex(contents: Uint8Array): string {
  return Buffer.from(contents)
    .toString("hex")
    .replace(/^(00)+(?=..)/, "");
}

// RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY < 50 → 20YY) or GeneralizedTime YYYYMMDDHHMMSSZ.
function readTime(el: DerElement): Date {
  const text = el.value.toString("latin1");
  const m =
    el.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : el.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!m) throw new DerError(`malformed time ${JSON.stringify(text)}`);
  const [, y = "", mo = "", d = "", h = "", mi = "", s = ""] = m;
  const year = el.tag === 0x17 ? (Number(y) < 50 ? 2000 : 1900) + Number(y) : Number(y);
  return new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

function extensionValue(ext: RawExtension, tag: number): DerElement {
  const el = readElement(ext.value);
  if (el.tag !== tag || el.whole.length !== ext.value.length)
    throw new DerError(`extension ${ext.oid} is malformed`);
  return el;
}

// §4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
function basicConstraints(ext: RawExtension | undefined): ParsedCert["basicConstraints"] {
  if (!ext) return undefined;
  const parts = readChildren(extensionValue(ext, 0x30).value);
  const cA = parts[0]?.tag === 0x01 && parts[0].value[0] !== 0;
  const len = parts.find((p) => p.tag === 0x02);
  if (!len) return { cA };
  // Anything above 2^31 is "unlimited" for every practical chain; a negative length is malformed.
  if ((len.value[0] ?? 0) & 0x80) throw new DerError("negative pathLenConstraint");
  const hex = serialHex(len.value);
  return { cA, pathLen: hex.length > 8 ? Number.MAX_SAFE_INTEGER : parseInt(hex, 16) };
}

// §4.2.1.3: a BIT STRING; the first contents octet counts the unused bits.
function keyUsage(ext: RawExtension | undefined): ReadonlySet<number> | undefined {
  if (!ext) return undefined;
  const bits = extensionValue(ext, 0x03).value.subarray(1);
  const set = new Set<number>();
  for (let i = 0; i < bits.length * 8; i++) if (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) set.add(i);
  return set;
}

function subjectKeyId(ext: RawExtension | undefined): string | undefined {
  return ext ? extensionValue(ext, 0x04).value.toString("hex") : undefined;
}

// §4.2.1.1: SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
function authorityKeyId(ext: RawExtension | undefined): string | undefined {
  if (!ext) return undefined;
  const id = readChildren(extensionValue(ext, 0x30).value).find((p) => p.tag === 0x80);
  return id?.value.toString("hex");
}

function altNames(ext: RawExtension | undefined): GeneralName[] | undefined {
  if (!ext) return undefined;
  return readChildren(extensionValue(ext, 0x30).value).map(readGeneralName);
}

// §4.2.1.10: SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] ... };
// GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }
function nameConstraints(ext: RawExtension | undefined): NameConstraintSet | undefined {
  if (!ext) return undefined;
  const parts = readChildren(extensionValue(ext, 0x30).value);
  const subtrees = (tag: number) => readChildren(parts.find((p) => p.tag === tag)?.value ?? Buffer.alloc(0));
  const permitted = subtrees(0xa0).map(readSubtree);
  const excluded = subtrees(0xa1).map(readSubtree);
  return {
    permitted: permitted.map((s) => s.base),
    excluded: excluded.map((s) => s.base),
    hasMinMax: [...permitted, ...excluded].some((s) => s.hasMinMax),
  };
}

function readSubtree(el: DerElement): { base: GeneralName; hasMinMax: boolean } {
  const [base, ...bounds] = el.tag === 0x30 ? readChildren(el.value) : [];
  if (!base) throw new DerError("GeneralSubtree without base");
  // Bounds are IMPLICIT INTEGERs ([0] 0x80, [1] 0x81); some encoders (pkijs among them) write them EXPLICIT
  // (0xa0/0xa1). Accept only a zero minimum in either form; anything else counts as bounded (fail closed).
  const hasMinMax = bounds.some((b) => !(isZeroInteger(b, 0x80) || isZeroInteger(b, 0xa0)));
  return { base: readGeneralName(base), hasMinMax };
}

function isZeroInteger(el: DerElement, tag: number): boolean {
  if (el.tag !== tag) return false;
  const contents = tag === 0xa0 ? readElement(el.value).value : el.value;
  return contents.length > 0 && contents.every((octet) => octet === 0);
}

// §4.2.1.13: SEQUENCE OF DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames | ... }, ... }
function crlDistributionPointUris(ext: RawExtension | undefined): string[] {
  if (!ext) return [];
  const uris: string[] = [];
  for (const point of readChildren(extensionValue(ext, 0x30).value)) {
    const name = readChildren(point.value).find((p) => p.tag === 0xa0);
    const fullName = name ? readChildren(name.value).find((p) => p.tag === 0xa0) : undefined;
    for (const gn of fullName ? readChildren(fullName.value) : []) {
      const parsed = readGeneralName(gn);
      if (parsed.type === "uri") uris.push(parsed.value);
    }
  }
  return uris;
}

function attributeTexts(name: CanonicalName, oid: string): string[] {
  return name.attributes.filter((a) => a.type === oid && a.text !== undefined).map((a) => a.text as string);
}
