/**
 * The RFC 5922 §7.1 SIP domain identities of a certificate that DANE name checks accept besides DNS-IDs:
 * subjectAltName URIs with scheme "sip" and no user part (normalized by the PKI layer). DNS-IDs and the CN
 * are not taken from here: names.ts checks those with RFC 6125 rules.
 */
import type { X509Certificate } from "node:crypto";
import { extractSipIdentities } from "../pki/identities.js";

export function sipDomainIdentities(cert: X509Certificate): string[] {
  return extractSipIdentities(cert)
    .identities.filter((id) => id.kind === "domain" && id.source === "san-uri")
    .map((id) => id.value);
}
