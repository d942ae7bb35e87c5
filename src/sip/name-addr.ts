/**
 * name-addr / addr-spec with header parameters: the value grammar of From, To, Contact, Route,
 * Record-Route, Reply-To, P-Asserted-Identity... (RFC 3261 §20.10, §20.20, §20.30, §20.34, §20.39, §25.1).
 *
 *   from-spec  = ( name-addr / addr-spec ) *( SEMI from-param )
 *   name-addr  = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * One value at a time: the caller splits comma-separated lists and handles Contact "*".
 */
import {
  findRepeated,
  formatGenericParams,
  quote,
  getParam,
  ScanError,
  isToken,
  parseGenericParams,
  scanQuotedString,
  scanToken,
  skipSws,
  unquote,
  type GenericParam,
  type LexError,
} from "./params.js";
import { formatUri, parseUri, type Uri } from "./uri.js";
import { describeChar } from "./escape.js";

export interface NameAddr {
  /** display name: quoted-string content (quoted-pairs resolved) or the tokens joined by one SP */
  readonly displayName?: string;
  readonly uri: Uri;
  /** the URI exactly as written between "<" ">" (or the addr-spec) */
  readonly uriText: string;
  /** header parameters after the address (tag, expires, q, ...), see GenericParam */
  readonly params: ReadonlyArray<GenericParam>;
  /** "name-addr" when the URI was in angle brackets */
  readonly form: "name-addr" | "addr-spec";
  /** value of the tag parameter, if any (From/To, RFC 3261 §19.3) */
  readonly tag?: string;
}

export type NameAddrErrorCode = "bad-name-addr" | "bad-uri";

export type NameAddrResult =
  { ok: true; value: NameAddr } | { ok: false; code: NameAddrErrorCode; detail: string; offset: number };

export interface NameAddrOptions {
  /**
   * Route and Record-Route allow only the name-addr form (RFC 3261 §20.30, §20.34:
   * route-param = name-addr *( SEMI rr-param )).
   */
  readonly requireNameAddr?: boolean;
  /** Contact: check q (qvalue) and expires (delta-seconds, at most 2^32-1) (RFC 3261 §20.10, §25.1). */
  readonly contact?: boolean;
}

/** Header parameters that may appear once only; a second tag makes dialog matching ambiguous. */
const SINGLE_PARAMS: readonly string[] = ["tag", "q", "expires"];

export function parseNameAddr(text: string, options: NameAddrOptions = {}): NameAddrResult {
  const end = text.length;
  const start = skipSws(text, 0, end);
  if (start >= end) return bad(start, "empty address");
  const head = scanAddress(text, start, end);
  if (head instanceof ScanError) return bad(head.offset, head.detail);
  if (head.form === "addr-spec" && options.requireNameAddr === true) {
    return bad(start, "the URI must be enclosed in '<' '>' here");
  }
  const parsed = parseUri(head.uriText);
  if (!parsed.ok) {
    return { ok: false, code: "bad-uri", detail: parsed.detail, offset: head.uriStart + parsed.offset };
  }
  const params = parseGenericParams(text, head.end, end);
  if (params instanceof ScanError) return bad(params.offset, params.detail);
  const rest = skipSws(text, params.end, end);
  if (rest !== end) return bad(rest, `unexpected ${describeChar(text.charCodeAt(rest))} after address`);
  const checked = checkHeaderParams(params.params, options);
  if (checked !== undefined) return bad(params.starts[checked.index]!, checked.detail);
  return { ok: true, value: build(head, parsed.uri, params.params) };
}

function bad(offset: number, detail: string): NameAddrResult {
  return { ok: false, code: "bad-name-addr", detail, offset };
}

function build(head: ScannedAddress, uri: Uri, params: GenericParam[]): NameAddr {
  const tag = getParam(params, "tag");
  // Every field present, in one order: one hidden class for all results.
  return {
    displayName: head.displayName,
    uri,
    uriText: head.uriText,
    params,
    form: head.form,
    tag: typeof tag === "string" ? tag : undefined,
  };
}

interface ScannedAddress {
  displayName?: string;
  uriText: string;
  uriStart: number;
  form: "name-addr" | "addr-spec";
  /** index after ">" or after the addr-spec */
  end: number;
}

/** Display name (if any) and the address, up to where the header parameters start. */
function scanAddress(text: string, start: number, end: number): ScannedAddress | LexError {
  const c = text.charCodeAt(start);
  if (c === 0x22) {
    const q = scanQuotedString(text, start, end);
    if (typeof q !== "number") return q;
    const lt = skipSws(text, q, end);
    if (lt >= end || text.charCodeAt(lt) !== 0x3c)
      return new ScanError(lt, "expected '<' after display name");
    return scanAngle(text, lt, end, unquote(text.slice(start, q)));
  }
  if (c === 0x3c) return scanAngle(text, start, end, undefined);
  const words = scanDisplayTokens(text, start, end);
  if (words !== undefined) return scanAngle(text, words.lt, end, words.name);
  return scanAddrSpec(text, start, end);
}

/**
 * display-name = *(token LWS): the tokens before "<", joined by one SP. RFC 4475 §3.1.1.6 asks to accept a
 * token directly followed by "<" (a known gap in the RFC 3261 ABNF). Undefined when no "<" follows the
 * token run, i.e. the value is an addr-spec.
 */
