/**
 * SIP, SIPS and tel URIs: parsing (RFC 3261 §19.1 and §25.1 ABNF, RFC 3966 for tel), comparison
 * (RFC 3261 §19.1.4, RFC 3966 §4) and canonical serialization. Any other scheme is kept as an opaque
 * absoluteURI (RFC 3261 §25.1, RFC 4475 §3.3.2–3.3.4).
 *
 * Hand-written scanners only: these run on every Request-URI and address header of untrusted traffic.
 */
import {
  BRACKET,
  HNV_UNRESERVED,
  PARAM_UNRESERVED,
  PASSWORD_EXTRA,
  RESERVED,
  UNRESERVED,
  USER_UNRESERVED,
  decodeComponent,
  describeChar,
  escapeComponent,
  quoteForDetail,
  hasClass,
  hexValue,
  isAlnum,
  ScanError,
  isAlpha,
  isDigit,
  recheckEscaped,
  type DecodedComponent,
  type EscapeError,
} from "./escape.js";

export type HostKind = "hostname" | "ipv4" | "ipv6";
export type UriParam = readonly [name: string, value: string | null];
export type UriHeader = readonly [name: string, value: string];

export interface SipUri {
  readonly scheme: "sip" | "sips";
  /** user part, %-escapes decoded (UTF-8) */
  readonly user?: string;
  /** password, %-escapes decoded; "" when the URI has "user:@" */
  readonly password?: string;
  /**
   * Canonical escaped forms of user/password as received: escapes of unreserved characters decoded,
   * all other escapes kept (RFC 3261 §19.1.4 treats `%2B` and `+` as different). Used by uriEquals and
   * formatUri while they still decode to `user`/`password`; otherwise those are escaped afresh.
   */
  readonly userEscaped?: string;
  readonly passwordEscaped?: string;
  /** hostname lower-cased; IPv4 dotted decimal; IPv6 in brackets, RFC 5952 form */
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port?: number;
  /**
   * uri-parameters in order; names lower-cased and decoded, values decoded, null when absent. Which
   * reserved characters were escaped is remembered on the parsed list (see ESCAPED), so
   * uriEquals and formatUri keep `a%2Bb` apart from `a+b` as long as this same list object is used.
   */
  readonly params: ReadonlyArray<UriParam>;
  /** ?headers in order; names and values decoded (escapes remembered like params) */
  readonly headers: ReadonlyArray<UriHeader>;
}

/** Any other scheme (RFC 3261 absoluteURI): kept as written after the colon. */
export interface AbsoluteUri {
  /** lower-cased; never "sip", "sips" or "tel" */
  readonly scheme: string;
  readonly opaque: string;
}

/** RFC 3966 tel URI (telephone-subscriber), the parts a SIP element routes on. */
export interface TelUri {
  readonly scheme: "tel";
  /** number as written ("+1-201-555-0123", "7042"); "%23" read as "#" */
  readonly number: string;
  /** true for a global-number ("+" and E.164 digits), false for a local-number */
  readonly global: boolean;
  /** parameters in order (isub, ext, phone-context, others); names lower-cased, values decoded */
  readonly params: ReadonlyArray<UriParam>;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export type UriParseResult =
  { ok: true; uri: Uri } | { ok: false; code: "bad-uri"; detail: string; offset: number };

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === "sip" || uri.scheme === "sips";
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === "tel";
}

export function isAbsoluteUri(uri: Uri): uri is AbsoluteUri {
  return !isSipUri(uri) && !isTelUri(uri);
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

/** Upper bound on the scanned text; a URI longer than this is refused before any work. */
export const MAX_URI_LENGTH = 8192;

export function parseUri(text: string): UriParseResult {
  if (text.length === 0) return fail(0, "empty URI");
  if (text.length > MAX_URI_LENGTH) return fail(MAX_URI_LENGTH, `URI longer than ${MAX_URI_LENGTH}`);
  const colon = scanScheme(text);
  if (colon < 0) return fail(-colon - 1, "missing or malformed scheme");
  const scheme = sipScheme(text, colon) ?? lowerAscii(text.slice(0, colon));
  let r: Uri | EscapeError;
  if (scheme === "sip" || scheme === "sips") r = parseSipAfterScheme(text, colon + 1, scheme);
  else if (scheme === "tel") r = parseTelUri(text, colon + 1);
  else r = parseAbsolute(text, colon + 1, scheme);
  if (r instanceof ScanError) return fail(r.offset, r.detail);
  return { ok: true, uri: r };
}

/** s.toLowerCase(), without the copy when s is plain lower-case ASCII already (the common case). */
/**
 * "sip" or "sips" when text[0,colon) spells one of them in any case (RFC 3261 §19.1.1: schemes are
 * case-insensitive): the usual schemes are recognised in place, without a new string per URI.
 */
function sipScheme(text: string, colon: number): "sip" | "sips" | undefined {
  if (colon !== 3 && colon !== 4) return undefined;
  // scanScheme admitted only ALPHA / DIGIT / "+" / "-" / "."; of these only "S"/"s" give 0x73 with 0x20 set.
  const s = (text.charCodeAt(0) | 0x20) === 0x73;
  if (!s || (text.charCodeAt(1) | 0x20) !== 0x69 || (text.charCodeAt(2) | 0x20) !== 0x70) return undefined;
  if (colon === 3) return "sip";
  return (text.charCodeAt(3) | 0x20) === 0x73 ? "sips" : undefined;
}

export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return s.toLowerCase();
  }
  return s;
}

