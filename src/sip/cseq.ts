/**
 * CSeq (RFC 3261 §20.16): `1*DIGIT LWS Method`. The number is below 2^31 when generated (§8.1.1.5) but any
 * value up to 2^32 - 1 must be accepted; larger values are malformed (RFC 4475 §3.1.2.4).
 */
import { TOKEN } from "./chars.js";
import { valueError, type ValueResult } from "./errors.js";
import { parseBoundedDigits, UINT32_MAX } from "./scalars.js";

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

export function parseCSeq(text: string): ValueResult<CSeq> {
  let i = 0;
  while (i < text.length && isDigitCode(text.charCodeAt(i))) i++;
  const num = parseBoundedDigits(text, 0, i, UINT32_MAX);
  if (!num.ok) return num;
  const wsStart = i;
  while (i < text.length && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
  if (i === wsStart) return valueError("expected whitespace between number and method", i);
  const methodStart = i;
  while (i < text.length && TOKEN[text.charCodeAt(i)] === 1) i++;
  if (i === methodStart) return valueError("expected a method token", i);
  if (i !== text.length) return valueError("unexpected characters after the method", i);
  return { ok: true, value: { seq: num.value, method: text.slice(methodStart) } };
}

function isDigitCode(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
