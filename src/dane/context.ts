/** State shared by the steps of one DANE verification, and the result builders they use. */
import type { X509Certificate } from "node:crypto";
import type { AssociationCache } from "./association.js";
import { checkNames } from "./names.js";
import type {
  DaneFailure,
  DaneFailureCode,
  DaneMatch,
  DaneMethod,
  DaneResult,
  DaneSuccessCode,
  DaneVerifyInput,
} from "./result.js";
import type { UnusableTlsaRecord, UsableTlsaRecord } from "./tlsa.js";

export interface DaneContext {
  readonly input: DaneVerifyInput;
  readonly leaf: X509Certificate;
  /** The presented chain, leaf first. */
  readonly presented: readonly X509Certificate[];
  /** Usable records after digest agility (RFC 7671 §9). */
  readonly records: readonly UsableTlsaRecord[];
  readonly cache: AssociationCache;
  readonly ignored: readonly UnusableTlsaRecord[];
}

/**
 * What one usage family (DANE-EE, DANE-TA, PKIX) concluded. `significant` failures are reported in preference
 * to a plain "no match": a record matched, or PKIX validation itself failed (as OpenSSL reports it).
 */
export interface Outcome {
  readonly result: DaneResult;
  readonly significant: boolean;
}

const SUCCESS_CODE: Readonly<Record<DaneMethod, DaneSuccessCode>> = {
  "dane-ee": "dane-ee-match",
  "dane-ta": "dane-ta-match",
  "pkix-ta": "pkix-ta-match",
  "pkix-ee": "pkix-ee-match",
};

/** A record matched and the chain (if any) validated: check names when asked, then succeed or fail. */
export function concludeWithNames(
  ctx: DaneContext,
  method: DaneMethod,
  matched: DaneMatch,
  chain: readonly X509Certificate[],
  checkNamesToo: boolean,
): Outcome {
  if (!checkNamesToo) return succeed(ctx, method, matched, chain, undefined);
  const names = checkNames(ctx.leaf, ctx.input.reference, {
    allowWildcards: ctx.input.options?.allowWildcards,
  });
  if (!names.ok) return { result: fail(ctx, names.code, names.detail, matched, method), significant: true };
  return succeed(ctx, method, matched, chain, names);
}

function succeed(
  ctx: DaneContext,
  method: DaneMethod,
  matched: DaneMatch,
  chain: readonly X509Certificate[],
  names: Extract<ReturnType<typeof checkNames>, { ok: true }> | undefined,
): Outcome {
  const base = {
    ok: true as const,
    method,
    code: SUCCESS_CODE[method],
    matched,
    chain,
    ignored: ctx.ignored,
  };
  return { result: names ? { ...base, names } : base, significant: true };
}

export function fail(
  ctx: Pick<DaneContext, "ignored">,
  code: DaneFailureCode,
  detail: string,
  matched?: DaneMatch,
  method?: DaneMethod,
): DaneFailure {
  const base: DaneFailure = { ok: false, code, detail, ignored: ctx.ignored };
  return { ...base, ...(matched ? { matched } : {}), ...(method ? { method } : {}) };
}

/** The match description of a usable record at a chain depth. */
export function matchOf(record: UsableTlsaRecord, depth: number, extra: Partial<DaneMatch> = {}): DaneMatch {
  return { record: record.record, recordIndex: record.index, usage: record.usage, depth, ...extra };
}
