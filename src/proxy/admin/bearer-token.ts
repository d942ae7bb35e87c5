/**
 * Bearer-token check for the admin API (RFC 6750 §2.1 header form only: no query or body tokens, which
 * would end up in logs and proxies' histories).
 *
 * The comparison hashes both sides first and compares the digests with timingSafeEqual: equal-length
 * inputs whatever was sent, so neither the token's length nor a matching prefix leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type TokenCheck =
  | { readonly ok: true; readonly code: "no-token-configured" | "token-accepted" }
  | { readonly ok: false; readonly code: "token-missing" | "token-wrong"; readonly detail: string };

// RFC 6750 §2.1 b64token, widened to any visible ASCII so that whatever token an operator configured works.
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/** A token that can be sent in the header at all: visible ASCII, no spaces. */
export function isUsableToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

export function checkBearerToken(
  expected: string | undefined,
  authorization: string | undefined,
): TokenCheck {
  if (expected === undefined) return { ok: true, code: "no-token-configured" };
  const presented = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  if (presented === undefined) {
    return { ok: false, code: "token-missing", detail: "an Authorization: Bearer token is required" };
  }
  if (!sameSecret(presented, expected)) {
    return { ok: false, code: "token-wrong", detail: "the bearer token is not accepted" };
  }
  return { ok: true, code: "token-accepted" };
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}
