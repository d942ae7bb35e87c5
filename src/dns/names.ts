/**
 * Domain-name syntax checks for names we put on the wire or take from answers (SRV targets, NAPTR replacements,
 * CNAME targets). RFC 1035 §2.3.4: labels of 1..63 octets, at most 255 octets on the wire (253 characters in
 * dotted form without the root dot).
 */

const MAX_NAME_CHARS = 253;
const MAX_LABEL_CHARS = 63;
/** Letters, digits, hyphen (RFC 1123 §2.1) and underscore for service labels such as `_sips._tcp` (RFC 2782). */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

/** Lower-cases and removes one trailing dot; comparison in DNS is case-insensitive (RFC 4343 §3). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/** True when `name` (canonical form, no trailing dot) is a syntactically valid host or service name. */
export function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_CHARS) return false;
  return name.split(".").every((label) => label.length <= MAX_LABEL_CHARS && LABEL.test(label));
}

/** Two names are the same DNS name when they are equal after canonicalisation. */
export function sameName(a: string, b: string): boolean {
  return canonicalName(a) === canonicalName(b);
}
