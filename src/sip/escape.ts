/**
 * Character classes of the RFC 3261 §25.1 URI grammar and %-escape handling ("escaped = "%" HEX HEX").
 *
 * Escapes decode to octets; the octets of one component are read as UTF-8 (the encoding RFC 3986 §2.5
 * recommends). A component whose escapes are not valid UTF-8 is refused instead of being decoded lossily:
 * a lossy decode would make two different URIs compare equal through their decoded parts.
 */

/** Bit flags for the ASCII range; one table lookup per character on the hot path. */
export const ALNUM = 1;
/** RFC 2396 §2.3 mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
export const MARK = 2;
/** RFC 3261 §25.1 user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
export const USER_UNRESERVED = 4;
/** RFC 3261 §25.1 password: "&" / "=" / "+" / "$" / "," */
export const PASSWORD_EXTRA = 8;
/** RFC 3261 §25.1 param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
export const PARAM_UNRESERVED = 16;
/** RFC 3261 §25.1 hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
export const HNV_UNRESERVED = 32;
/** RFC 2396 §2.2 reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
export const RESERVED = 64;
/** RFC 3261 §25.1 / RFC 2732: "[" and "]" are allowed in absolute URIs (IPv6 literals). */
export const BRACKET = 128;

/** unreserved = alphanum / mark (RFC 3261 §25.1) */
export const UNRESERVED = ALNUM | MARK;

const TABLE = buildTable();

function buildTable(): Uint8Array {
  const t = new Uint8Array(128);
  const add = (chars: string, flag: number): void => {
    for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)]! |= flag;
  };
  for (let c = 0x30; c <= 0x39; c++) t[c]! |= ALNUM;
  for (let c = 0x41; c <= 0x5a; c++) t[c]! |= ALNUM;
  for (let c = 0x61; c <= 0x7a; c++) t[c]! |= ALNUM;
  add("-_.!~*'()", MARK);
  add("&=+$,;?/", USER_UNRESERVED);
  add("&=+$,", PASSWORD_EXTRA);
  add("[]/:&+$", PARAM_UNRESERVED);
  add("[]/?:+$", HNV_UNRESERVED);
  add(";/?:@&=+$,", RESERVED);
  add("[]", BRACKET);
  return t;
}

/** True when the code unit is ASCII and has one of the given class bits. */
export function hasClass(code: number, mask: number): boolean {
  return code < 128 && (TABLE[code]! & mask) !== 0;
}

export function isAlnum(code: number): boolean {
  return code < 128 && (TABLE[code]! & ALNUM) !== 0;
}

export function isAlpha(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

export function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Where a scanned piece of text is malformed; each public parser turns it into its own result object.
 * A class so that "is this an error?" is one `instanceof` on the hot path, not property probing.
 */
export class ScanError {
  constructor(
    readonly offset: number,
    readonly detail: string,
  ) {}
}

export type EscapeError = ScanError;

/** Decoded text of one component plus its canonical escaped form (see `canonical` below). */
export interface DecodedComponent {
  readonly value: string;
  readonly canonical: string;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const HEX = "0123456789ABCDEF";

/**
 * Checks text[start,end) against the allowed class `mask` (plus escapes) and decodes it.
 * `canonical` is the RFC 3261 §19.1.4 comparison form: an escape of an unreserved character is decoded
 * ("characters other than those in the reserved set are equivalent to their %HEX HEX encoding"), every
 * other escape stays escaped with upper-case hex, so `%2B` and `+` stay different, `%61` and `a` become equal.
 */
export function decodeComponent(
  text: string,
  start: number,
  end: number,
  mask: number,
): DecodedComponent | EscapeError {
  let hasEscape = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      if (end - i < 3 || hexValue(text.charCodeAt(i + 1)) < 0 || hexValue(text.charCodeAt(i + 2)) < 0) {
        return new ScanError(i, "'%' not followed by two hex digits");
      }
      hasEscape = true;
      i += 2;
    } else if (!hasClass(c, mask)) {
      return new ScanError(i, `character ${describeChar(c)} not allowed here`);
    }
  }
  const raw = text.slice(start, end);
  if (!hasEscape) return { value: raw, canonical: raw };
  return decodeEscaped(text, start, end);
}

function decodeEscaped(text: string, start: number, end: number): DecodedComponent | EscapeError {
  const bytes: number[] = [];
  let canonical = "";
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      canonical += text[i];
      continue;
    }
    const b = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
    bytes.push(b);
    canonical += hasClass(b, UNRESERVED) ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15];
    i += 2;
  }
  try {
    return { value: UTF8.decode(Uint8Array.from(bytes)), canonical };
  } catch {
    return new ScanError(start, "%-escapes do not form valid UTF-8");
  }
}

const ENCODER = new TextEncoder();

/**
 * Escapes a decoded value for a component whose literal characters are `mask`; everything else becomes
 * %HH of its UTF-8 octets. The result is the canonical form of a value that was not escaped by the sender
 * (characters allowed literally stay literal).
 */
export function escapeComponent(value: string, mask: number): string {
  let simple = true;
  for (let i = 0; i < value.length; i++) {
    if (!hasClass(value.charCodeAt(i), mask)) {
      simple = false;
      break;
    }
  }
  if (simple) return value;
  let out = "";
  for (const b of ENCODER.encode(value)) {
    out += hasClass(b, mask) ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Re-reads a stored escaped form (which a caller may have built by hand) against the component's
 * character set: undefined when it is not valid for that component, else its decoded value and its
 * canonical form.
 */
export function recheckEscaped(escaped: string, mask: number): DecodedComponent | undefined {
  const r = decodeComponent(escaped, 0, escaped.length, mask);
  return r instanceof ScanError ? undefined : r;
}

/**
 * Input text made safe for an error detail: error details end up in logs and in SIP reason phrases, so
 * control characters (CR, LF, NUL...) and non-ASCII are shown as \\uXXXX and the text is cut to 64 chars.
 */
export function quoteForDetail(text: string): string {
  let out = "'";
  const n = Math.min(text.length, 64);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    out +=
      c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c ? text[i] : "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + (text.length > n ? "...'" : "'");
}

export function describeChar(code: number): string {
  if (code >= 0x21 && code < 0x7f) return `'${String.fromCharCode(code)}'`;
  return `0x${code.toString(16).padStart(2, "0")}`;
}
