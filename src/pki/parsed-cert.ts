/**
 * The facts path validation needs from one certificate (RFC 5280 §4.1–4.2), parsed once with pkijs and cached
 * per node:crypto X509Certificate object.
 */
import type { X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { canonicalName, type CanonicalName } from "./distinguished-name.js";
import { fromPkijs, type GeneralName } from "./general-name.js";

/** A certificate that pkijs cannot decode, or whose extension content is malformed. */
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
  /** Values of the subject's emailAddress and commonName attributes. */
  readonly subjectEmails: readonly string[];
  readonly subjectCommonNames: readonly string[];
}

const cache = new WeakMap<X509Certificate, ParsedCert>();

/** Parses (or returns the cached parse of) a certificate. Throws CertificateParseError. */
export function parseCert(x509: X509Certificate): ParsedCert {
  const hit = cache.get(x509);
  if (hit) return hit;
  const parsed = buildParsedCert(x509);
  cache.set(x509, parsed);
  return parsed;
}

function buildParsedCert(x509: X509Certificate): ParsedCert {
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(x509.raw);
  } catch (err) {
    throw new CertificateParseError(`certificate cannot be decoded: ${(err as Error).message}`);
  }
  const subject = canonicalName(cert.subject);
  const issuer = canonicalName(cert.issuer);
  const extensions = cert.extensions ?? [];
  return {
    x509,
    fingerprint: x509.fingerprint256,
    subject,
    issuer,
    selfIssued: subject.key === issuer.key,
    serialHex: integerHex(cert.serialNumber),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    basicConstraints: basicConstraints(find(extensions, OID.basicConstraints)),
    keyUsage: keyUsage(find(extensions, OID.keyUsage)),
    subjectKeyId: subjectKeyId(find(extensions, OID.subjectKeyIdentifier)),
    authorityKeyId: authorityKeyId(find(extensions, OID.authorityKeyIdentifier)),
    subjectAltNames: altNames(find(extensions, OID.subjectAltName)),
    nameConstraints: nameConstraints(find(extensions, OID.nameConstraints)),
    extensions: extensions.map((e) => ({ oid: e.extnID, critical: e.critical })),
    subjectEmails: attributeValues(cert.subject, OID.emailAddress),
    subjectCommonNames: attributeValues(cert.subject, OID.commonName),
  };
}

function find(extensions: readonly pkijs.Extension[], oid: string): pkijs.Extension | undefined {
  const matching = extensions.filter((e) => e.extnID === oid);
  // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of a particular extension.
  if (matching.length > 1) throw new CertificateParseError(`extension ${oid} appears more than once`);
  return matching[0];
}

// pkijs leaves parsedValue undefined when the extension content does not decode.
function parsedValue<T>(ext: pkijs.Extension, type: abstract new (...args: never[]) => T): T {
  const value: unknown = ext.parsedValue;
  if (!(value instanceof type)) throw new CertificateParseError(`extension ${ext.extnID} is malformed`);
  return value;
}

/** Hex of an INTEGER's magnitude without leading zero octets (serial numbers compare this way). */
export function integerHex(value: asn1js.Integer): string {
  const hex = Buffer.from(value.valueBlock.valueHexView).toString("hex");
  return hex.replace(/^(00)+(?=..)/, "");
}

function smallInteger(value: number | asn1js.Integer | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  const hex = integerHex(value);
  // Anything above 2^31 is "unlimited" for every practical chain.
  return hex.length > 8 ? Number.MAX_SAFE_INTEGER : parseInt(hex, 16);
}

function basicConstraints(ext: pkijs.Extension | undefined): ParsedCert["basicConstraints"] {
  if (!ext) return undefined;
  const bc = parsedValue(ext, pkijs.BasicConstraints);
  const pathLen = smallInteger(bc.pathLenConstraint);
  return pathLen === undefined ? { cA: bc.cA } : { cA: bc.cA, pathLen };
}

function keyUsage(ext: pkijs.Extension | undefined): ReadonlySet<number> | undefined {
  if (!ext) return undefined;
  const bits = parsedValue(ext, asn1js.BitString);
  const bytes = bits.valueBlock.valueHexView;
  const set = new Set<number>();
  for (let i = 0; i < bytes.length * 8; i++) {
    if (((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) set.add(i);
  }
  return set;
}

function subjectKeyId(ext: pkijs.Extension | undefined): string | undefined {
  if (!ext) return undefined;
  return Buffer.from(parsedValue(ext, asn1js.OctetString).valueBlock.valueHexView).toString("hex");
}

function authorityKeyId(ext: pkijs.Extension | undefined): string | undefined {
  if (!ext) return undefined;
  const id = parsedValue(ext, pkijs.AuthorityKeyIdentifier).keyIdentifier;
  return id ? Buffer.from(id.valueBlock.valueHexView).toString("hex") : undefined;
}

function altNames(ext: pkijs.Extension | undefined): GeneralName[] | undefined {
  if (!ext) return undefined;
  return parsedValue(ext, pkijs.AltName).altNames.map(fromPkijs);
}

function nameConstraints(ext: pkijs.Extension | undefined): NameConstraintSet | undefined {
  if (!ext) return undefined;
  const nc = parsedValue(ext, pkijs.NameConstraints);
  const permitted = nc.permittedSubtrees ?? [];
  const excluded = nc.excludedSubtrees ?? [];
  const hasMinMax = [...permitted, ...excluded].some(
    (s) => s.maximum !== undefined || (smallInteger(s.minimum) ?? 0) !== 0,
  );
  return {
    permitted: permitted.map((s) => fromPkijs(s.base)),
    excluded: excluded.map((s) => fromPkijs(s.base)),
    hasMinMax,
  };
}

function attributeValues(name: pkijs.RelativeDistinguishedNames, oid: string): string[] {
  return name.typesAndValues
    .filter((tv) => tv.type === oid)
    .map((tv) => (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value)
    .filter((v): v is string => typeof v === "string");
}
