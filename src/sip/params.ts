/**
 * The header-value lexical layer shared by name-addr, Via and other header grammars (RFC 3261 §25.1):
 * linear white space, tokens, quoted strings, and `*( SEMI generic-param )` lists.
 *
 * Header values arrive either unfolded or still folded; a fold (CRLF followed by SP/HTAB, §7.3.1) counts as
 * white space everywhere LWS is allowed. A bare LF before SP/HTAB is treated the same way because some
 * framers normalise line ends. Scanners return indexes; nothing here allocates per character.
 */
import { TOKEN } from "./chars.js";
import { hexValue, ScanError } from "./escape.js";
import { lowerAscii, parseHost } from "./uri.js";

/** A header parameter: name lower-cased; value as written (a quoted-string keeps its quotes), null if absent. */
export type GenericParam = readonly [name: string, value: string | null];

export { ScanError };
export type LexError = ScanError;

/** RFC 3261 §25.1 token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export function isTokenChar(c: number): boolean {
  // One table read (chars.ts): this runs for every character of every parameter name and value.
  return TOKEN[c] === 1;
}

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** Index after the token starting at `i` (== i when there is none). */
export function scanToken(text: string, i: number, end: number): number {
  while (i < end && isTokenChar(text.charCodeAt(i))) i++;
  return i;
}

/** RFC 3261 §25.1 SWS = [LWS]; LWS = [*WSP CRLF] 1*WSP. Returns the index after the white space. */
export function skipSws(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09) i++;
    else if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a && isWsp(text.charCodeAt(i + 2)) && i + 2 < end)
      i += 3;
    else if (c === 0x0a && isWsp(text.charCodeAt(i + 1)) && i + 1 < end) i += 2;
    else break;
  }
  return i;
}

function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * RFC 3261 §25.1 quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE, starting at the DQUOTE.
 * qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
 * Returns the index after the closing quote, or a LexError.
 */
export function scanQuotedString(text: string, start: number, end: number): number | LexError {
  let i = start + 1;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const n = text.charCodeAt(i + 1);
      if (i + 1 >= end || n === 0x0a || n === 0x0d || n > 0x7f) {
        return new ScanError(i, "bad quoted-pair in quoted string");
      }
      i += 2;
    } else if (c === 0x0d || c === 0x0a) {
      const j = skipSws(text, i, end);
      if (j === i) return new ScanError(i, "line break inside quoted string");
      i = j;
    } else if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      return new ScanError(i, "control character inside quoted string");
    } else i++;
  }
  return new ScanError(start, "unterminated quoted string");
}

/** Content of a quoted-string (with its quotes): quoted-pairs resolved, folds (CRLF before WSP) removed. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf("\\") < 0 && inner.indexOf("\n") < 0) return inner;
  let out = "";
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === "\\") {
      out += inner[i + 1] ?? "";
      i++;
    } else if (ch !== "\r" && ch !== "\n") out += ch;
  }
  return out;
}

/**
 * A quoted-string for `value` (RFC 3261 §25.1): `"`, `\` and control characters become quoted-pairs;
 * CR and LF, which no quoted-pair can carry, become SP so that no value can end the header line.
 */
export function quote(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) out += " ";
    else if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) out += "\\" + value[i];
    else out += value[i];
  }
  return out + '"';
}

/**
 * `;name[=value]` for each parameter. A value that is not a valid gen-value (token, IPv6 reference or
 * quoted-string) is written as a quoted-string, so nothing stored in a parameter can break the header.
 * A name that is not a token is a programmer error.
 */
export function formatGenericParams(params: ReadonlyArray<GenericParam>): string {
  let out = "";
  for (const [name, value] of params) {
    if (!isToken(name)) throw new TypeError(`parameter name ${JSON.stringify(name)} is not a token`);
    out += ";" + name;
    if (value !== null) out += "=" + (isGenValue(value) ? value : quote(value));
  }
  return out;
}

function isGenValue(v: string): boolean {
  if (isToken(v)) return true;
  if (v.indexOf("\r") >= 0 || v.indexOf("\n") >= 0) return false;
  if (v.charCodeAt(0) === 0x22) return v.length >= 2 && scanQuotedString(v, 0, v.length) === v.length;
  if (v.charCodeAt(0) === 0x5b) return parseHost(v).ok;
  return false;
}