function fail(offset: number, detail: string): UriParseResult {
  return { ok: false, code: "bad-uri", detail, offset };
}

/** RFC 3261 §25.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); returns the colon index or -(offset+1). */
function scanScheme(text: string): number {
  if (!isAlpha(text.charCodeAt(0))) return -1;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a) return i;
    if (!(isAlnum(c) || c === 0x2b || c === 0x2d || c === 0x2e)) return -(i + 1);
  }
  return -(text.length + 1);
}

/** RFC 3261 §25.1 absoluteURI: hier-part / opaque-part, every character a uric (RFC 2732 adds "[" "]"). */
function parseAbsolute(text: string, start: number, scheme: string): AbsoluteUri | EscapeError {
  if (start >= text.length) return new ScanError(start, "empty URI after scheme");
  const r = decodeComponent(text, start, text.length, RESERVED | UNRESERVED | BRACKET);
  if (r instanceof ScanError) return r;
  return { scheme, opaque: text.slice(start) };
}

function parseSipAfterScheme(text: string, start: number, scheme: "sip" | "sips"): SipUri | EscapeError {
  const end = text.length;
  // RFC 3261 §25.1: "@" is in none of the character sets of password, hostport, uri-parameters or
  // headers, so the first "@" (if any) is the end of userinfo; user itself may hold ";" "?" "/" etc.
  const at = text.indexOf("@", start);
  let userinfo: Userinfo = NO_USERINFO;
  let i = start;
  if (at >= 0) {
    const u = parseUserinfo(text, start, at);
    if (u instanceof ScanError) return u;
    userinfo = u;
    i = at + 1;
  }
  const hp = scanHostPort(text, i, end);
  if (hp instanceof ScanError) return hp;
  const params = parseUriParams(text, hp.end, end);
  if (params instanceof ScanError) return params;
  const headers = parseUriHeaders(text, params.end, end);
  if (headers instanceof ScanError) return headers;
  if (headers.end !== end)
    return new ScanError(headers.end, `unexpected ${describeChar(text.charCodeAt(headers.end))}`);
  // Every field present, in one order: one hidden class for all SIP URIs on the hot path.
  return {
    scheme,
    user: userinfo.user?.value,
    password: userinfo.password?.value,
    userEscaped: userinfo.user?.canonical,
    passwordEscaped: userinfo.password?.canonical,
    host: hp.host,
    hostKind: hp.kind,
    port: hp.port,
    params: params.params,
    headers: headers.headers,
  };
}

interface Userinfo {
  user?: { value: string; canonical: string };
  password?: { value: string; canonical: string };
}

/** Shared result for a URI without userinfo (never mutated). */
const NO_USERINFO: Userinfo = Object.freeze({});

/** RFC 3261 §25.1 userinfo = ( user / telephone-subscriber ) [ ":" password ] "@" */
function parseUserinfo(text: string, start: number, at: number): Userinfo | EscapeError {
  let colon = text.indexOf(":", start);
  if (colon < 0 || colon > at) colon = at;
  if (colon === start) return new ScanError(start, "empty user part");
  const user = decodeComponent(text, start, colon, UNRESERVED | USER_UNRESERVED);
  if (user instanceof ScanError) return user;
  if (colon === at) return { user };
  const password = decodeComponent(text, colon + 1, at, UNRESERVED | PASSWORD_EXTRA);
  if (password instanceof ScanError) return password;
  return { user, password };
}

interface ScannedHost {
  host: string;
  kind: HostKind;
  end: number;
}

/** RFC 3261 §25.1 hostport = host [ ":" port ]; stops at the first character that cannot continue it. */
export function scanHostPort(
  text: string,
  start: number,
  end: number,
): (ScannedHost & { port?: number }) | EscapeError {
  const h = scanHost(text, start, end);
  if (h instanceof ScanError) return h;
  if (h.end >= end || text.charCodeAt(h.end) !== 0x3a) return h;
  const p = scanPort(text, h.end + 1, end);
  if (p instanceof ScanError) return p;
  return { host: h.host, kind: h.kind, end: p.end, port: p.port };
}

/** RFC 3261 §25.1 port = 1*DIGIT, limited to 0..65535. */
export function scanPort(
  text: string,
  start: number,
  end: number,
): { port: number; end: number } | EscapeError {
  let i = start;
  let port = 0;
  while (i < end && isDigit(text.charCodeAt(i))) {
    port = port * 10 + (text.charCodeAt(i) - 0x30);
    if (port > 65535) return new ScanError(start, "port out of range 0..65535");
    i++;
  }
  if (i === start) return new ScanError(start, "missing port number after ':'");
  return { port, end: i };
}

