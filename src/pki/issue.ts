/**
 * Certificate generation for the development PKI (`siptrust pki`) and for tests: a CA, and certificates it
 * issues with any SAN / EKU / validity / basicConstraints / keyUsage combination. Synchronous computation
 * only (no files): the caller writes the PEM strings, keys with mode 0600. The DER is built here (RFC 5280
 * §4.1) and signed with node:crypto, so tests can also produce deliberately unusual certificates.
 */
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from "node:crypto";
import { readChildren, readElement, tbsCertificateField } from "./der.js";
import {
  bitString,
  booleanValue,
  contextTag,
  ia5String,
  integer,
  integerHex,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  time,
  utf8String,
} from "./der-writer.js";
import { OID_SUBJECT_ALT_NAME, findExtension, readExtensions } from "./extensions.js";

export type KeyAlgorithm = "ec-p256" | "ec-p384" | "rsa-2048" | "ed25519";
export type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

/** EKU names understood by `eku` (a dotted OID is accepted too). */
export const EKU_OIDS: Readonly<Record<string, string>> = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  OCSPSigning: "1.3.6.1.5.5.7.3.9",
  sipDomain: "1.3.6.1.5.5.7.3.20",
  any: "2.5.29.37.0",
};

/** A ready-made extension: `value` is the DER placed in extnValue. */
export interface ExtraExtension {
  oid: string;
  critical?: boolean;
  value: Buffer;
}

export interface CertificateOptions {
  /** Shorthand for subject [["CN", cn]]. */
  cn?: string;
  /** Subject attributes in encoding order (one per RDN): CN, O, OU, C, L, ST, serialNumber, DC, emailAddress. */
  subject?: ReadonlyArray<readonly [string, string]>;
  /** `raw`: pre-encoded GeneralName elements, for tests of odd encodings. */
  san?: { uri?: string[]; dns?: string[]; email?: string[]; ip?: string[]; raw?: Buffer[] };
  /** Mark subjectAltName critical (RFC 5280 requires it when the subject is empty; that is the default). */
  sanCritical?: boolean;
  /** EKU names (see EKU_OIDS) or OIDs; omitted or empty → no EKU extension. */
  eku?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Validity length in days when notAfter is not given. */
  days?: number;
  /** null → no basicConstraints extension. */
  basicConstraints?: { ca: boolean; pathLength?: number; critical?: boolean } | null;
  /** null → no keyUsage extension. */
  keyUsage?: KeyUsageName[] | null;
  keyAlgorithm?: KeyAlgorithm;
  /** Hex serial number; random, positive, 128 bits by default. */
  serialNumber?: string;
  /** Further extensions (name constraints, CRL distribution points, …), appended as given. */
  extensions?: ExtraExtension[];
  /** Add subjectKeyIdentifier / authorityKeyIdentifier (default true). */
  keyIdentifiers?: boolean;
  /** Reuse this key instead of generating one (e.g. a renewed certificate for the same key). */
  privateKey?: KeyObject;
  /** Flip a bit of the signature: a structurally valid certificate whose signature does not verify. */
  tamperSignature?: boolean;
}

export interface GeneratedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  certificate: X509Certificate;
  privateKey: KeyObject;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A self-signed CA (basicConstraints cA critical; keyCertSign, cRLSign, digitalSignature; 10 years). */
export function createCa(options: CertificateOptions = {}): GeneratedCertificate {
  return createSelfSigned({
    cn: "siptrust development CA",
    days: 3650,
    basicConstraints: { ca: true, critical: true },
    keyUsage: ["keyCertSign", "cRLSign", "digitalSignature"],
    ...options,
  });
}

/** A self-signed certificate with exactly the given options (no CA defaults), e.g. for DANE-EE. */
export function createSelfSigned(options: CertificateOptions): GeneratedCertificate {
  const key = options.privateKey ?? generateKey(options.keyAlgorithm ?? "ec-p256");
  const spki = spkiOf(key);
  const name = encodeName(subjectOf(options));
  return build(options, { name, key, spki }, { name, spki, ski: keyIdentifier(spki) }, key);
}

