/**
 * RFC 3261 §16.7 step 6, choosing the best final response once every client transaction is done: a 6xx
 * if the context holds one, else one from the lowest response class stored (3xx before 4xx before 5xx).
 * Within a class the first one stored wins. 401/407 aggregation (step 7) is not done: the first one wins.
 * With no final response at all the caller answers 408 (step 6).
 */
import type { SipMessage } from "../../sip/index.js";

/** A final response of one branch: received from downstream, or one we stand in for (timeout, error). */
export interface FinalCandidate {
  readonly status: number;
  /** The received response; undefined for one we generate (408 on Timer B/C, 503 on transport error). */
  readonly response?: SipMessage;
  readonly reason: string;
  readonly failure?: { readonly code: string; readonly detail: string };
}

export function bestResponse(candidates: readonly FinalCandidate[]): FinalCandidate | undefined {
  let best: FinalCandidate | undefined;
  for (const c of candidates) {
    if (c.status >= 600) return c;
    if (best === undefined || Math.floor(c.status / 100) < Math.floor(best.status / 100)) best = c;
  }
  return best;
}
