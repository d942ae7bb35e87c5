/** Call-ID (RFC 3261 §20.8, §25.1): callid = word [ "@" word ], compared byte for byte. */
import { WORD } from "./chars.js";
import { valueError, type ValueResult } from "./errors.js";

export function parseCallId(text: string): ValueResult<string> {
  const at = text.indexOf("@");
  const end1 = at < 0 ? text.length : at;
  const bad1 = firstNonWord(text, 0, end1, true);
  if (bad1 >= 0) return valueError("invalid character in Call-ID", bad1);
  if (at >= 0) {
    const bad2 = firstNonWord(text, at + 1, text.length, true);
    if (bad2 >= 0) return valueError("invalid character in Call-ID host part", bad2);
  }
  return { ok: true, value: text };
}

/** Offset of the first non-word character in text[start,end), -1 if none; an empty range is an error at start. */
function firstNonWord(text: string, start: number, end: number, nonEmpty: boolean): number {
  if (nonEmpty && start >= end) return start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || WORD[c] !== 1) return i;
  }
  return -1;
}
