/**
 * The client half of OCSP (RFC 6960 §4.1): the CertID that names a certificate, the OCSPRequest that asks
 * for its status, and the responder URL a certificate publishes in authorityInfoAccess (RFC 5280 §4.2.2.1).
 * Pure: the caller sends the bytes (src/tls/ocsp-fetch.ts) and validates the answer (ocsp.ts).
 */
import { createHash, type X509Certificate } from "node:crypto";
import { DerError, readChildren, readElement, tbsCertificateField, type DerElement } from "./der.js";
import { contextTag, nullValue, octetString, oid, sequence, tlv } from "./der-writer.js";
import { decodeOid, findExtension, readExtensions } from "./extensions.js";

export const OID_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1";
/** RFC 5280 §4.2.2.1: id-ad-ocsp accessMethod. */
export const OID_AD_OCSP = "1.3.6.1.5.5.7.48.1";
/** RFC 6960 §4.4.1 / RFC 8954: id-pkix-ocsp-nonce. */
export const OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2";

export type CertIdHash = "sha1" | "sha256" | "sha384" | "sha512";

export const HASH_OIDS: Readonly<Record<CertIdHash, string>> = {
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
};

/** RFC 6960 §4.1.1 CertID, with the octets of each field (serialNumber = INTEGER contents). */
export interface CertId {
  readonly hash: CertIdHash;
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  readonly serialNumber: Buffer;
}

export interface OcspRequestInput {
  readonly cert: X509Certificate;
  readonly issuer: X509Certificate;
  /**
   * CertID hash. Default SHA-1: RFC 5019 §2.1.1 (the profile most responders implement) requires it, and
   * the CertID is an identifier, not a signature, so SHA-1's collision weakness does not apply.
   */
  readonly hash?: CertIdHash;
  /** Raw nonce octets (RFC 8954 §2.1: 1..32 octets); omitted → no nonce extension. */
  readonly nonce?: Buffer;
}

export interface OcspRequest {
  readonly der: Buffer;
  readonly certId: CertId;
  readonly nonce?: Buffer;
}

export class OcspRequestError extends Error {
  override readonly name = "OcspRequestError";
  constructor(
    readonly code: "ocsp-bad-nonce" | "ocsp-bad-certificate",
    message: string,
  ) {
    super(message);
  }
}

/** Builds a single-certificate, unsigned OCSPRequest (RFC 6960 §4.1.1). */
export function buildOcspRequest(input: OcspRequestInput): OcspRequest {
  const certId = computeCertId(input.cert, input.issuer, input.hash ?? "sha1");
  const nonce = input.nonce;
  if (nonce && (nonce.length < 1 || nonce.length > 32)) {
    throw new OcspRequestError("ocsp-bad-nonce", `nonce must be 1..32 octets, got ${nonce.length}`);
  }
  const request = sequence(encodeCertId(certId));
  // TBSRequest: version DEFAULT v1 omitted, no requestorName, requestList, requestExtensions [2] EXPLICIT.
  const extensions = nonce ? [contextTag(2, sequence(nonceExtension(nonce)), true)] : [];
  const der = sequence(sequence(sequence(request), ...extensions));
  return nonce ? { der, certId, nonce } : { der, certId };
}

// RFC 8954 §2.1: extnValue holds the DER of Nonce ::= OCTET STRING.
function nonceExtension(nonce: Buffer): Buffer {
  return sequence(oid(OID_OCSP_NONCE), octetString(octetString(nonce)));
}

/**
 * RFC 6960 §4.1.1: issuerNameHash over the DER of the issuer field of `cert`, issuerKeyHash over the issuer's
 * subjectPublicKey BIT STRING value (without tag, length and unused-bits octet), and cert's serial number.
 */
export function computeCertId(cert: X509Certificate, issuer: X509Certificate, hash: CertIdHash): CertId {
  const fields = certificateFields(cert.raw);
  const digest = (data: Buffer) => createHash(hash).update(data).digest();
  return {
    hash,
    issuerNameHash: digest(fields.issuer.whole),
    issuerKeyHash: digest(subjectPublicKeyBits(issuer.raw)),
    serialNumber: Buffer.from(fields.serial.value),
  };
}

export function encodeCertId(id: CertId): Buffer {
  return sequence(
    sequence(oid(HASH_OIDS[id.hash]), nullValue()),
    octetString(id.issuerNameHash),
    octetString(id.issuerKeyHash),
    tlv(0x02, id.serialNumber),
  );
}

export function certIdEquals(a: CertId, b: CertId): boolean {
  return (
    a.hash === b.hash &&
    a.issuerNameHash.equals(b.issuerNameHash) &&
    a.issuerKeyHash.equals(b.issuerKeyHash) &&
    a.serialNumber.equals(b.serialNumber)
  );
}

interface TbsFields {
  readonly serial: DerElement;
  readonly issuer: DerElement;
  readonly subject: DerElement;
  readonly spki: DerElement;
}

/** serialNumber, issuer, subject and subjectPublicKeyInfo of a certificate, verbatim (RFC 5280 §4.1). */
export function certificateFields(certDer: Buffer): TbsFields {
  return {
    serial: tbsCertificateField(certDer, "serialNumber"),
    issuer: tbsCertificateField(certDer, "issuer"),
    subject: tbsCertificateField(certDer, "subject"),
    spki: tbsCertificateField(certDer, "subjectPublicKeyInfo"),
  };
}

/** The subjectPublicKey BIT STRING contents without the unused-bits octet (RFC 6960 §4.1.1, KeyHash). */
export function subjectPublicKeyBits(certDer: Buffer): Buffer {
  const bits = readChildren(certificateFields(certDer).spki.value)[1];
  if (!bits || bits.tag !== 0x03 || bits.value.length < 1) throw new DerError("subjectPublicKey missing");
  return bits.value.subarray(1);
}

/** The OCSP responder URLs of `cert` (authorityInfoAccess id-ad-ocsp uniformResourceIdentifier entries). */
export function ocspResponderUrls(cert: X509Certificate): string[] {
  const aia = findExtension(readExtensions(cert.raw), OID_AUTHORITY_INFO_ACCESS);
  if (!aia) return [];
  const list = readElement(aia.value);
  if (list.tag !== 0x30) throw new DerError("AuthorityInfoAccessSyntax is not a SEQUENCE");
  const urls: string[] = [];
  for (const desc of readChildren(list.value)) {
    const [method, location] = desc.tag === 0x30 ? readChildren(desc.value) : [];
    if (!method || method.tag !== 0x06 || !location) throw new DerError("malformed AccessDescription");
    // GeneralName uniformResourceIdentifier [6] IA5String (implicit)
    if (decodeOid(method.value) === OID_AD_OCSP && location.tag === 0x86) {
      urls.push(location.value.toString("latin1"));
    }
  }
  return urls;
}

/** authorityInfoAccess extnValue with one id-ad-ocsp URI per entry (for certificates issued by tests/dev PKI). */
export function encodeOcspAuthorityInfoAccess(urls: readonly string[]): Buffer {
  return sequence(
    ...urls.map((u) => sequence(oid(OID_AD_OCSP), contextTag(6, Buffer.from(u, "latin1"), false))),
  );
}
