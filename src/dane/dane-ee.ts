/**
 * DANE-EE(3), RFC 7671 §5.1: the record matches the leaf certificate (or its public key) and that alone
 * authenticates the server. No chain is built; validity dates are ignored (the DNS record's lifetime governs);
 * names are ignored unless the caller turns name checks on.
 */
import { recordMatches } from "./association.js";
import { concludeWithNames, matchOf, type DaneContext, type Outcome } from "./context.js";
import { USAGE } from "./tlsa.js";

/** The DANE-EE outcome, or undefined when no DANE-EE record matches the leaf. */
export function verifyDaneEe(ctx: DaneContext): Outcome | undefined {
  const record = ctx.records.find((r) => r.usage === USAGE.DANE_EE && recordMatches(r, ctx.leaf, ctx.cache));
  if (!record) return undefined;
  const checkNamesToo = ctx.input.options?.noNameChecksForDaneEe === false;
  return concludeWithNames(ctx, "dane-ee", matchOf(record, 0), [ctx.leaf], checkNamesToo);
}
