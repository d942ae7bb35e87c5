/**
 * The first line of a SIP message (RFC 3261 §7.1 Request-Line, §7.2 Status-Line), read straight from bytes.
 * Strict: exactly one SP between elements, nothing after the version (RFC 4475 §3.1.2.9/§3.1.2.10 allow an
 * element to reject those), and only SIP/2.0 unless the caller accepts other versions to answer 505.
 */
import { ALPHA, SP, TOKEN } from "./chars.js";
import { SipParseError } from "./errors.js";

export interface RequestLine {
  readonly kind: "request";
  readonly method: string;
  /** Byte range of the Request-URI text in the buffer. */
  readonly uriStart: number;
  readonly uriEnd: number;
  readonly version: string;
}

export interface StatusLine {
  readonly kind: "response";
  readonly status: number;
  /** Byte range of the reason phrase (may be empty, RFC 4475 §3.1.1.13). */
  readonly reasonStart: number;
  readonly reasonEnd: number;
  readonly version: string;
}

export type StartLine = RequestLine | StatusLine;

/** Parses buf[start, end) (the line without its CRLF). `anyVersion` accepts SIP/x.y other than 2.0. */
export function parseStartLine(buf: Buffer, start: number, end: number, anyVersion: boolean): StartLine {
  if (isVersionAt(buf, start, end)) return parseStatusLine(buf, start, end, anyVersion);
  return parseRequestLine(buf, start, end, anyVersion);
}

// "SIP/" (case-insensitive: RFC 3261 §7.1 "The SIP-Version string is case-insensitive").
function isVersionAt(buf: Buffer, at: number, end: number): boolean {
  return (
    end - at >= 4 &&
    (buf[at]! | 0x20) === 0x73 &&
    (buf[at + 1]! | 0x20) === 0x69 &&
    (buf[at + 2]! | 0x20) === 0x70 &&
    buf[at + 3] === 0x2f
  );
}

/** Reads `SIP/1*DIGIT "." 1*DIGIT` at `at`; returns the end offset, or -1 when malformed. */
function versionEnd(buf: Buffer, at: number, end: number): number {
  if (!isVersionAt(buf, at, end)) return -1;
  let i = at + 4;
  const majorStart = i;
  while (i < end && isDigit(buf[i]!)) i++;
  if (i === majorStart || buf[i] !== 0x2e) return -1;
  i++;
  const minorStart = i;
  while (i < end && isDigit(buf[i]!)) i++;
  return i === minorStart ? -1 : i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function checkVersion(buf: Buffer, at: number, vEnd: number, anyVersion: boolean): string {
  // Nearly every message says "SIP/2.0": recognise it from the bytes instead of building the string.
  if (vEnd - at === 7 && buf[at + 4] === 0x32 && buf[at + 5] === 0x2e && buf[at + 6] === 0x30)
    return "SIP/2.0";
  const version = "SIP" + buf.toString("latin1", at + 3, vEnd);
  if (version !== "SIP/2.0" && !anyVersion) {
    throw new SipParseError("bad-version", `unsupported SIP version ${version}`, at);
  }
  return version;
}

function parseStatusLine(buf: Buffer, start: number, end: number, anyVersion: boolean): StatusLine {
  const vEnd = versionEnd(buf, start, end);
  if (vEnd < 0) throw new SipParseError("bad-start-line", "malformed SIP-Version in status line", start);
  if (buf[vEnd] !== SP) throw new SipParseError("bad-start-line", "expected SP after SIP-Version", vEnd);
  const codeStart = vEnd + 1;
  // RFC 3261 §7.2: Status-Code = 3DIGIT; §21: classes 1xx..6xx.
  const c0 = buf[codeStart] ?? 0;
  if (
    end - codeStart < 4 ||
    c0 < 0x31 ||
    c0 > 0x36 ||
    !isDigit(buf[codeStart + 1]!) ||
    !isDigit(buf[codeStart + 2]!) ||
    buf[codeStart + 3] !== SP
  ) {
    throw new SipParseError(
      "bad-start-line",
      "status code must be 3 digits 100-699 followed by SP",
      codeStart,
    );
  }
  const status = (c0 - 0x30) * 100 + (buf[codeStart + 1]! - 0x30) * 10 + (buf[codeStart + 2]! - 0x30);
  const reasonStart = codeStart + 4;
  checkReasonPhrase(buf, reasonStart, end);
  const version = checkVersion(buf, start, vEnd, anyVersion);
  return { kind: "response", status, reasonStart, reasonEnd: end, version };
}

// RFC 3261 §7.2: Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB):
// every byte except control characters other than HTAB.
function checkReasonPhrase(buf: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      throw new SipParseError("bad-start-line", "control character in reason phrase", i);
    }
  }
}

function parseRequestLine(buf: Buffer, start: number, end: number, anyVersion: boolean): RequestLine {
  let i = start;
  while (i < end && TOKEN[buf[i]!] === 1) i++;
  if (i === start)
    throw new SipParseError("bad-start-line", "request line must start with a method token", start);
  const method = methodName(buf, start, i);
  if (buf[i] !== SP) throw new SipParseError("bad-start-line", "expected one SP after the method", i);
  const uriStart = i + 1;
  // RFC 3261 §19.1/§25.1: a URI starts with its scheme (ALPHA); this rejects "<sip:...>" (RFC 4475 §3.1.2.7)
  // and a second SP (§3.1.2.9).
  if (ALPHA[buf[uriStart] ?? 0] !== 1) {
    throw new SipParseError("bad-start-line", "Request-URI must start with a scheme", uriStart);
  }
  let j = uriStart;
  while (j < end && buf[j]! > 0x20 && buf[j]! < 0x7f) j++;
  if (buf[j] !== SP) throw new SipParseError("bad-start-line", "invalid character in Request-URI", j);
  const vStart = j + 1;
  const vEnd = versionEnd(buf, vStart, end);
  if (vEnd < 0) throw new SipParseError("bad-start-line", "malformed SIP-Version in request line", vStart);
  if (vEnd !== end) throw new SipParseError("bad-start-line", "characters after SIP-Version", vEnd);
  const version = checkVersion(buf, vStart, vEnd, anyVersion);
  return { kind: "request", method, uriStart, uriEnd: j, version };
}

// RFC 3261 §7.1 and the extensions in common use; methods are case-sensitive, so only these exact spellings.
/** RFC 3261 methods and the common extensions (RFC 3262, 6665, 3903, 6086, 3515, 3428, 3311). */
export const KNOWN_METHODS: readonly string[] = [
  "INVITE",
  "ACK",
  "BYE",
  "CANCEL",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "INFO",
  "REFER",
  "MESSAGE",
  "UPDATE",
];
const COMMON_METHODS = KNOWN_METHODS.map((m) => Buffer.from(m, "latin1"));
const COMMON_METHOD_NAMES = COMMON_METHODS.map((b) => b.toString("latin1"));

/** The method token buf[start,end) as a string; the common methods are shared constants, not new strings. */
function methodName(buf: Buffer, start: number, end: number): string {
  for (let k = 0; k < COMMON_METHODS.length; k++) {
    const m = COMMON_METHODS[k]!;
    if (m.length === end - start && m[0] === buf[start] && bytesEqual(m, buf, start))
      return COMMON_METHOD_NAMES[k]!;
  }
  return buf.toString("latin1", start, end);
}

function bytesEqual(m: Buffer, buf: Buffer, at: number): boolean {
  for (let j = 1; j < m.length; j++) if (m[j] !== buf[at + j]) return false;
  return true;
}