export interface ParsedParams {
  params: GenericParam[];
  /** offset of each parameter's name in the text, for error offsets */
  starts: number[];
  end: number;
}

/**
 * `*( SEMI generic-param )` from `start` (RFC 3261 §25.1): SEMI = SWS ";" SWS, EQUAL = SWS "=" SWS,
 * generic-param = token [ EQUAL gen-value ], gen-value = token / host / quoted-string. Stops before the
 * first character that does not start another parameter and returns that index (white space before it is
 * not consumed). An empty parameter (`;;`, `;` at the end) is an error (RFC 4475 §3.1.2.1).
 */
export function parseGenericParams(
  text: string,
  start: number,
  end: number,
  bareIpv6Params?: ReadonlySet<string>,
): ParsedParams | LexError {
  const params: GenericParam[] = [];
  const starts: number[] = [];
  let i = start;
  for (;;) {
    const semi = skipSws(text, i, end);
    if (semi >= end || text.charCodeAt(semi) !== 0x3b) return { params, starts, end: i };
    const nameStart = skipSws(text, semi + 1, end);
    const nameEnd = scanToken(text, nameStart, end);
    if (nameEnd === nameStart) return new ScanError(nameStart, "empty parameter after ';'");
    const name = lowerAscii(text.slice(nameStart, nameEnd));
    starts.push(nameStart);
    const eq = skipSws(text, nameEnd, end);
    if (eq < end && text.charCodeAt(eq) === 0x3d) {
      const vStart = skipSws(text, eq + 1, end);
      const v =
        bareIpv6Params?.has(name) === true
          ? scanAddressValue(text, vStart, end)
          : scanGenValue(text, vStart, end);
      if (v instanceof ScanError) return v;
      params.push([name, v.value]);
      i = v.end;
    } else {
      params.push([name, null]);
      i = nameEnd;
    }
  }
}

/** gen-value = token / host / quoted-string (RFC 3261 §25.1); hostnames and IPv4 are tokens already. */
function scanGenValue(text: string, start: number, end: number): { value: string; end: number } | LexError {
  const c = text.charCodeAt(start);
  if (start < end && c === 0x22) {
    const q = scanQuotedString(text, start, end);
    if (typeof q !== "number") return q;
    return { value: text.slice(start, q), end: q };
  }
  if (start < end && c === 0x5b) {
    const close = text.indexOf("]", start);
    if (close < 0 || close >= end) return new ScanError(start, "unterminated IPv6 reference");
    const h = parseHost(text.slice(start, close + 1));
    if (!h.ok) return new ScanError(start + h.offset, h.detail);
    return { value: text.slice(start, close + 1), end: close + 1 };
  }
  const e = scanToken(text, start, end);
  if (e === start) return new ScanError(start, "missing parameter value after '='");
  return { value: text.slice(start, e), end: e };
}

/**
 * A value that may be an IPv6address without brackets (hex digits, ":" and "."), as Via received allows;
 * anything else falls back to gen-value. The caller validates the address.
 */
function scanAddressValue(
  text: string,
  start: number,
  end: number,
): { value: string; end: number } | LexError {
  let i = start;
  let colons = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (!(hexValue(c) >= 0 || c === 0x2e)) break;
    i++;
  }
  if (colons === 0 || (i < end && isTokenChar(text.charCodeAt(i)))) return scanGenValue(text, start, end);
  return { value: text.slice(start, i), end: i };
}

/** Value of the first parameter named `name` (lower-case); null when present without value. */
export function getParam(params: ReadonlyArray<GenericParam>, name: string): string | null | undefined {
  for (const [n, v] of params) if (n === name) return v;
  return undefined;
}

/** Index of the first parameter whose name (one of the short list `names`) was already seen; -1 if none. */
export function findRepeated(params: ReadonlyArray<GenericParam>, names: readonly string[]): number {
  let seen = 0;
  for (let k = 0; k < params.length; k++) {
    const bit = names.indexOf(params[k]![0]);
    if (bit < 0) continue;
    if ((seen & (1 << bit)) !== 0) return k;
    seen |= 1 << bit;
  }
  return -1;
}
