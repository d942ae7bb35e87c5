/**
 * Via header values (RFC 3261 §20.42, §18.2.1, §25.1; rport RFC 3581 §3; alias RFC 5923 §5):
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow white space (and folds) on both sides (RFC 4475 §3.1.1.1 wsinv).
 */
import {
  findRepeated,
  formatGenericParams,
  ScanError,
  isToken,
  parseGenericParams,
  scanToken,
  skipSws,
  type GenericParam,
  type LexError,
} from "./params.js";
import { parseHost, parseTtl, scanHost, scanPort, type HostKind } from "./uri.js";
import { describeChar } from "./escape.js";

export interface Via {
  /** upper-cased; "SIP" for every RFC 3261 element */
  readonly protocolName: string;
  /** as written; "2.0" */
  readonly protocolVersion: string;
  /** upper-cased: UDP, TCP, TLS, SCTP, WS, WSS or any other token (RFC 3261 other-transport) */
  readonly transport: string;
  /** sent-by host, normalised like SipUri.host */
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port?: number;
  readonly branch?: string;
  /** received address, normalised (IPv6 in brackets) */
  readonly received?: string;
  /** RFC 3581: true when an rport parameter is present, with or without value */
  readonly hasRport: boolean;
  readonly rport?: number;
  readonly maddr?: string;
  readonly ttl?: number;
  /** RFC 5923 alias parameter present */
  readonly alias: boolean;
  /** every parameter in order (the typed ones included), names lower-cased, values as written */
  readonly params: ReadonlyArray<GenericParam>;
}

export type ViaResult =
  { ok: true; value: Via } | { ok: false; code: "bad-via"; detail: string; offset: number };
export type ViaListResult =
  { ok: true; value: Via[] } | { ok: false; code: "bad-via"; detail: string; offset: number };

/** Parameters with a defined meaning: a repeat would let two elements read different values. */
const TYPED_PARAMS: readonly string[] = ["branch", "received", "rport", "maddr", "ttl", "alias"];

/** RFC 3261 §25.1 via-received = "received" EQUAL (IPv4address / IPv6address): IPv6 without brackets. */
const BARE_IPV6_PARAMS: ReadonlySet<string> = new Set(["received"]);

/** parseHost options for via-received (shared: this runs for most Via values). */
const RECEIVED_HOST = Object.freeze({ allowBareIpv6: true });

/** One via-parm (the caller has split the header value at commas). */
export function parseVia(text: string): ViaResult {
  const end = text.length;
  const r = parseViaParm(text, skipSws(text, 0, end), end);
  if (r instanceof ScanError) return fail(r);
  const rest = skipSws(text, r.end, end);
  if (rest !== end)
    return fail(new ScanError(rest, `unexpected ${describeChar(text.charCodeAt(rest))} after via-parm`));
  return { ok: true, value: r.via };
}

/** A whole Via header value: via-parm *(COMMA via-parm); empty elements are errors (RFC 4475 §3.1.2.1). */
export function parseViaList(text: string): ViaListResult {
  const end = text.length;
  const out: Via[] = [];
  let i = skipSws(text, 0, end);
  for (;;) {
    const r = parseViaParm(text, i, end);
    if (r instanceof ScanError) return fail(r);
    out.push(r.via);
    i = skipSws(text, r.end, end);
    if (i >= end) return { ok: true, value: out };
    if (text.charCodeAt(i) !== 0x2c)
      return fail(new ScanError(i, `unexpected ${describeChar(text.charCodeAt(i))} after via-parm`));
    i = skipSws(text, i + 1, end);
  }
}

function fail(e: LexError): { ok: false; code: "bad-via"; detail: string; offset: number } {
  return { ok: false, code: "bad-via", detail: e.detail, offset: e.offset };
}

function parseViaParm(text: string, start: number, end: number): { via: Via; end: number } | LexError {
  const proto = scanSentProtocol(text, start, end);
  if (proto instanceof ScanError) return proto;
  const hostStart = skipSws(text, proto.end, end);
  if (hostStart === proto.end) return new ScanError(hostStart, "expected white space after sent-protocol");
  const sentBy = scanSentBy(text, hostStart, end);
  if (sentBy instanceof ScanError) return sentBy;
  const params = parseGenericParams(text, sentBy.end, end, BARE_IPV6_PARAMS);
  if (params instanceof ScanError) return params;
  // Every field present, in one order: one hidden class for all Via objects on the hot path.
  const via: MutableVia = {
    protocolName: proto.name,
    protocolVersion: proto.version,
    transport: proto.transport,
    host: sentBy.host,
    hostKind: sentBy.kind,
    port: sentBy.port,
    branch: undefined,
    received: undefined,
    hasRport: false,
    rport: undefined,
    maddr: undefined,
    ttl: undefined,
    alias: false,
    params: params.params,
  };
  const err = readTypedParams(via, params.params, params.starts);
  if (err !== undefined) return err;
  return { via, end: params.end };
}

