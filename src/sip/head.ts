/**
 * The header-section scanner shared by datagram parsing (parser.ts) and the stream framer (framer.ts). It walks
 * the header section once, line by line, and records offsets only: header values are parsed later, on access
 * (see message.ts).
 */
import { COLON, HT, SP, TOKEN } from "./chars.js";
import { SipParseError } from "./errors.js";
import type { HeaderField } from "./header-field.js";
import { headerKey } from "./headers.js";
import type { SipLimits } from "./limits.js";
import { parseStartLine, type StartLine } from "./start-line.js";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

/** The parsed start line and header offsets of a header section. */
export interface ScannedHead {
  readonly text: string;
  readonly startLine: StartLine;
  readonly fields: HeaderField[];
  /** Offset of the first body byte (just after the empty line). */
  readonly headEnd: number;
}

/**
 * Finds the end of the header section (the offset just after CRLFCRLF) within the first `maxHeaderBytes`
 * of `buf`; -1 when it is not there.
 */
export function findHeadEnd(buf: Buffer, from: number, maxHeaderBytes: number): number {
  const window = buf.length - from > maxHeaderBytes ? buf.subarray(0, from + maxHeaderBytes) : buf;
  const at = window.indexOf(CRLFCRLF, from);
  return at < 0 ? -1 : at + 4;
}

/** Scans buf[0, headEnd), which must end with CRLFCRLF. Throws SipParseError. */
export function scanHead(buf: Buffer, headEnd: number, limits: SipLimits, anyVersion: boolean): ScannedHead {
  // One latin1 conversion of the header section: every later read is a cheap slice of this string.
  const text = buf.toString("latin1", 0, headEnd);
  const lineEnd = text.indexOf("\r\n");
  if (lineEnd > limits.maxLineLength) throw new SipParseError("too-large", "start line too long", 0);
  const startLine = parseStartLine(buf, 0, lineEnd, anyVersion);
  const fields = scanFields(text, lineEnd + 2, headEnd - 2, limits);
  return { text, startLine, fields, headEnd };
}

/** Scans header lines from `pos` up to `stop`, the offset of the CRLF of the empty line. */
function scanFields(text: string, pos: number, stop: number, limits: SipLimits): HeaderField[] {
  const fields: HeaderField[] = [];
  while (pos < stop) {
    if (fields.length === limits.maxHeaders) {
      throw new SipParseError("too-large", `more than ${limits.maxHeaders} header fields`, pos);
    }
    const field = scanField(text, pos, limits.maxLineLength);
    fields.push(field);
    pos = field.end;
  }
  return fields;
}

function scanField(text: string, lineStart: number, maxLine: number): HeaderField {
  const colon = text.indexOf(":", lineStart);
  let known = cachedName(text, lineStart, colon);
  if (known === undefined) known = scanName(text, lineStart);
  // A cached name is a token and only SP/HTAB separate it from the colon (see cachedName).
  let i = colon + 1;
  let physStart = lineStart;
  let valueStart = -1;
  let valueEnd = -1;
  let folded = false;
  // Line by line with indexOf (native memchr) rather than byte by byte: CR ends a physical line, and the
  // LF must follow it and must not appear earlier (bare LF / bare CR are not line ends in SIP, RFC 3261 §7).
  for (;;) {
    const cr = text.indexOf("\r", i);
    const lf = text.indexOf("\n", i);
    if (lf !== cr + 1) {
      const at = lf < cr ? lf : cr;
      throw new SipParseError("bad-header", lf < cr ? "LF not preceded by CR" : "CR not followed by LF", at);
    }
    if (cr - physStart > maxLine) throw new SipParseError("too-large", "header line too long", physStart);
    let s = i;
    while (s < cr && (text.charCodeAt(s) === SP || text.charCodeAt(s) === HT)) s++;
    if (s < cr) {
      let e = cr;
      while (text.charCodeAt(e - 1) === SP || text.charCodeAt(e - 1) === HT) e--;
      // RFC 3261 §7.3.1: a fold inside the value (not before its first character) must be unfolded on read.
      if (valueStart < 0) valueStart = s;
      else folded = true;
      valueEnd = e;
    }
    const next = text.charCodeAt(cr + 2);
    i = cr + 2;
    if (next !== SP && next !== HT) break;
    physStart = i;
  }
  if (valueStart < 0) valueStart = valueEnd = i - 2;
  return { name: known.name, key: known.key, start: lineStart, end: i, valueStart, valueEnd, folded };
}

/**
 * The header name at `lineStart` checked character by character (RFC 3261 §7.3.1: field-name = token,
 * then optional white space and ":"); remembers it in the name table. Throws "bad-header".
 */