/** RFC 3261 §25.1 host = hostname / IPv4address / IPv6reference; scans a prefix of text[start,end). */
export function scanHost(text: string, start: number, end: number): ScannedHost | EscapeError {
  if (start >= end) return new ScanError(start, "missing host");
  if (text.charCodeAt(start) === 0x5b) {
    const close = text.indexOf("]", start);
    if (close < 0 || close >= end) return new ScanError(start, "unterminated IPv6 reference");
    const groups = parseIpv6(text, start + 1, close);
    if (!Array.isArray(groups)) return groups;
    return { host: `[${formatIpv6(groups)}]`, kind: "ipv6", end: close + 1 };
  }
  // One pass: the extent, the facts that pick the branch (and spare a lower-casing copy), and the
  // RFC 3261 §25.1 label rules for every label but the last (checked after the loop as the toplabel).
  let i = start;
  let digitsAndDots = true;
  let upper = false;
  let labelStart = start;
  let prevLabelStart = start;
  let bad = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) digitsAndDots = false;
    else if (c >= 0x30 && c <= 0x39) continue;
    else if (c === 0x2e) {
      if (bad < 0) bad = checkLabel(text, labelStart, i, false);
      prevLabelStart = labelStart;
      labelStart = i + 1;
    } else if (c >= 0x41 && c <= 0x5a) {
      digitsAndDots = false;
      upper = true;
    } else if (c === 0x2d) digitsAndDots = false;
    else break;
  }
  if (i === start) return new ScanError(start, "missing host");
  if (digitsAndDots) {
    const v4 = scanIpv4(text, start, i);
    if (v4 === undefined) {
      return new ScanError(start, `${quoteForDetail(text.slice(start, i))} is not a valid IPv4 address`);
    }
    return { host: v4, kind: "ipv4", end: i };
  }
  bad = finishHostname(text, start, i, labelStart, prevLabelStart, bad);
  if (bad >= 0) return new ScanError(bad, `${quoteForDetail(text.slice(start, i))} is not a valid hostname`);
  const raw = text.slice(start, i);
  return { host: upper ? raw.toLowerCase() : raw, kind: "hostname", end: i };
}

/**
 * The checks scanHost leaves for the end (same order and offsets as checkHostname): name length, the
 * labels seen so far, then the toplabel, which is the last label or, with a trailing dot, the one before.
 */
function finishHostname(
  text: string,
  start: number,
  end: number,
  labelStart: number,
  prevLabelStart: number,
  bad: number,
): number {
  const trailingDot = labelStart === end;
  const nameEnd = trailingDot ? end - 1 : end;
  if (nameEnd === start || nameEnd - start > 253) return start;
  if (bad >= 0) return bad;
  return trailingDot
    ? checkLabel(text, prevLabelStart, end - 1, true)
    : checkLabel(text, labelStart, end, true);
}

/** domainlabel / toplabel rules (RFC 3261 §25.1) and the 63-octet limit (RFC 1035 §2.3.4); -1 when valid. */
function checkLabel(text: string, start: number, end: number, top: boolean): number {
  const len = end - start;
  if (len === 0 || len > 63) return start;
  if (!isAlnum(text.charCodeAt(start))) return start;
  if (!isAlnum(text.charCodeAt(end - 1))) return end - 1;
  if (top && !isAlpha(text.charCodeAt(start))) return start;
  return -1;
}

/**
 * Parses a complete host (no port): hostname, IPv4 address, or IPv6 reference in brackets. With
 * `allowBareIpv6` an IPv6 address without brackets is accepted too (Via received, RFC 3261 §20.42).
 */
export function parseHost(
  text: string,
  options: { allowBareIpv6?: boolean } = {},
): { ok: true; host: string; kind: HostKind } | { ok: false; detail: string; offset: number } {
  if (options.allowBareIpv6 === true && text.indexOf(":") >= 0 && text.charCodeAt(0) !== 0x5b) {
    const g = parseIpv6(text, 0, text.length);
    if (g instanceof ScanError) return { ok: false, offset: g.offset, detail: g.detail };
    return { ok: true, host: `[${formatIpv6(g)}]`, kind: "ipv6" };
  }
  const h = scanHost(text, 0, text.length);
  if (h instanceof ScanError) return { ok: false, offset: h.offset, detail: h.detail };
  if (h.end !== text.length) return { ok: false, offset: h.end, detail: "unexpected characters after host" };
  return { ok: true, host: h.host, kind: h.kind };
}

/**
 * RFC 3261 §25.1: hostname = *( domainlabel "." ) toplabel [ "." ]; domainlabel = alphanum /
 * alphanum *( alphanum / "-" ) alphanum; toplabel starts with ALPHA. RFC 1035 §2.3.4 limits a label to
 * 63 octets and a name to 253 (without the final dot). Returns -1 when valid, else the offending index.
 */
function checkHostname(text: string, start: number, end: number): number {
  const last = text.charCodeAt(end - 1) === 0x2e ? end - 1 : end;
  if (last === start || last - start > 253) return start;
  let labelStart = start;
  for (let i = start; i <= last; i++) {
    if (i < last && text.charCodeAt(i) !== 0x2e) continue;
    const labelLen = i - labelStart;
    if (labelLen === 0 || labelLen > 63) return labelStart;
    if (!isAlnum(text.charCodeAt(labelStart))) return labelStart;
    if (!isAlnum(text.charCodeAt(i - 1))) return i - 1;
    if (i === last && !isAlpha(text.charCodeAt(labelStart))) return labelStart;
    labelStart = i + 1;
  }
  return -1;
}

/**
 * RFC 3261 §25.1 IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each 0..255.
 * Returns the address as a 32-bit unsigned number, or -1.
 */
