/**
 * Certificate association data (RFC 6698 §2.1.2–§2.1.3): the selected content of a certificate — the whole
 * DER certificate (selector 0) or its DER SubjectPublicKeyInfo verbatim (selector 1) — either as is
 * (matching type 0) or hashed with SHA-256 (1) or SHA-512 (2).
 */
import { createHash, type X509Certificate } from "node:crypto";
import { subjectPublicKeyInfoDer } from "../pki/der.js";
import {
  MATCHING,
  SELECTOR,
  type TlsaMatchingType,
  type TlsaSelector,
  type UsableTlsaRecord,
} from "./tlsa.js";

/** The bytes a selector picks out of a certificate. SPKI is cut from the DER, never re-encoded. */
export function selectedContent(cert: X509Certificate, selector: TlsaSelector): Buffer {
  return selector === SELECTOR.CERT ? cert.raw : subjectPublicKeyInfoDer(cert.raw);
}

/** The association data a TLSA record with this matching type would carry for `content`. */
export function associationData(content: Buffer, matchingType: TlsaMatchingType): Buffer {
  if (matchingType === MATCHING.SHA256) return createHash("sha256").update(content).digest();
  if (matchingType === MATCHING.SHA512) return createHash("sha512").update(content).digest();
  return content;
}

/** The association data of a certificate for a selector and matching type (what `siptrust tlsa` prints). */
export function certificateAssociation(
  cert: X509Certificate,
  selector: TlsaSelector,
  matchingType: TlsaMatchingType,
): Buffer {
  return associationData(selectedContent(cert, selector), matchingType);
}

/**
 * Memoizes association data per certificate, selector and matching type, so that matching n records
 * against m certificates hashes each certificate at most four times. Lives for one verification only.
 */
export class AssociationCache {
  private readonly byCert = new Map<X509Certificate, Map<string, Buffer | null>>();

  /** The association data, or null when the certificate's DER cannot be cut (never matches). */
  get(cert: X509Certificate, selector: TlsaSelector, matchingType: TlsaMatchingType): Buffer | null {
    let perCert = this.byCert.get(cert);
    if (!perCert) {
      perCert = new Map();
      this.byCert.set(cert, perCert);
    }
    const key = `${selector}/${matchingType}`;
    const cached = perCert.get(key);
    if (cached !== undefined) return cached;
    const value = computeOrNull(cert, selector, matchingType);
    perCert.set(key, value);
    return value;
  }
}

function computeOrNull(
  cert: X509Certificate,
  selector: TlsaSelector,
  matchingType: TlsaMatchingType,
): Buffer | null {
  try {
    return certificateAssociation(cert, selector, matchingType);
  } catch {
    return null;
  }
}

/** True when the record's association data equals the certificate's (RFC 6698 §2.1.4). */
export function recordMatches(
  record: UsableTlsaRecord,
  cert: X509Certificate,
  cache: AssociationCache,
): boolean {
  const data = cache.get(cert, record.selector, record.matchingType);
  return data !== null && data.equals(record.data);
}
