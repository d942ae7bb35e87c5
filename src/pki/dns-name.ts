/**
 * DNS names as RFC 5922 §7.2 compares them: case-insensitive, whole name, internationalized names in their
 * A-label form (RFC 5280 §7.2 / RFC 5891), and a trailing root dot carrying no meaning.
 */
import { domainToASCII } from "node:url";

/**
 * Lower-case, trailing dot removed, U-labels converted to A-labels. Never throws: a name that cannot be
 * converted is returned lower-cased, and `isDnsName` rejects it, so it can never match a valid name.
 */
export function normalizeDomain(name: string): string {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const lower = trimmed.toLowerCase();
  if (/^[\x21-\x7e]*$/.test(lower)) return lower; // already ASCII: nothing to convert
  const ascii = domainToASCII(lower);
  return ascii === "" ? lower : ascii;
}

/** RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in text form without the trailing dot. */
export const MAX_DNS_NAME = 253;
/** RFC 1035 §2.3.4: labels are 63 octets or less. */
export const MAX_DNS_LABEL = 63;

// RFC 1035 §2.3.1 / RFC 1123 §2.1 LDH labels: no hyphen at either end. "_" is tolerated by default because
// SRV owner names and real certificates use it.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** The first rule a normalized name breaks, with the offending label where there is one. */
export type DnsNameProblem =
  | { readonly code: "empty" }
  | { readonly code: "too-long" }
  | { readonly code: "empty-label" }
  | { readonly code: "label-too-long"; readonly label: string }
  | { readonly code: "bad-label"; readonly label: string }
  | { readonly code: "numeric-tld" };

export interface DnsNameRules {
  /** Refuse "_": strict LDH, as a SIP URI host is (RFC 3261 §25.1 hostname). Default false. */
  readonly ldhOnly?: boolean;
}

/** Why a normalized (see normalizeDomain) name is not a host name, or undefined when it is one. */
export function dnsNameProblem(normalized: string, rules: DnsNameRules = {}): DnsNameProblem | undefined {
  if (normalized.length === 0) return { code: "empty" };
  if (normalized.length > MAX_DNS_NAME) return { code: "too-long" };
  const pattern = rules.ldhOnly === true ? LDH_LABEL : LABEL;
  const labels = normalized.split(".");
  for (const label of labels) {
    if (label.length === 0) return { code: "empty-label" };
    if (label.length > MAX_DNS_LABEL) return { code: "label-too-long", label };
    if (!pattern.test(label)) return { code: "bad-label", label };
  }
  // RFC 3261 §25.1 toplabel starts with ALPHA: an all-numeric last label is an IPv4 literal, not a name.
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return { code: "numeric-tld" };
  return undefined;
}

/** True for a normalized (see normalizeDomain) host name: 1–63-octet LDH labels, ≤ 253 octets, not an IP. */
export function isDnsName(normalized: string): boolean {
  return !isIpLiteral(normalized) && dnsNameProblem(normalized) === undefined;
}

/** True for an IPv4 or IPv6 literal, with or without IPv6 brackets. */
export function isIpLiteral(text: string): boolean {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return isIpv4(bare) || isIpv6(bare);
}

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/.test(p));
}

// RFC 4291 §2.2 text forms: eight 16-bit groups, one "::" for a run of zeros, optional dotted-quad tail.
function isIpv6(text: string): boolean {
  if (!text.includes(":") || text.includes(":::")) return false;
  let groups = text.split(":");
  const last = groups[groups.length - 1] ?? "";
  let width = 8;
  if (last.includes(".")) {
    if (!isIpv4(last)) return false;
    groups = groups.slice(0, -1);
    width = 6;
  }
  const doubleColons = text.split("::").length - 1;
  if (doubleColons > 1) return false;
  const filled = groups.filter(
    (g, i) => g !== "" || (i !== 0 && i !== groups.length - 1 && doubleColons === 0),
  );
  if (!filled.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return doubleColons === 1 ? filled.length < width : filled.length === width;
}

/** RFC 6125 §6.4.3 (legacy): a left-most label that is exactly "*" followed by at least two labels. */
export function isLegacyWildcard(normalized: string): boolean {
  if (!normalized.startsWith("*.")) return false;
  const rest = normalized.slice(2);
  return rest.includes(".") && isDnsName(rest);
}
