/**
 * Syntax check for SIP domain names written by operators (CN mapping files, CA rights, trusted peers).
 *
 * The check is strict on purpose: a name that can never equal a certificate identity is a configuration
 * mistake, and silently keeping it would make a rule look active when it is not. The DNS rules themselves
 * are pki/dns-name.ts's; this file adds the operator-facing refusals and wording.
 */
import {
  MAX_DNS_LABEL,
  MAX_DNS_NAME,
  dnsNameProblem,
  normalizeDomain,
  type DnsNameProblem,
} from "../pki/dns-name.js";

export type DomainCheck = { ok: true; domain: string } | { ok: false; reason: string };

export function checkDomainName(text: string): DomainCheck {
  if (text.length === 0) return { ok: false, reason: "empty domain" };
  if (text.includes("*")) {
    // Issue 4 §2: wildcards are never implied; a suffix rule must be written out explicitly.
    return { ok: false, reason: `wildcard in "${text}" is not allowed; name domains explicitly` };
  }
  if (text.includes(":") || text.startsWith("[")) {
    return { ok: false, reason: `"${text}" is an IP address, not a SIP domain` };
  }
  const domain = normalizeDomain(text);
  // RFC 3261 §25.1 hostname has no "_": such a name could never equal the host of a SIP URI.
  const problem = dnsNameProblem(domain, { ldhOnly: true });
  return problem === undefined ? { ok: true, domain } : { ok: false, reason: describe(text, problem) };
}

function describe(text: string, problem: DnsNameProblem): string {
  switch (problem.code) {
    case "empty":
      return `"${text}" is not a valid domain name`;
    case "too-long":
      return `"${text}" is longer than ${MAX_DNS_NAME} characters`;
    case "empty-label":
      return `"${text}" has an empty label`;
    case "label-too-long":
      return `"${text}" has a label longer than ${MAX_DNS_LABEL}`;
    case "bad-label":
      return `"${text}" has an invalid label "${problem.label}"`;
    case "numeric-tld":
      return `"${text}" is an IP address, not a SIP domain`;
  }
}
