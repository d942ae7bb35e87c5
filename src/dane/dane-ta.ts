/**
 * DANE-TA(2), RFC 7671 §5.2: the record designates a trust anchor — a certificate of the presented chain
 * above the leaf, or a certificate (2 0 0) or bare public key (2 1 0) published in the record itself, which
 * the server need not send. The chain must validate to that anchor under RFC 5280 (dates included), and the
 * leaf's names must match the reference identifiers.
 */
import type { X509Certificate } from "node:crypto";
import { validateChain, type ChainResult, type TrustAnchor } from "../pki/chain.js";
import { recordMatches } from "./association.js";
import { concludeWithNames, fail, matchOf, type DaneContext, type Outcome } from "./context.js";
import type { AnchorSource } from "./result.js";
import { USAGE, describeRecord, type UsableTlsaRecord } from "./tlsa.js";

interface TaCandidate {
  readonly record: UsableTlsaRecord;
  readonly anchor: TrustAnchor;
  readonly source: AnchorSource;
  /** Depth of the matched certificate in the presented chain (presented-chain candidates only). */
  readonly presentedDepth?: number;
}

/** Bounds the number of chain validations one RRset can cause. */
export const MAX_TA_CANDIDATES = 32;

/** The DANE-TA outcome, or undefined when the RRset has no DANE-TA record. */
export function verifyDaneTa(ctx: DaneContext): Outcome | undefined {
  const taRecords = ctx.records.filter((r) => r.usage === USAGE.DANE_TA);
  if (taRecords.length === 0) return undefined;
  const failures: Outcome[] = [];
  for (const candidate of taCandidates(ctx, taRecords).slice(0, MAX_TA_CANDIDATES)) {
    const chain = validateToAnchor(ctx, candidate);
    if (chain.ok) {
      const depth = anchorDepth(chain.chain, candidate);
      const matched = matchOf(candidate.record, depth, { anchorSource: candidate.source });
      return concludeWithNames(ctx, "dane-ta", matched, chain.chain, true);
    }
    failures.push(candidateFailure(ctx, candidate, chain));
  }
  return failures.find((f) => f.significant) ?? noTaMatch(ctx, taRecords);
}

/**
 * Candidates nearest the leaf first — the presented chain from depth 1 upwards (a DANE-TA record never
 * designates the leaf itself), then anchors carried in the records. OpenSSL searches in the same order.
 */
function taCandidates(ctx: DaneContext, taRecords: readonly UsableTlsaRecord[]): TaCandidate[] {
  const out: TaCandidate[] = [];
  ctx.presented.forEach((cert, depth) => {
    if (depth === 0) return;
    const record = taRecords.find((r) => recordMatches(r, cert, ctx.cache));
    if (record) out.push({ record, anchor: { cert }, source: "presented-chain", presentedDepth: depth });
  });
  for (const record of taRecords) {
    if (record.cert && !ctx.presented.some((c) => c.raw.equals(record.cert?.raw ?? Buffer.alloc(0)))) {
      out.push({ record, anchor: { cert: record.cert }, source: "tlsa-certificate" });
    } else if (record.publicKey) {
      const name = `TLSA ${describeRecord(record.record)}`;
      out.push({ record, anchor: { publicKey: record.publicKey, name }, source: "tlsa-public-key" });
    }
  }
  return out;
}

function validateToAnchor(ctx: DaneContext, candidate: TaCandidate): ChainResult {
  const anchorCert = "cert" in candidate.anchor ? candidate.anchor.cert : undefined;
  const intermediates = ctx.presented.slice(1).filter((c) => !anchorCert || !c.raw.equals(anchorCert.raw));
  return validateChain({
    leaf: ctx.leaf,
    intermediates,
    anchors: [candidate.anchor],
    crls: ctx.input.crls,
    at: ctx.input.at,
    purpose: ctx.input.purpose ?? "server",
  });
}

// The depth OpenSSL reports: the anchor certificate's position in the validated chain; for a bare key, the
// certificate the key signed (the last certificate of the chain).
function anchorDepth(chain: readonly X509Certificate[], candidate: TaCandidate): number {
  if ("cert" in candidate.anchor) {
    const anchorRaw = candidate.anchor.cert.raw;
    const at = chain.findIndex((c) => c.raw.equals(anchorRaw));
    if (at >= 0) return at;
  }
  return chain.length - 1;
}

// A presented certificate that matched is a real match whose chain failed; an anchor from DNS that the chain
// could not reach ("unknown-issuer") simply does not apply to this chain.
function candidateFailure(
  ctx: DaneContext,
  candidate: TaCandidate,
  chain: Extract<ChainResult, { ok: false }>,
) {
  const detail = `DANE-TA ${describeRecord(candidate.record.record)}: chain does not validate to it: ${chain.detail}`;
  if (candidate.presentedDepth !== undefined) {
    const matched = matchOf(candidate.record, candidate.presentedDepth, { anchorSource: candidate.source });
    return { result: fail(ctx, chain.code, detail, matched, "dane-ta"), significant: true };
  }
  const significant = chain.code !== "unknown-issuer";
  return {
    result: fail(ctx, significant ? chain.code : "dane-no-match", detail, undefined, "dane-ta"),
    significant,
  };
}

function noTaMatch(ctx: DaneContext, taRecords: readonly UsableTlsaRecord[]): Outcome {
  const list = taRecords.map((r) => describeRecord(r.record)).join("; ");
  const detail = `no DANE-TA record matches a CA certificate of the presented chain or anchors it: ${list}`;
  return { result: fail(ctx, "dane-no-match", detail, undefined, "dane-ta"), significant: false };
}