function ipv4Value(text: string, start: number, end: number): number {
  let value = 0;
  let parts = 0;
  let i = start;
  while (parts < 4) {
    let n = 0;
    const digitStart = i;
    while (i < end && i - digitStart < 3 && isDigit(text.charCodeAt(i)))
      n = n * 10 + text.charCodeAt(i++) - 0x30;
    if (i === digitStart || n > 255) return -1;
    value = value * 256 + n;
    parts++;
    if (parts < 4) {
      if (i >= end || text.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
  }
  return i === end ? value : -1;
}

/** Dotted-decimal text of an IPv4 address in text[start,end), leading zeros removed; undefined if invalid. */
function scanIpv4(text: string, start: number, end: number): string | undefined {
  const v = ipv4Value(text, start, end);
  if (v < 0) return undefined;
  if (!hasLeadingZero(text, start, end)) return text.slice(start, end);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** A part of a (valid) dotted quad written with a leading zero, such as "010". */
function hasLeadingZero(text: string, start: number, end: number): boolean {
  for (let i = start; i < end - 1; i++) {
    const atPartStart = i === start || text.charCodeAt(i - 1) === 0x2e;
    if (atPartStart && text.charCodeAt(i) === 0x30 && isDigit(text.charCodeAt(i + 1))) return true;
  }
  return false;
}

/** The four octets of a dotted-decimal IPv4 address, or undefined. */
export function parseIpv4(text: string): number[] | undefined {
  const v = ipv4Value(text, 0, text.length);
  return v < 0 ? undefined : [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/**
 * RFC 3261 §25.1 IPv6address = hexpart [ ":" IPv4address ], read with RFC 4291 §2.2 semantics: eight
 * 16-bit groups, "::" at most once standing for one or more zero groups. Returns the eight groups.
 */
export function parseIpv6(text: string, start: number, end: number): number[] | EscapeError {
  const bad = (detail: string): EscapeError =>
    new ScanError(start, `IPv6 address ${quoteForDetail(text.slice(start, end))}: ${detail}`);
  if (end <= start || end - start > 45) return bad("bad length");
  const groups: number[] = [];
  let gap = -1;
  let i = start;
  if (text.charCodeAt(i) === 0x3a) {
    if (text.charCodeAt(i + 1) !== 0x3a) return bad("leading ':'");
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const g = scanIpv6Group(text, i, end, groups);
    if (g < 0) return bad("malformed group");
    i = g;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return bad("malformed group");
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return bad("'::' used twice");
      gap = groups.length;
      i++;
    } else if (i === end) return bad("trailing ':'");
  }
  return expandIpv6(groups, gap) ?? bad("wrong number of groups");
}

/** One hex4 group (or a final dotted IPv4 address, two groups) at i; returns the index after it or -1. */
function scanIpv6Group(text: string, i: number, end: number, groups: number[]): number {
  let v = 0;
  let j = i;
  while (j < end && j - i < 4) {
    const d = hexValue(text.charCodeAt(j));
    if (d < 0) break;
    v = v * 16 + d;
    j++;
  }
  if (j < end && text.charCodeAt(j) === 0x2e) {
    const v4 = ipv4Value(text, i, end);
    if (v4 < 0) return -1;
    groups.push(v4 >>> 16, v4 & 0xffff);
    return end;
  }
  if (j === i) return -1;
  groups.push(v);
  return j;
}

/** Eight groups from the groups seen and the position of "::" (-1 when absent). */
function expandIpv6(groups: number[], gap: number): number[] | undefined {
  if (gap < 0) return groups.length === 8 ? groups : undefined;
  if (groups.length > 7) return undefined;
  const out = groups.slice(0, gap);
  for (let k = groups.length; k < 8; k++) out.push(0);
  for (let k = gap; k < groups.length; k++) out.push(groups[k]!);
  return out;
}

/** RFC 5952 §4 text form: lower-case, no leading zeros, longest zero run (≥ 2) as "::"; §5 for v4-mapped. */
export function formatIpv6(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return hexGroups(g, 0, 8);
  return `${hexGroups(g, 0, bestStart)}::${hexGroups(g, bestStart + bestLen, 8)}`;
}

function hexGroups(g: readonly number[], from: number, to: number): string {
  let out = "";
  for (let k = from; k < to; k++) out += (k > from ? ":" : "") + g[k]!.toString(16);
  return out;
}

/**
 * Canonical escaped forms (see decodeComponent) of the parameter and header values of a parsed URI whose
 * text held escapes. RFC 3261 §19.1.4 treats a reserved character and its escape as different ("a+b" is
 * not "a%2Bb"), which the decoded values alone cannot tell. Attached to the parsed list as a
 * non-enumerable symbol property (invisible to JSON and deep equality), so the public shape stays
 * `[name, decodedValue]`; a list built by a caller has none and its values are escaped afresh.
 */
const ESCAPED = Symbol("siptrust.uri.escapedValues");

type WithEscaped = { readonly [ESCAPED]?: ReadonlyArray<string | null> };

function attachEscaped(list: object, escaped: ReadonlyArray<string | null>): void {
  Object.defineProperty(list, ESCAPED, { value: escaped, enumerable: false });
}

/** Canonical escaped value k of a parameter or header list (mask: the component's literal characters). */
function escapedValue(
  list: ReadonlyArray<readonly [string, string | null]>,
  k: number,
  mask: number,
): string | null {
  const value = list[k]![1];
  if (value === null) return null;
  const stored = (list as WithEscaped)[ESCAPED]?.[k];
  if (stored !== undefined && stored !== null && recheckEscaped(stored, mask)?.value === value) return stored;
  return escapeComponent(value, mask);
}

/** uri-parameters = *( ";" uri-parameter ) (RFC 3261 §19.1.1, §25.1) */
function parseUriParams(
  text: string,
  start: number,
  end: number,
): { params: UriParam[]; end: number } | EscapeError {
  const params: UriParam[] = [];
  const escaped: Array<string | null> = [];
  let anyEscape = false;
  let seen: Set<string> | undefined;
  let i = start;
  while (i < end && text.charCodeAt(i) === 0x3b) {
    const nameStart = i + 1;
    let j = nameStart;
    while (j < end && isParamChar(text.charCodeAt(j))) j++;
    if (j === nameStart) return new ScanError(nameStart, "empty uri-parameter name");
    const name = paramComponent(text, nameStart, j);
    if (name instanceof ScanError) return name;
    let value: string | null = null;
    let canonical: string | null = null;
    if (j < end && text.charCodeAt(j) === 0x3d) {
      const vStart = j + 1;
      j = vStart;
      while (j < end && isParamChar(text.charCodeAt(j))) j++;
      if (j === vStart) return new ScanError(vStart, "empty uri-parameter value after '='");
      const v = paramComponent(text, vStart, j);
      if (v instanceof ScanError) return v;
      value = v.value;
      canonical = v.canonical;
      anyEscape ||= canonical !== value;
    }
    const lower = lowerAscii(name.value);
    // A scan of the short list while it is short; a Set once it is long (an 8 KiB URI can carry
    // thousands of parameters, and a scan per parameter would then be quadratic).
    if (seen === undefined && params.length >= LINEAR_PARAM_CHECK) seen = new Set(params.map((p) => p[0]));
    const repeated = seen === undefined ? hasParamNamed(params, lower) : seen.has(lower);
    const err = checkUriParam(lower, value, nameStart, repeated);
    if (err !== undefined) return err;
    seen?.add(lower);
    params.push([lower, value]);
    escaped.push(canonical);
    i = j;
  }
  if (anyEscape) attachEscaped(params, escaped);
  return { params, end: i };
}

/** Parameter lists up to this length are checked for repeats by a scan, longer ones with a Set. */
const LINEAR_PARAM_CHECK = 16;

/**
 * A uri-parameter name or value whose characters isParamChar has already checked: only one holding a "%"
 * needs decodeComponent (escape check and decoding); the common escape-free one is just the slice.
 */
function paramComponent(text: string, start: number, end: number): DecodedComponent | EscapeError {
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 0x25) return decodeComponent(text, start, end, UNRESERVED | PARAM_UNRESERVED);
  }
  const raw = text.slice(start, end);
  return { value: raw, canonical: raw };
}

function hasParamNamed(params: readonly UriParam[], name: string): boolean {
  for (let k = 0; k < params.length; k++) if (params[k]![0] === name) return true;
  return false;
}

/** paramchar = param-unreserved / unreserved / escaped; the escape itself is checked by decodeComponent. */
function isParamChar(c: number): boolean {
  return c === 0x25 || hasClass(c, UNRESERVED | PARAM_UNRESERVED);
}

/**
 * RFC 3261 §19.1.1 / §25.1 typed uri-parameters: transport, user and method are tokens, ttl is 0..255,
 * maddr is a host, lr has no value in the ABNF (a value is tolerated as other-param). A parameter named
 * twice is refused: the meaning of `;transport=tcp;transport=udp` is undefined and differs between stacks.
 */
function checkUriParam(
  name: string,
  value: string | null,
  offset: number,
  repeated: boolean,
): EscapeError | undefined {
  if (repeated) return new ScanError(offset, `uri-parameter ${quoteForDetail(name)} repeated`);
  const needValue = name === "transport" || name === "user" || name === "method" || name === "ttl";
  if ((needValue || name === "maddr") && value === null) {
    return new ScanError(offset, `uri-parameter ${quoteForDetail(name)} needs a value`);
  }
  if (needValue && name !== "ttl" && !isTokenString(value!)) {
    return new ScanError(offset, `uri-parameter ${quoteForDetail(name)} is not a token`);
  }
  if (name === "ttl" && parseTtl(value!) === undefined) return new ScanError(offset, "ttl not in 0..255");
  if (name === "maddr") {
    const h = parseHost(value!);
    if (!h.ok) return new ScanError(offset, `maddr: ${h.detail}`);
  }
  return undefined;
}

/** RFC 3261 §25.1 ttl = 1*3DIGIT ; 0 to 255 */
export function parseTtl(v: string): number | undefined {
  if (v.length < 1 || v.length > 3) return undefined;
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return undefined;
  const n = Number(v);
  return n <= 255 ? n : undefined;
}

/** RFC 3261 §25.1 token characters (alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"). */
function isTokenString(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!(isAlnum(c) || "-.!%*_+`'~".indexOf(v[i]!) >= 0)) return false;
  }
  return true;
}