/** sent-protocol = protocol-name SLASH protocol-version SLASH transport, each a token. */
function scanSentProtocol(
  text: string,
  start: number,
  end: number,
): { name: string; version: string; transport: string; end: number } | LexError {
  // Nearly every Via starts with exactly "SIP/2.0/": skip the general white-space-tolerant path.
  if (text.startsWith("SIP/2.0/", start)) {
    const t = skipSws(text, start + 8, end);
    const e = scanToken(text, t, end);
    if (e === t) return new ScanError(t, "expected a token in sent-protocol");
    return { name: "SIP", version: "2.0", transport: upperTransport(text.slice(t, e)), end: e };
  }
  const parts: string[] = [];
  let i = start;
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      const slash = skipSws(text, i, end);
      if (slash >= end || text.charCodeAt(slash) !== 0x2f) {
        return new ScanError(slash, "expected '/' in sent-protocol");
      }
      i = skipSws(text, slash + 1, end);
    }
    const e = scanToken(text, i, end);
    if (e === i) return new ScanError(i, "expected a token in sent-protocol");
    parts.push(text.slice(i, e));
    i = e;
  }
  return { name: parts[0]!.toUpperCase(), version: parts[1]!, transport: upperTransport(parts[2]!), end: i };
}

/** Transport names are case-insensitive (RFC 3261 §7.1, ABNF literals); the common ones need no copy. */
function upperTransport(t: string): string {
  switch (t) {
    case "UDP":
    case "TCP":
    case "TLS":
    case "SCTP":
    case "WS":
    case "WSS":
      return t;
    default:
      return t.toUpperCase();
  }
}

/** sent-by = host [ COLON port ]; COLON = SWS ":" SWS. */
function scanSentBy(
  text: string,
  start: number,
  end: number,
): { host: string; kind: HostKind; port?: number; end: number } | LexError {
  const h = scanHost(text, start, end);
  if (h instanceof ScanError) return h;
  const colon = skipSws(text, h.end, end);
  if (colon >= end || text.charCodeAt(colon) !== 0x3a) return h;
  const p = scanPort(text, skipSws(text, colon + 1, end), end);
  if (p instanceof ScanError) return p;
  return { host: h.host, kind: h.kind, port: p.port, end: p.end };
}

type MutableVia = { -readonly [K in keyof Via]: Via[K] };

/**
 * via-branch = "branch" EQUAL token; via-received = "received" EQUAL (IPv4address / IPv6address);
 * via-maddr = "maddr" EQUAL host; via-ttl = "ttl" EQUAL 1*3DIGIT (0..255) (RFC 3261 §25.1);
 * response-port = "rport" [EQUAL 1*DIGIT] (RFC 3581 §3); alias has no value (RFC 5923 §5).
 */
function readTypedParams(
  out: MutableVia,
  params: ReadonlyArray<GenericParam>,
  starts: readonly number[],
): LexError | undefined {
  const repeated = findRepeated(params, TYPED_PARAMS);
  if (repeated >= 0)
    return new ScanError(starts[repeated]!, `Via parameter '${params[repeated]![0]}' repeated`);
  for (let k = 0; k < params.length; k++) {
    const err = readTypedParam(out, params[k]![0], params[k]![1]);
    if (err !== undefined) return new ScanError(starts[k]!, err);
  }
  return undefined;
}

function readTypedParam(out: MutableVia, name: string, value: string | null): string | undefined {
  switch (name) {
    case "branch":
      if (value === null || !isToken(value)) return "branch must be a token";
      out.branch = value;
      return undefined;
    case "received": {
      const h = value === null ? undefined : parseHost(value, RECEIVED_HOST);
      if (h === undefined || !h.ok || h.kind === "hostname") return "received must be an IP address";
      out.received = h.host;
      return undefined;
    }
    case "rport":
      return readRport(out, value);
    case "maddr": {
      const h = value === null ? undefined : parseHost(value);
      if (h === undefined || !h.ok) return "maddr must be a host";
      out.maddr = h.host;
      return undefined;
    }
    case "ttl": {
      const ttl = value === null ? undefined : parseTtl(value);
      if (ttl === undefined) return "ttl must be 0..255";
      out.ttl = ttl;
      return undefined;
    }
    case "alias":
      if (value !== null) return "alias takes no value";
      out.alias = true;
      return undefined;
    default:
      return undefined;
  }
}

function readRport(out: MutableVia, value: string | null): string | undefined {
  out.hasRport = true;
  if (value === null) return undefined;
  const p = scanPort(value, 0, value.length);
  if (p instanceof ScanError || p.end !== value.length) return "rport must be a port number 0..65535";
  out.rport = p.port;
  return undefined;
}

/** The branch of a Via starts with the RFC 3261 §8.1.1.7 magic cookie "z9hG4bK". */
export function hasMagicCookie(via: Via): boolean {
  return via.branch !== undefined && via.branch.startsWith("z9hG4bK");
}

/**
 * via-parm text: sent-protocol, one SP, sent-by, then `params` as stored (the typed fields are read from
 * `params` when parsing, so `params` is what is written). Tokens that would not re-parse are programmer
 * errors.
 */
export function formatVia(
  via: Pick<Via, "protocolName" | "protocolVersion" | "transport" | "host" | "port" | "params">,
): string {
  for (const t of [via.protocolName, via.protocolVersion, via.transport]) {
    if (!isToken(t)) throw new TypeError(`sent-protocol part ${JSON.stringify(t)} is not a token`);
  }
  const h = parseHost(via.host);
  if (!h.ok) throw new TypeError(`Via host ${JSON.stringify(via.host)}: ${h.detail}`);
  const port = via.port;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new TypeError(`Via port ${port} out of range`);
  }
  const sentBy = port === undefined ? h.host : `${h.host}:${port}`;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${sentBy}${formatGenericParams(via.params)}`;
}
