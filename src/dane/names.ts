/**
 * Name checks under DANE-TA(2), PKIX-TA(0) and PKIX-EE(1) (and DANE-EE(3) only when the caller asks).
 *
 * Reference identifiers (RFC 7673 §4, DESIGN.md "Outbound"): the SRV target host name — which is also the TLSA
 * base domain and the SNI — and the SIP domain of the request (the SRV "service domain"). The certificate
 * matches when one of its presented identifiers equals one of them:
 * - DNS-IDs per RFC 6125 §6.4 as OpenSSL's X509_check_host applies them (what RFC 7671 clients use):
 *   subjectAltName dNSName entries, and the subject CN only when the certificate has no dNSName at all;
 *   case-insensitive, whole name, internationalized names as A-labels. Wildcards only when allowed (off by
 *   default: RFC 5922 §7.2 gives SIP no wildcard semantics, and a strict default is the safer one).
 * - the certificate's RFC 5922 §7.1 SIP domain identities (subjectAltName URI `sip:domain`), because a SIP
 *   server certificate may name its domain only that way; pki/identities.ts extracts and compares them.
 */
import type { X509Certificate } from "node:crypto";
import { isDnsName, normalizeDomain } from "../pki/dns-name.js";
import { extractSipIdentities, matchSipDomain, type SipIdentity } from "../pki/identities.js";

export interface ReferenceIdentifiers {
  /** The SRV target host (RFC 7673 §4); for a lookup without SRV, the host the client connected to. */
  readonly targetHost: string;
  /** The SIP domain of the request target; accepted as a second reference identifier. */
  readonly sipDomain?: string;
}

export interface NameCheckOptions {
  /** Let a left-most "*" label of a DNS-ID match one label (RFC 6125 §6.4.3). Default false. */
  readonly allowWildcards?: boolean;
}

export type NameCheckResult =
  | { ok: true; code: "name-match"; reference: string; presented: string; via: "dns-id" | "sip-uri" }
  | { ok: false; code: "hostname-mismatch"; detail: string };

/** Checks the leaf against the reference identifiers; the first match wins. */
export function checkNames(
  cert: X509Certificate,
  refs: ReferenceIdentifiers,
  options: NameCheckOptions = {},
): NameCheckResult {
  const references = referenceNames(refs);
  for (const reference of references) {
    const presented = matchDnsId(cert, reference, options.allowWildcards === true);
    if (presented !== undefined) return { ok: true, code: "name-match", reference, presented, via: "dns-id" };
  }
  const sipIds = sipUriDomainIdentities(cert);
  for (const reference of references) {
    if (matchSipDomain(sipIds, reference).ok) {
      return { ok: true, code: "name-match", reference, presented: `sip:${reference}`, via: "sip-uri" };
    }
  }
  return { ok: false, code: "hostname-mismatch", detail: mismatchDetail(cert, references) };
}

/** The normalized, distinct, valid reference names, target host first. IP literals are never names. */
export function referenceNames(refs: ReferenceIdentifiers): string[] {
  const names = [refs.targetHost, refs.sipDomain].filter((n): n is string => typeof n === "string");
  const normalized = names.map(normalizeDomain).filter(isDnsName);
  return [...new Set(normalized)];
}

/**
 * The RFC 5922 §7.1 domain identities taken from subjectAltName `sip:` URIs (pki/identities.ts decides
 * what they are). DNS-IDs and the CN are not taken from here: matchDnsId checks those with RFC 6125 rules.
 */
function sipUriDomainIdentities(cert: X509Certificate): SipIdentity[] {
  return extractSipIdentities(cert).identities.filter(
    (id) => id.kind === "domain" && id.source === "san-uri",
  );
}

function matchDnsId(cert: X509Certificate, reference: string, wildcards: boolean): string | undefined {
  // subject "default": the CN counts only when subjectAltName has no dNSName (RFC 6125 §6.4.4).
  return cert.checkHost(reference, { subject: "default", wildcards, partialWildcards: false });
}

function mismatchDetail(cert: X509Certificate, references: readonly string[]): string {
  const wanted = references.length > 0 ? references.join(", ") : "(no valid reference identifier)";
  const san = cert.subjectAltName ?? "no subjectAltName";
  return `certificate names [${san}; subject ${cert.subject.replace(/\n/g, ", ")}] match none of: ${wanted}`;
}
