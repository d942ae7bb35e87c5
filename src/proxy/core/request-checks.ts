/**
 * RFC 3261 §16.3 request validation at the proxy: syntax, URI scheme, Proxy-Require and Max-Forwards come
 * from validateRequest (400/416/420/483/505); loop detection (§16.3 step 4, 482) is ours because it needs
 * our own Via entries and branch hashes.
 */
import { validateRequest, type SipMessage } from "../../sip/index.js";
import { loopHash, loopPart } from "./branch-id.js";
import type { Side } from "./flow.js";
import type { LocalNames } from "./local-names.js";

export type RequestCheckResult =
  | { readonly ok: true; readonly hash: string }
  | {
      readonly ok: false;
      readonly status: number;
      readonly reason: string;
      readonly code: string;
      readonly detail: string;
      readonly headers: ReadonlyArray<readonly [string, string]>;
    };

/** §16.3 steps 1-5 in order, then step 4 (loop) once the request is known to be well formed. */
export function checkRequest(request: SipMessage, names: LocalNames, side: Side): RequestCheckResult {
  const verdict = validateRequest(request, { role: "proxy" });
  if (!verdict.ok) {
    // §8.2.2.3 / §16.3 step 5: a 420 lists the tags we do not support in Unsupported.
    const headers: Array<readonly [string, string]> =
      verdict.unsupported !== undefined ? [["Unsupported", verdict.unsupported.join(", ")]] : [];
    return {
      ok: false,
      status: verdict.status,
      reason: verdict.reason,
      code: verdict.code,
      detail: verdict.detail,
      headers,
    };
  }
  const hash = loopHash(request, side);
  if (hasLooped(request, names, hash)) {
    return {
      ok: false,
      status: 482,
      reason: "Loop Detected",
      code: "loop-detected",
      detail: "a Via of ours carries the branch hash this request computes to (RFC 3261 §16.3 step 4)",
      headers: [],
    };
  }
  return { ok: true, hash };
}

/**
 * §16.3 step 4: "If the request contains a Via header field with a sent-by value that equals a value placed
 * into previous requests by the proxy ... If the parameters match, the request has looped."
 */
export function hasLooped(request: SipMessage, names: LocalNames, hash: string): boolean {
  for (const via of request.via) {
    if (names.viaSide(via) !== undefined && loopPart(via.branch) === hash) return true;
  }
  return false;
}
