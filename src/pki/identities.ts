/**
 * SIP identities of a certificate (RFC 5922 §7.1) and matching a SIP domain against them (RFC 5922 §7.2).
 * The caller validates the certificate (chain, dates, EKU, revocation) first: §7.1 reads identities only from
 * a certificate already found valid per RFC 5280.
 */
import type { X509Certificate } from "node:crypto";
import { isDnsName, isIpLiteral, isLegacyWildcard, normalizeDomain } from "./dns-name.js";
import { tryParseCert, type ParsedCert } from "./parsed-cert.js";
import { classifySanUri } from "./san-uri.js";
import { readSubjectAltNames } from "./san.js";
import { readSubjectCommonNames } from "./subject-name.js";

export { normalizeDomain } from "./dns-name.js";

export interface SipIdentity {
  /** "domain": a SIP domain identity (§7.1); "uri": a sip: URI with a user part, for per-user authorization. */
  kind: "domain" | "uri";
  /** A normalized domain ("example.com") or a sip: URI ("sip:bob@example.com"). */
  value: string;
  source: "san-uri" | "san-dns" | "cn" | "san-email";
}

export interface IdentityOptions {
  /** reSIProcate's useEmailAsSIP: rfc822Name entries become `sip:local@domain` URI identities. Off by default. */
  emailAsSip?: boolean;
  /** RFC 6125 left-most-label wildcards ("*.example.com") match one label. Off by default (RFC 5922 §7.2). */
  legacyWildcards?: boolean;
}

export interface CertificateIdentities {
  identities: SipIdentity[];
  san: { uri: string[]; dns: string[]; email: string[]; ip: string[] };
  warnings: string[];
}

export type DomainMatchResult =
  | {
      ok: true;
      code: "rfc5922-match";
      matched: SipIdentity;
      /** "legacy-wildcard" only with the legacyWildcards opt-in; `warning` then says so. */
      via: "exact" | "legacy-wildcard";
      warning?: string;
    }
  | {
      ok: false;
      code: "rfc5922-no-match" | "no-domain-identities" | "ip-literal" | "bad-domain";
      detail: string;
    };

/**
 * Results by certificate content and options ("fingerprint|emailAsSip|legacyWildcards"): what §7.1 reads from
 * a certificate depends on nothing else, and a SIP peer reconnects with the same certificate. Bounded, least
 * recently used first out; callers get copies, so nothing they do changes a cached result.
 */
export const IDENTITY_CACHE_LIMIT = 512;
const byContent = new Map<string, CertificateIdentities>();

/** RFC 5922 §7.1: the SIP identities of `cert`, plus its raw SAN lists and any warnings. */
export function extractSipIdentities(
  cert: X509Certificate,
  options: IdentityOptions = {},
): CertificateIdentities {
  // The one decode of the handshake (parsed-cert.ts, shared with path validation and EKU) when the certificate
  // parses; a certificate that does not is read field by field, with the warnings that explain why.
  const parsed = tryParseCert(cert);
  if (!parsed) return extract(cert, undefined, options);
  const key = `${parsed.fingerprint}|${options.emailAsSip === true}|${options.legacyWildcards === true}`;
  let result = byContent.get(key);
  if (result) byContent.delete(key);
  else result = extract(cert, parsed, options);
  byContent.set(key, result);
  if (byContent.size > IDENTITY_CACHE_LIMIT) {
    const oldest = byContent.keys().next();
    if (!oldest.done) byContent.delete(oldest.value);
  }
  return copyOf(result);
}

function copyOf(r: CertificateIdentities): CertificateIdentities {
  return {
    identities: r.identities.map((id) => ({ ...id })),
    san: { uri: [...r.san.uri], dns: [...r.san.dns], email: [...r.san.email], ip: [...r.san.ip] },
    warnings: [...r.warnings],
  };
}

function extract(
  cert: X509Certificate,
  parsed: ParsedCert | undefined,
  options: IdentityOptions,
): CertificateIdentities {
  const san = readSubjectAltNames(cert.raw, parsed?.rawExtensions);
  const warnings = [...san.warnings];
  const identities: SipIdentity[] = [];
  const fromUris = identitiesFromSanUris(san.uri, warnings);
  identities.push(...fromUris);
  // RFC 5922 §7.1 "DNS": dNSName entries count "if and only if no other identity is found that matches the
  // 'sip' URI type" — a sip: URI with a user part does not match that type, so it does not block them.
  if (!fromUris.some((id) => id.kind === "domain")) {
    identities.push(...identitiesFromDnsNames(san.dns, options, warnings));
  }
  // RFC 5922 §7.1 step 2: the CN only "if and only if the subjectAltName does not appear in the certificate".
  if (!san.present) {
    const cns = parsed ? parsed.subjectCommonNames : undefined;
    identities.push(...identitiesFromCommonNames(cert.raw, cns, options, warnings));
  }
  if (options.emailAsSip) identities.push(...identitiesFromEmails(san.email, warnings));
  return {
    identities: unique(identities),
    san: { uri: san.uri, dns: san.dns, email: san.email, ip: san.ip },
    warnings,
  };
}