/** headers = "?" header *( "&" header ); header = hname "=" hvalue (RFC 3261 §19.1.1, §25.1) */
function parseUriHeaders(
  text: string,
  start: number,
  end: number,
): { headers: UriHeader[]; end: number } | EscapeError {
  const headers: UriHeader[] = [];
  const escaped: string[] = [];
  let anyEscape = false;
  if (start >= end || text.charCodeAt(start) !== 0x3f) return { headers, end: start };
  let i = start;
  do {
    const nameStart = i + 1;
    let j = nameStart;
    while (j < end && isHnvChar(text.charCodeAt(j))) j++;
    if (j === nameStart) return new ScanError(nameStart, "empty URI header name");
    if (j >= end || text.charCodeAt(j) !== 0x3d) return new ScanError(j, "URI header without '='");
    const name = decodeComponent(text, nameStart, j, UNRESERVED | HNV_UNRESERVED);
    if (name instanceof ScanError) return name;
    const vStart = j + 1;
    j = vStart;
    while (j < end && isHnvChar(text.charCodeAt(j))) j++;
    const value = decodeComponent(text, vStart, j, UNRESERVED | HNV_UNRESERVED);
    if (value instanceof ScanError) return value;
    headers.push([name.value, value.value]);
    escaped.push(value.canonical);
    anyEscape ||= value.canonical !== value.value;
    i = j;
  } while (i < end && text.charCodeAt(i) === 0x26);
  if (anyEscape) attachEscaped(headers, escaped);
  return { headers, end: i };
}

