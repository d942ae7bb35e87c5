/**
 * Byte classes of the RFC 3261 §25.1 grammar as 256-entry lookup tables, so the hot path does one array
 * read per byte instead of regular expressions or string comparisons.
 */

function table(extra: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(256);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

/** RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"). */
export const TOKEN = table("-.!%*_+`'~", true);

/** RFC 3261 §25.1: word, the character set of Call-ID (token plus separators other than SP, ";", ",", "=", "@"). */
export const WORD = table("-.!%*_+`'~()<>:\\\"/[]?{}", true);

/** RFC 3261 §25.1: ALPHA. */
export const ALPHA = table("", false);
for (let c = 0x41; c <= 0x5a; c++) ALPHA[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ALPHA[c] = 1;

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;
export const COLON = 0x3a;

/** True for the characters of `text` all being in `set` (and `text` non-empty). */
export function allIn(set: Uint8Array, text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || set[c] !== 1) return false;
  }
  return true;
}

/** RFC 3261 §25.1: a non-empty run of DIGIT. */
export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
