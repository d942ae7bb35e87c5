/**
 * PKIX-TA(0) and PKIX-EE(1), RFC 7671 §5.3–§5.4 / RFC 6698 §2.1.1: full RFC 5280 validation to the
 * configured trust anchors, plus the record's constraint — PKIX-EE matches the leaf; PKIX-TA matches a CA
 * certificate of the validated path (depth ≥ 1, the configured anchor included). Names are checked.
 * Certificates published as PKIX-TA Full(0) records are offered to path building as intermediates, as
 * OpenSSL does (a server that forgot an intermediate): they add no trust, the path must still end at a
 * configured anchor.
 */
import type { X509Certificate } from "node:crypto";
import { validateChain } from "../pki/chain.js";
import { recordMatches } from "./association.js";
import { concludeWithNames, fail, matchOf, type DaneContext, type Outcome } from "./context.js";
import type { DaneMatch, DaneMethod } from "./result.js";
import { USAGE, describeRecord, type UsableTlsaRecord } from "./tlsa.js";

interface PkixMatch {
  readonly method: DaneMethod;
  readonly match: DaneMatch;
}

/** The PKIX-TA/PKIX-EE outcome, or undefined when the RRset has neither. */
export function verifyPkix(ctx: DaneContext): Outcome | undefined {
  const records = ctx.records.filter((r) => r.usage === USAGE.PKIX_TA || r.usage === USAGE.PKIX_EE);
  if (records.length === 0) return undefined;
  const chain = validateChain({
    leaf: ctx.leaf,
    intermediates: intermediates(ctx, records),
    anchors: ctx.input.pkixAnchors ?? [],
    crls: ctx.input.crls,
    at: ctx.input.at,
    purpose: ctx.input.purpose ?? "server",
  });
  if (!chain.ok) {
    const seen = findMatch(ctx, records, ctx.presented);
    const detail = `PKIX validation failed: ${chain.detail}`;
    return { result: fail(ctx, chain.code, detail, seen?.match, seen?.method), significant: true };
  }
  const found = findMatch(ctx, records, chain.chain);
  if (!found) return noPkixMatch(ctx, records);
  return concludeWithNames(ctx, found.method, found.match, chain.chain, true);
}

function intermediates(ctx: DaneContext, records: readonly UsableTlsaRecord[]): X509Certificate[] {
  const out = ctx.presented.slice(1);
  for (const r of records) {
    if (
      r.usage === USAGE.PKIX_TA &&
      r.cert &&
      !out.some((c) => c.raw.equals(r.cert?.raw ?? Buffer.alloc(0)))
    ) {
      out.push(r.cert);
    }
  }
  return out;
}

/** PKIX-EE on the leaf first, then PKIX-TA from depth 1 upwards: the match nearest the leaf wins. */
function findMatch(
  ctx: DaneContext,
  records: readonly UsableTlsaRecord[],
  path: readonly X509Certificate[],
): PkixMatch | undefined {
  const ee = records.find((r) => r.usage === USAGE.PKIX_EE && recordMatches(r, ctx.leaf, ctx.cache));
  if (ee) return { method: "pkix-ee", match: matchOf(ee, 0) };
  for (let depth = 1; depth < path.length; depth++) {
    const cert = path[depth] as X509Certificate;
    const ta = records.find((r) => r.usage === USAGE.PKIX_TA && recordMatches(r, cert, ctx.cache));
    if (ta) return { method: "pkix-ta", match: matchOf(ta, depth) };
  }
  return undefined;
}

function noPkixMatch(ctx: DaneContext, records: readonly UsableTlsaRecord[]): Outcome {
  const list = records.map((r) => describeRecord(r.record)).join("; ");
  const detail = `the chain validates, but no PKIX-TA/PKIX-EE record matches its certificates: ${list}`;
  return { result: fail(ctx, "dane-no-match", detail), significant: false };
}