function isHnvChar(c: number): boolean {
  return c === 0x25 || hasClass(c, UNRESERVED | HNV_UNRESERVED);
}

// ---------------------------------------------------------------------------------------------------------
// Comparison (RFC 3261 §19.1.4)

/** Parameters that never match when present in only one of the two URIs (RFC 3261 §19.1.4). */
const MUST_MATCH_PARAMS: ReadonlySet<string> = new Set(["user", "ttl", "method", "maddr", "transport"]);

export function uriEquals(a: Uri, b: Uri): boolean {
  if (isSipUri(a)) return isSipUri(b) && sipUriEquals(a, b);
  if (isTelUri(a)) return isTelUri(b) && telUriEquals(a, b);
  if (isSipUri(b) || isTelUri(b)) return false;
  // absoluteURI: RFC 3261 defines no rule; scheme case-insensitive (RFC 3986 §3.1), the rest exact.
  return a.scheme.toLowerCase() === b.scheme.toLowerCase() && a.opaque === b.opaque;
}

/**
 * RFC 3261 §19.1.4: SIP and SIPS never equal; userinfo case-sensitive (escapes of unreserved characters
 * equal their literal form, other escapes do not); host, port, parameter names and values
 * case-insensitive; a missing port never equals an explicit one; parameter and header order ignored.
 */
export function sipUriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (canonicalUser(a) !== canonicalUser(b)) return false;
  if (canonicalPassword(a) !== canonicalPassword(b)) return false;
  if (!hostEquals(a, b)) return false;
  if (a.port !== b.port) return false;
  return paramsEqual(a.params, b.params) && headersEqual(a.headers, b.headers);
}

function hostEquals(a: SipUri, b: SipUri): boolean {
  // RFC 3261 §19.1.4: an IP address never equals a host name, even one that resolves to it. RFC 5954 §4:
  // IP addresses compare by value, not text ("[::1]" equals "[0:0:0:0:0:0:0:1]"); the parser already
  // stores one text per value.
  return a.hostKind === b.hostKind && normalizedHost(a.host) === normalizedHost(b.host);
}

/** Host as the parser would store it; tolerates hand-built URIs with upper case or IPv6 in long form. */
function normalizedHost(host: string): string {
  const h = parseHost(host);
  return h.ok ? h.host : host.toLowerCase();
}

function paramsEqual(a: ReadonlyArray<UriParam>, b: ReadonlyArray<UriParam>): boolean {
  const ma = paramMap(a, PARAM_MASK);
  const mb = paramMap(b, PARAM_MASK);
  for (const [name, value] of ma) {
    if (!mb.has(name)) {
      if (MUST_MATCH_PARAMS.has(name)) return false;
      continue;
    }
    if (!paramValueEquals(name, value, mb.get(name)!)) return false;
  }
  for (const name of mb.keys()) if (MUST_MATCH_PARAMS.has(name) && !ma.has(name)) return false;
  return true;
}

/**
 * Lower-cased name → first value in canonical escaped form (or the decoded value when no mask is given);
 * linear, so comparing two large parameter lists stays linear.
 */
function paramMap(params: ReadonlyArray<UriParam>, mask?: number): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (let k = 0; k < params.length; k++) {
    const lower = params[k]![0].toLowerCase();
    if (!m.has(lower)) m.set(lower, mask === undefined ? params[k]![1] : escapedValue(params, k, mask));
  }
  return m;
}

const PARAM_MASK = UNRESERVED | PARAM_UNRESERVED;
const HEADER_MASK = UNRESERVED | HNV_UNRESERVED;

function findParam(params: ReadonlyArray<UriParam>, name: string): UriParam | undefined {
  const lower = name.toLowerCase();
  for (const p of params) if (p[0].toLowerCase() === lower) return p;
  return undefined;
}

/** Values in canonical escaped form; ttl compares as a number and maddr as a host (decoded first). */
function paramValueEquals(name: string, a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  if (name === "ttl" || name === "maddr") {
    const da = recheckEscaped(a, PARAM_MASK)?.value ?? a;
    const db = recheckEscaped(b, PARAM_MASK)?.value ?? b;
    if (name === "ttl") return parseTtl(da) !== undefined && parseTtl(da) === parseTtl(db);
    return normalizedHost(da) === normalizedHost(db);
  }
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * RFC 3261 §19.1.4: "Any present header component MUST be present in both URIs and match". Names compare
 * case-insensitively, values exactly in canonical escaped form. That is stricter than the per-header rules
 * of §20 (a Route value's host, say, compares case-insensitively there): two URIs may be called different
 * that §20 would call equal, never the reverse. Repeated names compare in order.
 */
function headersEqual(a: ReadonlyArray<UriHeader>, b: ReadonlyArray<UriHeader>): boolean {
  if (a.length !== b.length) return false;
  const key = (h: ReadonlyArray<UriHeader>): string[] =>
    h
      .map(([n], idx) => [n.toLowerCase(), escapedValue(h, idx, HEADER_MASK), idx] as const)
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[2] - y[2]))
      .map(([n, v]) => `${n}\u0000${v}`);
  const ka = key(a);
  const kb = key(b);
  return ka.every((v, i) => v === kb[i]);
}

