/**
 * Digest algorithm agility, RFC 7671 §9. Within each (usage, selector) combination the client uses only the
 * records whose digest matching type is the strongest one present among those it supports; records with a
 * weaker digest are ignored, so a downgrade to a weaker (say, broken) digest gains an attacker nothing.
 * Full(0) records carry no digest and are always used: with "3 1 0", "3 1 1" and "3 1 2" published, a
 * SHA-512-capable client accepts a key matching "3 1 0" or "3 1 2", and never one matching only "3 1 1".
 */
import type { TlsaMatching } from "../pki/tlsa-data.js";
import { MATCHING, type UsableTlsaRecord } from "./tlsa.js";

export type DigestMatchingType = Exclude<TlsaMatching, typeof MATCHING.FULL>;

/** Strongest first. A digest type missing from the list is treated as unsupported and its records ignored. */
export const DEFAULT_DIGEST_PREFERENCE: readonly DigestMatchingType[] = [MATCHING.SHA512, MATCHING.SHA256];

/** The records that take part in matching after RFC 7671 §9, in their original order. */
export function applyDigestAgility(
  records: readonly UsableTlsaRecord[],
  preference: readonly DigestMatchingType[] = DEFAULT_DIGEST_PREFERENCE,
): UsableTlsaRecord[] {
  const chosen = new Map<string, TlsaMatching | undefined>();
  for (const r of records) {
    const key = groupKey(r);
    if (!chosen.has(key)) chosen.set(key, strongestPresent(records, r, preference));
  }
  return records.filter(
    (r) => r.matchingType === MATCHING.FULL || r.matchingType === chosen.get(groupKey(r)),
  );
}

function groupKey(r: UsableTlsaRecord): string {
  return `${r.usage}/${r.selector}`;
}

function strongestPresent(
  records: readonly UsableTlsaRecord[],
  like: UsableTlsaRecord,
  preference: readonly DigestMatchingType[],
): TlsaMatching | undefined {
  const present = new Set(
    records.filter((r) => r.usage === like.usage && r.selector === like.selector).map((r) => r.matchingType),
  );
  return preference.find((m) => present.has(m));
}
