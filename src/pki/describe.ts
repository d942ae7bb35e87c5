/**
 * A plain description of a certificate for output (CLI, logs, `check`): names, serial, fingerprint, dates,
 * SAN lists, EKU OIDs and SIP identities, with every field a string or list of strings.
 */
import type { X509Certificate } from "node:crypto";
import { readExtendedKeyUsage } from "./eku.js";
import { extractSipIdentities, type IdentityOptions, type SipIdentity } from "./identities.js";

export interface CertificateDescription {
  subject: string;
  issuer: string;
  serial: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  san: { uri: string[]; dns: string[]; email: string[]; ip: string[] };
  eku: string[];
  identities: SipIdentity[];
  warnings: string[];
}

/** Describes `cert`; identities per RFC 5922 §7.1 with the given opt-ins. */
export function describeCertificate(
  cert: X509Certificate,
  options: IdentityOptions = {},
): CertificateDescription {
  const ids = extractSipIdentities(cert, options);
  const warnings = [...ids.warnings];
  let eku: string[] = [];
  try {
    eku = readExtendedKeyUsage(cert) ?? [];
  } catch (err) {
    warnings.push(`extended key usage unreadable: ${(err as Error).message}`);
  }
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serial: cert.serialNumber.toUpperCase(),
    fingerprintSha256: cert.fingerprint256,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    san: ids.san,
    eku,
    identities: ids.identities,
    warnings,
  };
}

// Node renders names one attribute per line (and gives undefined for an empty Name, despite its typing);
// a single line with ", " reads like OpenSSL's default.
function oneLine(name: string | undefined): string {
  return (name ?? "").split("\n").filter(Boolean).join(", ");
}