function canonicalUser(u: SipUri): string | undefined {
  return canonicalUserinfoPart(u.user, u.userEscaped, UNRESERVED | USER_UNRESERVED);
}

function canonicalPassword(u: SipUri): string | undefined {
  return canonicalUserinfoPart(u.password, u.passwordEscaped, UNRESERVED | PASSWORD_EXTRA);
}

/**
 * The escaped form as received keeps the RFC 3261 §19.1.4 distinction between "+" and "%2B"; it is used
 * only while it still decodes to the decoded value (a caller may have changed one and not the other).
 */
function canonicalUserinfoPart(
  value: string | undefined,
  escaped: string | undefined,
  mask: number,
): string | undefined {
  if (value === undefined) return undefined;
  if (escaped !== undefined) {
    const r = recheckEscaped(escaped, mask);
    if (r !== undefined && r.value === value) return r.canonical;
  }
  return escapeComponent(value, mask);
}

// ---------------------------------------------------------------------------------------------------------
// Serialization

/**
 * Canonical text: scheme lower-case, userinfo in its canonical escaped form, host as stored (lower-case,
 * IPv6 per RFC 5952), port as a number, parameters and headers in their original order with names
 * lower-cased (parameters) and every character outside the component's literal set %-escaped.
 */
export function formatUri(uri: Uri): string {
  if (isSipUri(uri)) return formatSipUri(uri);
  if (isTelUri(uri)) return formatTelUri(uri);
  return formatAbsoluteUri(uri);
}

/**
 * A hand-built URI whose parts cannot be written as a valid URI is a programmer error (a TypeError):
 * silently writing it could put white space or a line break into a header.
 */
function formatAbsoluteUri(uri: AbsoluteUri): string {
  const text = `${uri.scheme.toLowerCase()}:${uri.opaque}`;
  const r = parseUri(text);
  if (!r.ok || !isAbsoluteUri(r.uri))
    throw new TypeError(`not a valid absolute URI: ${JSON.stringify(text)}`);
  return text;
}

function checkedHost(uri: SipUri): string {
  const h = parseHost(uri.host);
  if (!h.ok) throw new TypeError(`URI host ${JSON.stringify(uri.host)}: ${h.detail}`);
  return h.host;
}

function checkedPort(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`URI port ${port} out of range`);
  return String(port);
}

function formatSipUri(uri: SipUri): string {
  let out = uri.scheme + ":";
  const user = canonicalUser(uri);
  if (user !== undefined) {
    if (user === "") throw new TypeError("URI with an empty user part");
    out += user;
    const password = canonicalPassword(uri);
    if (password !== undefined) out += ":" + password;
    out += "@";
  }
  out += checkedHost(uri);
  if (uri.port !== undefined) out += ":" + checkedPort(uri.port);
  for (let k = 0; k < uri.params.length; k++) {
    const [name, value] = uri.params[k]!;
    if (name === "" || value === "")
      throw new TypeError(`URI parameter ${JSON.stringify(name)} with empty name or value`);
    out += ";" + escapeComponent(name.toLowerCase(), UNRESERVED | PARAM_UNRESERVED);
    if (value !== null) out += "=" + escapedValue(uri.params, k, PARAM_MASK)!;
  }
  uri.headers.forEach(([name], i) => {
    if (name === "") throw new TypeError("URI header with empty name");
    out += (i === 0 ? "?" : "&") + escapeComponent(name, UNRESERVED | HNV_UNRESERVED);
    out += "=" + escapedValue(uri.headers, i, HEADER_MASK)!;
  });
  return out;
}

/** First value of a uri-parameter by (case-insensitive) name; null for a parameter without value. */
export function getUriParam(uri: SipUri | TelUri, name: string): string | null | undefined {
  const p = findParam(uri.params, name);
  return p === undefined ? undefined : p[1];
}

// ---------------------------------------------------------------------------------------------------------
// tel URIs (RFC 3966 §3)

/** RFC 3966 §3 visual-separator = "-" / "." / "(" / ")" */
function isVisualSeparator(c: number): boolean {
  return c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;
}

/**
 * telephone-subscriber = global-number / local-number (RFC 3966 §3). A local-number MUST carry
 * phone-context (RFC 3966 §5.1.5); a global-number must not.
 */
function parseTelUri(text: string, start: number): TelUri | EscapeError {
  const end = text.length;
  const global = text.charCodeAt(start) === 0x2b;
  const n = global ? scanGlobalDigits(text, start, end) : scanLocalDigits(text, start, end);
  if (n instanceof ScanError) return n;
  const params = parseTelParams(text, n.end, end);
  if (params instanceof ScanError) return params;
  const hasContext = params.some(([name]) => name === "phone-context");
  if (!global && !hasContext) return new ScanError(start, "local tel number without phone-context");
  if (global && hasContext) return new ScanError(start, "global tel number with phone-context");
  return { scheme: "tel", number: n.number, global, params };
}

/** global-number-digits = "+" *phonedigit DIGIT *phonedigit */
function scanGlobalDigits(
  text: string,
  start: number,
  end: number,
): { number: string; end: number } | EscapeError {
  let i = start + 1;
  let digits = 0;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (!isVisualSeparator(c)) break;
  }
  if (digits === 0) return new ScanError(start, "global tel number without digits");
  return { number: text.slice(start, i), end: i };
}

