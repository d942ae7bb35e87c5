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

// RFC 1035 §2.3.1 LDH labels; "_" is tolerated because SRV owner names and real certificates use it.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** True for a normalized (see normalizeDomain) host name: 1–63-octet LDH labels, ≤ 253 octets, not an IP. */
export function isDnsName(normalized: string): boolean {
  if (normalized.length === 0 || normalized.length > 253) return false;
  if (isIpLiteral(normalized)) return false;
  const labels = normalized.split(".");
  if (labels.length < 1) return false;
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? ""); // an all-numeric TLD is an address, not a name
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
