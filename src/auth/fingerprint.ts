/**
 * Certificate fingerprints as policies name them: SHA-256 over the DER certificate, lower-case hex.
 * Operators paste them in either `AB:CD:…` (OpenSSL, Node) or plain hex form; both are accepted.
 */
import type { X509Certificate } from "node:crypto";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Canonical form, or undefined when the text is not a SHA-256 fingerprint. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/:/g, "").toLowerCase();
  return SHA256_HEX.test(hex) ? hex : undefined;
}

export function certificateFingerprint(cert: X509Certificate): string {
  // fingerprint256 is SHA-256 over the DER encoding, printed as colon-separated upper-case hex.
  return cert.fingerprint256.replace(/:/g, "").toLowerCase();
}