/** A certificate for `options` signed by `ca` (from createCa, or an intermediate issued here). */
export function issueCertificate(
  ca: { certificatePem: string; privateKeyPem: string },
  options: CertificateOptions,
): GeneratedCertificate {
  const caKey = createPrivateKey(ca.privateKeyPem);
  const caDer = new X509Certificate(ca.certificatePem).raw;
  const key = options.privateKey ?? generateKey(options.keyAlgorithm ?? "ec-p256");
  const withDefaults: CertificateOptions = {
    days: 365,
    basicConstraints: { ca: false },
    keyUsage: defaultLeafKeyUsage(key),
    ...options,
  };
  const issuer = { name: subjectNameDer(caDer), spki: spkiOf(caKey), ski: issuerKeyIdentifier(caDer, caKey) };
  return build(
    withDefaults,
    { name: encodeName(subjectOf(withDefaults)), key, spki: spkiOf(key) },
    issuer,
    caKey,
  );
}

interface Subject {
  name: Buffer;
  key: KeyObject;
  spki: Buffer;
}
interface Issuer {
  name: Buffer;
  spki: Buffer;
  ski: Buffer;
}

function build(
  options: CertificateOptions,
  subject: Subject,
  issuer: Issuer,
  signingKey: KeyObject,
): GeneratedCertificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000); // a minute of clock-skew slack
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 365) * DAY_MS);
  const sigAlg = signatureAlgorithm(signingKey);
  const extensions = extensionsFor(options, subject, issuer);
  const tbs = sequence(
    contextTag(0, integer(2), true), // version v3
    integerHex(options.serialNumber ?? randomSerial()),
    sigAlg.identifier,
    issuer.name,
    sequence(time(notBefore), time(notAfter)),
    subject.name,
    subject.spki,
    ...(extensions.length > 0 ? [contextTag(3, sequence(...extensions), true)] : []),
  );
  const signature = sign(sigAlg.hash, tbs, signingKey);
  if (options.tamperSignature)
    signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0x01;
  const der = sequence(tbs, sigAlg.identifier, bitString(signature));
  const certificatePem = toPem(der, "CERTIFICATE");
  const privateKeyPem = subject.key.export({ type: "pkcs8", format: "pem" }).toString();
  return { certificatePem, privateKeyPem, certificate: new X509Certificate(der), privateKey: subject.key };
}

function generateKey(alg: KeyAlgorithm): KeyObject {
  switch (alg) {
    case "ec-p256":
      return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    case "ec-p384":
      return generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    case "rsa-2048":
      return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    case "ed25519":
      return generateKeyPairSync("ed25519").privateKey;
  }
}

// createPublicKey derives the public half of a private key; its SPKI DER goes into the certificate verbatim.
function spkiOf(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: "spki", format: "der" });
}

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the BIT STRING subjectPublicKey (without the unused-bits octet).
function keyIdentifier(spki: Buffer): Buffer {
  const bits = readChildren(readElement(spki).value)[1];
  const key = bits ? bits.value.subarray(1) : spki;
  return createHash("sha1").update(key).digest();
}

// Prefer the issuer's own subjectKeyIdentifier so authorityKeyIdentifier matches it byte for byte.
function issuerKeyIdentifier(caDer: Buffer, caKey: KeyObject): Buffer {
  const ski = findExtension(readExtensions(caDer), "2.5.29.14");
  if (ski) return readElement(ski.value).value;
  return keyIdentifier(spkiOf(caKey));
}

function subjectNameDer(certDer: Buffer): Buffer {
  return tbsCertificateField(certDer, "subject").whole;
}