function scanName(text: string, lineStart: number): KnownName {
  let i = lineStart;
  while (TOKEN[text.charCodeAt(i)] === 1) i++;
  if (i === lineStart) {
    const c = text.charCodeAt(i);
    const why =
      c === SP || c === HT ? "continuation line without a header" : "header line must start with a name";
    throw new SipParseError("bad-header", why, i);
  }
  const nameEnd = i;
  while (text.charCodeAt(i) === SP || text.charCodeAt(i) === HT) i++;
  if (text.charCodeAt(i) !== COLON)
    throw new SipParseError("bad-header", "expected ':' after header name", i);
  return rememberName(text, lineStart, nameEnd);
}

/** A header name exactly as received and its key (see HeaderField). */
interface KnownName {
  readonly name: string;
  readonly key: string;
}

// Names as received, with their keys, in a fixed-size table: a header line whose name was seen before
// costs a search for ":", one array read and one comparison, instead of a check of each character, a
// string allocation and two Map lookups. A peer sending endless distinct names cannot grow it.
const NAME_SLOTS = 1024;
const MAX_CACHED_NAME = 64;
const nameTable: Array<KnownName | undefined> = new Array<KnownName | undefined>(NAME_SLOTS).fill(undefined);

/**
 * The table entry for the name before `colon`, if that text (white space before the colon trimmed) is a
 * name already seen: equal to a checked token, so it needs no character-by-character check. The slot comes
 * from the length and three characters, found without a loop; undefined sends the caller to scanName.
 */
function cachedName(text: string, lineStart: number, colon: number): KnownName | undefined {
  if (colon < 0) return undefined;
  let end = colon;
  while (end > lineStart && (text.charCodeAt(end - 1) === SP || text.charCodeAt(end - 1) === HT)) end--;
  if (end - lineStart > MAX_CACHED_NAME || end === lineStart) return undefined;
  const hit = nameTable[nameSlot(text, lineStart, end)];
  return hit !== undefined && text.slice(lineStart, end) === hit.name ? hit : undefined;
}

function nameSlot(text: string, start: number, end: number): number {
  const len = end - start;
  const h =
    len * 961 +
    text.charCodeAt(start) * 31 +
    text.charCodeAt(start + (len >> 1)) +
    text.charCodeAt(end - 1) * 7;
  return h & (NAME_SLOTS - 1);
}

/** Looks up or adds the (checked) name text[start,end). */
function rememberName(text: string, start: number, end: number): KnownName {
  if (end - start > MAX_CACHED_NAME) {
    const name = text.slice(start, end);
    return { name, key: headerKey(name) };
  }
  const slot = nameSlot(text, start, end);
  const hit = nameTable[slot];
  if (hit !== undefined && text.slice(start, end) === hit.name) return hit;
  // Kept as a copy: a slice of `text` could keep a whole header section alive. A collision overwrites
  // the slot, so the table holds at most NAME_SLOTS × MAX_CACHED_NAME characters.
  const name = Buffer.from(text.slice(start, end), "latin1").toString("latin1");
  const entry: KnownName = { name, key: headerKey(name) };
  nameTable[slot] = entry;
  return entry;
}

/**
 * RFC 3261 §20.14 / §18.3: Content-Length = 1*DIGIT, at most once (two values cannot frame a message,
 * RFC 4475 §3.3.9). Returns undefined when absent.
 */
export function readContentLength(head: ScannedHead, limits: SipLimits): number | undefined {
  let found: HeaderField | undefined;
  for (const f of head.fields) {
    if (f.key !== "content-length") continue;
    if (found !== undefined) {
      throw new SipParseError("duplicate-header", "more than one Content-Length", f.start, "content-length");
    }
    found = f;
  }
  if (found === undefined) return undefined;
  return contentLengthValue(head.text, found, limits);
}

function contentLengthValue(text: string, f: HeaderField, limits: SipLimits): number {
  if (f.valueStart === f.valueEnd) {
    throw new SipParseError("bad-header", "empty Content-Length", f.valueStart, "content-length");
  }
  let n = 0;
  for (let i = f.valueStart; i < f.valueEnd; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) {
      throw new SipParseError("bad-header", "Content-Length must be digits only", i, "content-length");
    }
    n = n * 10 + d;
    if (n > limits.maxBodyBytes) {
      throw new SipParseError(
        "too-large",
        `body larger than ${limits.maxBodyBytes} bytes`,
        f.valueStart,
        "content-length",
      );
    }
  }
  return n;
}
