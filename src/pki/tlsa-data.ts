/**
 * TLSA certificate association data (RFC 6698 §2.1): what a TLSA record with a given selector and matching
 * type contains for a certificate. Shared by `siptrust tlsa` (publishing) and the DANE verifier (matching).
 */
import { createHash, type X509Certificate } from "node:crypto";
import { subjectPublicKeyInfoDer } from "./der.js";

/** RFC 6698 §2.1.2: 0 = full certificate, 1 = SubjectPublicKeyInfo. */
export type TlsaSelector = 0 | 1;
/** RFC 6698 §2.1.3: 0 = exact content, 1 = SHA-256, 2 = SHA-512. */
export type TlsaMatching = 0 | 1 | 2;
/** RFC 6698 §2.1.1 / RFC 7218: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE. */
export type TlsaUsage = 0 | 1 | 2 | 3;

/** The bytes selected from `cert` (RFC 6698 §2.1.2): its DER, or its SPKI exactly as encoded in it. */
export function tlsaSelectedContent(cert: X509Certificate, selector: TlsaSelector): Buffer {
  // The SPKI is cut out of the certificate rather than re-exported: a re-encoding could differ in bytes.
  return selector === 0 ? cert.raw : subjectPublicKeyInfoDer(cert.raw);
}

/** The association data for `cert` under `selector` and `matching` (RFC 6698 §2.1.3). */
export function tlsaAssociationData(
  cert: X509Certificate,
  selector: TlsaSelector,
  matching: TlsaMatching,
): Buffer {
  const content = tlsaSelectedContent(cert, selector);
  if (matching === 0) return Buffer.from(content);
  return createHash(matching === 1 ? "sha256" : "sha512")
    .update(content)
    .digest();
}

/** Presentation form of a TLSA RDATA (RFC 6698 §2.2): "3 1 1 <hex>", hex in lower case. */
export function formatTlsaRdata(
  usage: TlsaUsage,
  selector: TlsaSelector,
  matching: TlsaMatching,
  data: Buffer,
): string {
  return `${usage} ${selector} ${matching} ${data.toString("hex")}`;
}