function signatureAlgorithm(key: KeyObject): { identifier: Buffer; hash: string | null } {
  const type = key.asymmetricKeyType;
  if (type === "ec") {
    const p384 = key.asymmetricKeyDetails?.namedCurve === "secp384r1";
    // RFC 5758 §3.2: ecdsa-with-SHA256 / -SHA384, parameters absent
    return {
      identifier: sequence(oid(p384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2")),
      hash: p384 ? "sha384" : "sha256",
    };
  }
  if (type === "rsa")
    return { identifier: sequence(oid("1.2.840.113549.1.1.11"), nullValue()), hash: "sha256" };
  if (type === "ed25519") return { identifier: sequence(oid("1.3.101.112")), hash: null }; // RFC 8410 §3
  throw new Error(`key type ${String(type)} cannot sign certificates here`);
}

function defaultLeafKeyUsage(key: KeyObject): KeyUsageName[] {
  // RSA key transport (TLS 1.2 RSA key exchange) needs keyEncipherment; ECDHE suites need digitalSignature.
  return key.asymmetricKeyType === "rsa" ? ["digitalSignature", "keyEncipherment"] : ["digitalSignature"];
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01; // positive, no leading zero octet (RFC 5280 §4.1.2.2)
  return bytes.toString("hex");
}

function subjectOf(options: CertificateOptions): ReadonlyArray<readonly [string, string]> {
  if (options.subject) return options.subject;
  return options.cn === undefined ? [] : [["CN", options.cn]];
}

const ATTRIBUTES: Readonly<Record<string, { oid: string; encode: (v: string) => Buffer }>> = {
  CN: { oid: "2.5.4.3", encode: utf8String },
  C: { oid: "2.5.4.6", encode: printableString },
  O: { oid: "2.5.4.10", encode: utf8String },
  OU: { oid: "2.5.4.11", encode: utf8String },
  L: { oid: "2.5.4.7", encode: utf8String },
  ST: { oid: "2.5.4.8", encode: utf8String },
  serialNumber: { oid: "2.5.4.5", encode: printableString },
  DC: { oid: "0.9.2342.19200300.100.1.25", encode: ia5String },
  emailAddress: { oid: "1.2.840.113549.1.9.1", encode: ia5String },
};

function encodeName(attributes: ReadonlyArray<readonly [string, string]>): Buffer {
  return sequence(
    ...attributes.map(([type, value]) => {
      const attr = ATTRIBUTES[type];
      if (!attr) throw new Error(`unsupported subject attribute "${type}"`);
      return set(sequence(oid(attr.oid), attr.encode(value)));
    }),
  );
}

function extension(oidText: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(oidText), ...(critical ? [booleanValue(true)] : []), octetString(value));
}

function extensionsFor(options: CertificateOptions, subject: Subject, issuer: Issuer): Buffer[] {
  const out: Buffer[] = [];
  const bc = options.basicConstraints;
  if (bc) out.push(extension("2.5.29.19", bc.critical ?? bc.ca, basicConstraints(bc.ca, bc.pathLength)));
  if (options.keyUsage) out.push(extension("2.5.29.15", true, keyUsage(options.keyUsage)));
  if (options.eku && options.eku.length > 0) {
    out.push(extension("2.5.29.37", false, sequence(...options.eku.map((e) => oid(ekuOid(e))))));
  }
  const names = generalNames(options.san);
  if (names.length > 0) {
    const critical = options.sanCritical ?? subjectOf(options).length === 0;
    out.push(extension(OID_SUBJECT_ALT_NAME, critical, sequence(...names)));
  }
  if (options.keyIdentifiers ?? true) {
    out.push(extension("2.5.29.14", false, octetString(keyIdentifier(subject.spki))));
    out.push(extension("2.5.29.35", false, sequence(contextTag(0, issuer.ski, false))));
  }
  for (const e of options.extensions ?? []) out.push(extension(e.oid, e.critical ?? false, e.value));
  return out;
}

// RFC 5280 §4.2.1.9: cA DEFAULT FALSE is omitted in DER; pathLenConstraint optional.
function basicConstraints(ca: boolean, pathLength: number | undefined): Buffer {
  return sequence(
    ...(ca ? [booleanValue(true)] : []),
    ...(pathLength !== undefined ? [integer(pathLength)] : []),
  );
}

const KEY_USAGE_BITS: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

// X.690 §11.2.2: a named-bit BIT STRING is encoded without trailing zero bits.
function keyUsage(names: readonly KeyUsageName[]): Buffer {
  const bits = names.map((n) => KEY_USAGE_BITS[n]);
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  return bitString(bytes, 7 - (highest & 7));
}

function ekuOid(name: string): string {
  const value = EKU_OIDS[name] ?? name;
  if (!/^[0-2](\.[0-9]+)+$/.test(value)) throw new Error(`unknown extended key usage "${name}"`);
  return value;
}

// GeneralName (RFC 5280 §4.2.1.6): [1] rfc822Name, [2] dNSName, [6] URI (IA5String), [7] iPAddress.
function generalNames(san: CertificateOptions["san"]): Buffer[] {
  if (!san) return [];
  const ia5 = (s: string) => Buffer.from(s, "latin1");
  return [
    ...(san.uri ?? []).map((v) => contextTag(6, ia5(v), false)),
    ...(san.dns ?? []).map((v) => contextTag(2, ia5(v), false)),
    ...(san.email ?? []).map((v) => contextTag(1, ia5(v), false)),
    ...(san.ip ?? []).map((v) => contextTag(7, ipBytes(v), false)),
    ...(san.raw ?? []),
  ];
}

function ipBytes(text: string): Buffer {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(text)) return Buffer.from(text.split(".").map(Number));
  const [head = "", tail] = text.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(zeros).fill("0"), ...right];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)))
    throw new Error(`bad IP address "${text}"`);
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function toPem(der: Buffer, label: string): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
