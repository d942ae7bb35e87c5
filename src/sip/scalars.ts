/**
 * Numeric header values. RFC 3261 §25.1 writes them as 1*DIGIT; the ranges come from the header definitions.
 * Leading zeros are legal (RFC 4475 §3.1.1.1 "0068"); values past the range are errors, not clamped
 * (RFC 4475 §3.1.2.4/§3.1.2.5).
 */
import { valueError, type ValueResult } from "./errors.js";

/** 2^32 - 1: the upper bound of CSeq numbers (RFC 3261 §8.1.1.5) and of delta-seconds (§20.19). */
export const UINT32_MAX = 0xffffffff;

/**
 * Parses text[start,end) as 1*DIGIT not above `max`. Works digit by digit and stops once past `max`,
 * so a 100-digit value costs nothing and never loses precision.
 */
export function parseBoundedDigits(
  text: string,
  start: number,
  end: number,
  max: number,
): ValueResult<number> {
  if (start >= end) return valueError("expected digits", start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return valueError("expected only digits", i);
    n = n * 10 + d;
    if (n > max) return valueError(`value exceeds ${max}`, start);
  }
  return { ok: true, value: n };
}

/** RFC 3261 §20.22: Max-Forwards = 1*DIGIT, "an integer in the range 0-255". */
export function parseMaxForwards(text: string): ValueResult<number> {
  return parseBoundedDigits(text, 0, text.length, 255);
}

/** RFC 3261 §20.19 Expires / §20.10 expires param: delta-seconds between 0 and 2^32 - 1. */
export function parseDeltaSeconds(text: string): ValueResult<number> {
  return parseBoundedDigits(text, 0, text.length, UINT32_MAX);
}
