/**
 * DANE verification of a presented certificate chain against a (DNSSEC-secure) TLSA RRset: RFC 6698 as
 * updated by RFC 7671, with the reference identifiers of RFC 7673 (DANE with SRV). Pure and synchronous.
 *
 * Order, as OpenSSL applies it: a DANE-EE(3) match on the leaf settles it; else DANE-TA(2) anchors nearest the
 * leaf first; else PKIX-TA(0)/PKIX-EE(1). A failed DANE match is a failure, never a reason to fall back to
 * plain PKIX — only an RRset with no usable record ("dane-no-usable-records") lets the caller proceed as if
 * there were no TLSA records (RFC 7671 §4.1).
 */
import { applyDigestAgility } from "./agility.js";
import { AssociationCache } from "./association.js";
import { fail, type DaneContext, type Outcome } from "./context.js";
import { verifyDaneEe } from "./dane-ee.js";
import { verifyDaneTa } from "./dane-ta.js";
import { verifyPkix } from "./pkix.js";
import type { DaneResult, DaneVerifyInput } from "./result.js";
import { classifyRecords, describeRecord, type UnusableTlsaRecord } from "./tlsa.js";

/** Presented certificates beyond this many are not looked at (bounded work; real chains are far shorter). */
export const MAX_PRESENTED_CHAIN = 32;

export function verifyDane(input: DaneVerifyInput): DaneResult {
  const { usable, unusable } = classifyRecords(input.records);
  const leaf = input.chain[0];
  if (!leaf) return fail({ ignored: unusable }, "empty-chain", "the peer presented no certificate");
  const records = applyDigestAgility(usable, input.options?.digestPreference);
  if (records.length === 0)
    return fail({ ignored: unusable }, "dane-no-usable-records", noUsableDetail(unusable));
  const ctx: DaneContext = {
    input,
    leaf,
    presented: input.chain.slice(0, MAX_PRESENTED_CHAIN),
    records,
    cache: new AssociationCache(),
    ignored: unusable,
  };
  return decide(ctx);
}

function decide(ctx: DaneContext): DaneResult {
  // A DANE-EE match is final either way: its only failure is a name mismatch, which no other usage can fix.
  const ee = verifyDaneEe(ctx);
  if (ee) return ee.result;
  const outcomes: Outcome[] = [];
  for (const step of [verifyDaneTa, verifyPkix]) {
    const outcome = step(ctx);
    if (outcome?.result.ok) return outcome.result;
    if (outcome?.result.code === "hostname-mismatch") return outcome.result;
    if (outcome) outcomes.push(outcome);
  }
  return outcomes.find((o) => o.significant)?.result ?? noMatch(ctx, outcomes);
}

function noMatch(ctx: DaneContext, outcomes: readonly Outcome[]): DaneResult {
  const details = outcomes.map((o) => (o.result.ok ? "" : o.result.detail)).filter((d) => d !== "");
  const records = ctx.records.map((r) => describeRecord(r.record)).join("; ");
  const detail =
    details.length > 0 ? details.join(" | ") : `no TLSA record matches the presented chain: ${records}`;
  return fail(ctx, "dane-no-match", detail);
}

function noUsableDetail(unusable: readonly UnusableTlsaRecord[]): string {
  if (unusable.length === 0) return "the TLSA RRset is empty";
  return `no usable TLSA record: ${unusable.map((u) => `#${u.index} ${u.detail}`).join("; ")}`;
}
