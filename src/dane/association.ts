/**
 * Matching TLSA records against certificates (RFC 6698 §2.1.4). The association data itself — the selected
 * content (RFC 6698 §2.1.2), as is or hashed (§2.1.3) — is computed by pki/tlsa-data.ts, the same code that
 * `siptrust tlsa` publishes with, so what we publish and what we match can never disagree.
 */
import type { X509Certificate } from "node:crypto";
import { tlsaAssociationData, type TlsaMatching, type TlsaSelector } from "../pki/tlsa-data.js";
import type { UsableTlsaRecord } from "./tlsa.js";

/**
 * Memoizes association data per certificate, selector and matching type, so that matching n records
 * against m certificates hashes each certificate at most four times. Lives for one verification only.
 */
export class AssociationCache {
  private readonly byCert = new Map<X509Certificate, Map<string, Buffer | null>>();

  /** The association data, or null when the certificate's DER cannot be cut (never matches). */
  get(cert: X509Certificate, selector: TlsaSelector, matchingType: TlsaMatching): Buffer | null {
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
  matchingType: TlsaMatching,
): Buffer | null {
  try {
    return tlsaAssociationData(cert, selector, matchingType);
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