function identitiesFromSanUris(uris: readonly string[], warnings: string[]): SipIdentity[] {
  const out: SipIdentity[] = [];
  for (const text of uris) {
    const c = classifySanUri(text);
    // RFC 5922 §7.1 "URI": a scheme other than "sip" (sips included) MUST NOT be accepted as a domain identity.
    if (c.kind === "other-scheme") {
      if (c.scheme === "sips")
        warnings.push(`SAN URI ${text} ignored: RFC 5922 §7.1 accepts only the sip scheme`);
    } else if (c.kind === "invalid") {
      warnings.push(`SAN URI ignored: ${c.reason}`);
    } else if (c.kind === "sip-domain") {
      out.push({ kind: "domain", value: c.host, source: "san-uri" });
    } else {
      out.push({ kind: "uri", value: c.uri, source: "san-uri" });
    }
  }
  return out;
}

function identitiesFromDnsNames(
  names: readonly string[],
  options: IdentityOptions,
  warnings: string[],
): SipIdentity[] {
  return names.flatMap((name) => domainIdentity(name, "san-dns", options, warnings));
}

function identitiesFromCommonNames(
  certDer: Buffer,
  parsedNames: readonly string[] | undefined,
  options: IdentityOptions,
  warnings: string[],
): SipIdentity[] {
  let names: readonly string[];
  try {
    names = parsedNames ?? readSubjectCommonNames(certDer);
  } catch (err) {
    warnings.push(`subject unreadable: ${(err as Error).message}`);
    return [];
  }
  // RFC 5922 §7.1 step 2: the CN counts only "if a valid DNS name is found there".
  return names.flatMap((name) => domainIdentity(name, "cn", options, warnings));
}

function domainIdentity(
  name: string,
  source: "san-dns" | "cn",
  options: IdentityOptions,
  warnings: string[],
): SipIdentity[] {
  const value = normalizeDomain(name);
  if (isDnsName(value)) return [{ kind: "domain", value, source }];
  if (isLegacyWildcard(value)) {
    // RFC 5922 §7.2: without the opt-in this is a literal name that matches only "*.example.com" itself.
    if (options.legacyWildcards)
      warnings.push(`legacy wildcard identity ${value} accepted (RFC 6125 §6.4.3)`);
    return [{ kind: "domain", value, source }];
  }
  const what = source === "cn" ? "subject CN" : "SAN dNSName";
  warnings.push(`${what} "${name}" is not a DNS name, ignored`);
  return [];
}

function identitiesFromEmails(emails: readonly string[], warnings: string[]): SipIdentity[] {
  const out: SipIdentity[] = [];
  for (const email of emails) {
    const at = email.lastIndexOf("@");
    const c = at > 0 ? classifySanUri(`sip:${email}`) : undefined;
    if (c?.kind === "sip-user") out.push({ kind: "uri", value: c.uri, source: "san-email" });
    else warnings.push(`SAN email "${email}" is not usable as a SIP URI, ignored`);
  }
  return out;
}

function unique(ids: SipIdentity[]): SipIdentity[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const key = `${id.kind} ${id.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * RFC 5922 §7.2: is `domain` (a SIP domain, e.g. the host of the request's target URI) one of the domain
 * identities? Whole-name, case-insensitive, A-label comparison; no suffix match; wildcards are literal
 * unless `legacyWildcards`. URI identities are never domain identities and are not consulted.
 */
export function matchSipDomain(
  identities: readonly SipIdentity[],
  domain: string,
  options: Pick<IdentityOptions, "legacyWildcards"> = {},
): DomainMatchResult {
  const target = normalizeDomain(domain);
  if (isIpLiteral(target)) {
    return {
      ok: false,
      code: "ip-literal",
      detail: `${domain} is an IP address; SIP domain identities are DNS names`,
    };
  }
  if (!isDnsName(target))
    return { ok: false, code: "bad-domain", detail: `"${domain}" is not a valid DNS name` };
  const domains = identities.filter((id) => id.kind === "domain");
  if (domains.length === 0) {
    return { ok: false, code: "no-domain-identities", detail: "the certificate has no SIP domain identity" };
  }
  const exact = domains.find((id) => normalizeDomain(id.value) === target);
  if (exact) return { ok: true, code: "rfc5922-match", matched: exact, via: "exact" };
  const wildcard = options.legacyWildcards
    ? domains.find((id) => wildcardCovers(id.value, target))
    : undefined;
  if (wildcard) {
    const warning = `${target} matched the legacy wildcard ${wildcard.value}; RFC 5922 §7.2 forbids wildcards`;
    return { ok: true, code: "rfc5922-match", matched: wildcard, via: "legacy-wildcard", warning };
  }
  return {
    ok: false,
    code: "rfc5922-no-match",
    detail: `${target} is not among the certificate's SIP domain identities (${domains.map((d) => d.value).join(", ")})`,
  };
}

// RFC 6125 §6.4.3: "*" stands for exactly one whole left-most label of the reference identifier.
function wildcardCovers(identity: string, target: string): boolean {
  const id = normalizeDomain(identity);
  if (!isLegacyWildcard(id)) return false;
  const dot = target.indexOf(".");
  return dot > 0 && target.slice(dot + 1) === id.slice(2);
}