function scanDisplayTokens(
  text: string,
  start: number,
  end: number,
): { name: string; lt: number } | undefined {
  // The name is built only when a "<" follows: an addr-spec (the common To/From/Contact form without
  // display name) costs no string. One token is a slice; several are joined by one SP.
  let i = start;
  let tokens = 0;
  let lastEnd = start;
  while (i < end) {
    const e = scanToken(text, i, end);
    if (e === i) break;
    tokens++;
    lastEnd = e;
    i = skipSws(text, e, end);
    if (i < end && text.charCodeAt(i) === 0x3c) {
      return { name: tokens === 1 ? text.slice(start, lastEnd) : joinTokens(text, start, lastEnd), lt: i };
    }
    if (i === e) return undefined;
  }
  return undefined;
}

/** The tokens of text[start,end) (separated by white space or folds) joined by one SP. */
function joinTokens(text: string, start: number, end: number): string {
  const words: string[] = [];
  let i = start;
  while (i < end) {
    const e = scanToken(text, i, end);
    if (e === i) break; // cannot happen after scanDisplayTokens' pass; keeps the loop finite regardless
    words.push(text.slice(i, e));
    i = skipSws(text, e, end);
  }
  return words.join(" ");
}

/** LAQUOT addr-spec RAQUOT; no white space inside the brackets (RFC 4475 §3.1.2.14). */
function scanAngle(
  text: string,
  lt: number,
  end: number,
  displayName: string | undefined,
): ScannedAddress | LexError {
  const close = text.indexOf(">", lt + 1);
  if (close < 0 || close >= end) return new ScanError(lt, "missing '>'");
  return {
    displayName,
    uriText: text.slice(lt + 1, close),
    uriStart: lt + 1,
    form: "name-addr",
    end: close + 1,
  };
}

/**
 * addr-spec without brackets: RFC 3261 §20.10 — parameters after it are header parameters, and an
 * addr-spec containing a comma, semicolon or question mark MUST be written as name-addr (RFC 4475
 * §3.1.2.13 regbadct, §3.3.12 cparam01).
 */
function scanAddrSpec(text: string, start: number, end: number): ScannedAddress | LexError {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x3b || c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    if (c === 0x3f || c === 0x2c) {
      return new ScanError(
        i,
        `${describeChar(text.charCodeAt(i))} in an addr-spec: the URI must be enclosed in '<' '>'`,
      );
    }
    i++;
  }
  return {
    displayName: undefined,
    uriText: text.slice(start, i),
    uriStart: start,
    form: "addr-spec",
    end: i,
  };
}

/**
 * tag-param = "tag" EQUAL token (RFC 3261 §25.1); Contact: c-p-q = "q" EQUAL qvalue, c-p-expires =
 * "expires" EQUAL delta-seconds, whose value RFC 3261 §20.19 bounds to 2^32-1 (RFC 4475 §3.1.2.4).
 */
function checkHeaderParams(
  params: ReadonlyArray<GenericParam>,
  options: NameAddrOptions,
): { index: number; detail: string } | undefined {
  const repeated = findRepeated(params, SINGLE_PARAMS);
  if (repeated >= 0) return { index: repeated, detail: `parameter '${params[repeated]![0]}' repeated` };
  for (let k = 0; k < params.length; k++) {
    const detail = checkHeaderParam(params[k]![0], params[k]![1], options.contact === true);
    if (detail !== undefined) return { index: k, detail };
  }
  return undefined;
}

function checkHeaderParam(name: string, value: string | null, contact: boolean): string | undefined {
  if (name === "tag") return value !== null && isToken(value) ? undefined : "tag must be a token";
  if (!contact) return undefined;
  if (name === "q")
    return value !== null && isQvalue(value) ? undefined : "q must be a qvalue between 0 and 1";
  if (name === "expires" && (value === null || readDeltaSeconds(value) === undefined)) {
    return "expires must be delta-seconds (0..4294967295)";
  }
  return undefined;
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1) */
export function isQvalue(v: string): boolean {
  if (v.length === 0 || v.length > 5) return false;
  const first = v[0];
  if (first !== "0" && first !== "1") return false;
  if (v.length === 1) return true;
  if (v[1] !== ".") return false;
  for (let i = 2; i < v.length; i++) {
    const d = v[i]!;
    if (first === "1" ? d !== "0" : d < "0" || d > "9") return false;
  }
  return true;
}

/** delta-seconds = 1*DIGIT, at most 2^32-1 (RFC 3261 §20.19); leading zeros allowed. */
function readDeltaSeconds(v: string): number | undefined {
  if (v.length === 0) return undefined;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
    if (n > 0xffffffff) return undefined;
  }
  return n;
}

/** Contact: "*" (RFC 3261 §20.10, REGISTER §10.2.2), with optional surrounding white space. */
export function isStarContact(text: string): boolean {
  const s = skipSws(text, 0, text.length);
  if (text.charCodeAt(s) !== 0x2a) return false;
  return skipSws(text, s + 1, text.length) === text.length;
}

/**
 * name-addr text for a proxy-built header: the display name (if any) always as a quoted-string, the URI
 * in canonical form inside "<" ">" (never addr-spec, so URI parameters stay URI parameters: RFC 3261
 * §20.10), then the header parameters.
 */
export function formatNameAddr(value: {
  readonly displayName?: string;
  readonly uri: Uri;
  readonly params: ReadonlyArray<GenericParam>;
}): string {
  const name = value.displayName === undefined ? "" : quote(value.displayName) + " ";
  return `${name}<${formatUri(value.uri)}>${formatGenericParams(value.params)}`;
}