/** local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex; "#" may come as %23. */
function scanLocalDigits(
  text: string,
  start: number,
  end: number,
): { number: string; end: number } | EscapeError {
  let i = start;
  let digits = 0;
  let number = "";
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && text.slice(i, i + 3).toUpperCase() === "%23") {
      number += "#";
      digits++;
      i += 3;
      continue;
    }
    if (hexValue(c) >= 0 || c === 0x2a || c === 0x23) digits++;
    else if (!isVisualSeparator(c)) break;
    number += text[i];
    i++;
  }
  if (digits === 0) return new ScanError(start, "tel number without digits");
  return { number, end: i };
}

/** par = parameter / extension / isdn-subaddress; parameter = ";" pname ["=" pvalue] (RFC 3966 §3) */
function parseTelParams(text: string, start: number, end: number): UriParam[] | EscapeError {
  const params: UriParam[] = [];
  const seen = new Set<string>();
  let i = start;
  while (i < end) {
    if (text.charCodeAt(i) !== 0x3b)
      return new ScanError(i, `unexpected ${describeChar(text.charCodeAt(i))}`);
    const nameStart = i + 1;
    let j = nameStart;
    while (j < end && (isAlnum(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2d)) j++;
    if (j === nameStart) return new ScanError(nameStart, "empty tel parameter name");
    const name = text.slice(nameStart, j).toLowerCase();
    let value: string | null = null;
    if (j < end && text.charCodeAt(j) === 0x3d) {
      const vStart = j + 1;
      j = vStart;
      while (j < end && isParamChar(text.charCodeAt(j))) j++;
      if (j === vStart) return new ScanError(vStart, "empty tel parameter value");
      const v = decodeComponent(text, vStart, j, UNRESERVED | PARAM_UNRESERVED);
      if (v instanceof ScanError) return v;
      value = v.value;
    }
    const bad = checkTelParam(name, value, seen);
    if (bad !== undefined) return new ScanError(nameStart, bad);
    params.push([name, value]);
    i = j;
  }
  return params;
}

/** RFC 3966 §3: ext = 1*phonedigit, isub = 1*uric, phone-context = domainname / global-number-digits. */
function checkTelParam(name: string, value: string | null, seen: Set<string>): string | undefined {
  if (seen.has(name)) return `tel parameter '${name}' repeated`;
  seen.add(name);
  const typed = name === "ext" || name === "isub" || name === "phone-context";
  if (typed && value === null) return `tel parameter '${name}' needs a value`;
  if (name === "ext" && !isPhoneDigits(value!)) return "ext is not a phone number";
  if (name === "phone-context" && !isPhoneContext(value!))
    return "phone-context is neither a domain nor +digits";
  return undefined;
}

function isPhoneDigits(v: string): boolean {
  let digits = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (!isVisualSeparator(c)) return false;
  }
  return digits > 0;
}

function isPhoneContext(v: string): boolean {
  if (v.charCodeAt(0) === 0x2b) return isPhoneDigits(v.slice(1));
  return checkHostname(v, 0, v.length) < 0;
}

/** Digits without visual separators, upper-case hex (RFC 3966 §4: separators carry no information). */
function telDigits(v: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) if (!isVisualSeparator(v.charCodeAt(i))) out += v[i];
  return out.toUpperCase();
}

/**
 * RFC 3966 §4: both global or both local; digits equal without visual separators; phone-context
 * compared as a host name or as digits; same parameter names on both sides; comparison case-insensitive.
 */
function telUriEquals(a: TelUri, b: TelUri): boolean {
  if (a.global !== b.global || telDigits(a.number) !== telDigits(b.number)) return false;
  const ma = paramMap(a.params);
  const mb = paramMap(b.params);
  if (ma.size !== mb.size) return false;
  for (const [name, value] of ma) {
    if (!mb.has(name)) return false;
    const other = mb.get(name)!;
    if (value === null || other === null) {
      if (value !== other) return false;
      continue;
    }
    if (!telParamValueEquals(name, value, other)) return false;
  }
  return true;
}

function telParamValueEquals(name: string, a: string, b: string): boolean {
  if (name === "phone-context" || name === "ext") {
    const digitsLike = (v: string): boolean => v.startsWith("+") || isPhoneDigits(v);
    if (digitsLike(a) && digitsLike(b)) return telDigits(a) === telDigits(b);
  }
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Canonical tel text: digits without visual separators, "#" as %23, then isub/ext, phone-context and the
 * other parameters in lexical order (the order RFC 3966 §3 asks of generators).
 */
function formatTelUri(uri: TelUri): string {
  const digits = telDigits(uri.number);
  const valid = uri.global ? /^\+[0-9]+$/.test(digits) : /^[0-9A-F*#]+$/.test(digits);
  if (!valid) throw new TypeError(`tel number ${JSON.stringify(uri.number)} is not a phone number`);
  let out = "tel:" + digits.replace(/#/g, "%23");
  const rank = (n: string): number => (n === "isub" || n === "ext" ? 0 : n === "phone-context" ? 1 : 2);
  const sorted = [...uri.params]
    .map(([n, v]) => [n.toLowerCase(), v] as const)
    .sort((x, y) => rank(x[0]) - rank(y[0]) || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (const [name, value] of sorted) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new TypeError(`tel parameter name ${JSON.stringify(name)}`);
    if (value === "") throw new TypeError(`tel parameter ${name} with empty value`);
    out += ";" + name;
    if (value !== null) out += "=" + escapeComponent(value, UNRESERVED | PARAM_UNRESERVED);
  }
  return out;
}
