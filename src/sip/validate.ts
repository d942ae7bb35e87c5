/**
 * Deciding whether a parsed message may be processed, and if not, what a server answers (RFC 3261 §8.2 for a
 * UAS, §16.3 for a proxy). The parser only frames; these checks read every header whose grammar this layer
 * knows, so a request that passes is safe to route and to answer.
 */
import { KNOWN_METHODS } from "./start-line.js";
import { SipParseError, type SipParseErrorCode } from "./errors.js";
import type { SipMessage } from "./message.js";
import type { Uri } from "./uri.js";

export type RequestRejectCode =
  | SipParseErrorCode
  /** Request-URI of a scheme the element does not handle (§8.2.2.1, §16.3 step 2) → 416. */
  | "unsupported-uri-scheme"
  /** sip/sips Request-URI with ?headers, not allowed there (§19.1.1 Table 1; RFC 4475 §3.1.2.11) → 400. */
  | "request-uri-headers"
  /** Require (UAS, §8.2.2.3) or Proxy-Require (proxy, §16.3 step 5) lists tags we do not support → 420. */
  | "bad-extension"
  /** Max-Forwards is 0 at a proxy (§16.3 step 3) → 483. */
  | "too-many-hops"
  /** Method not recognized by a UAS (§8.2.1) → 501. */
  | "not-implemented";

export type RequestVerdict =
  | { readonly ok: true; readonly code: "valid" }
  | {
      readonly ok: false;
      readonly code: RequestRejectCode;
      /** The status the element must answer with. */
      readonly status: 400 | 416 | 420 | 483 | 501 | 505;
      /** Reason phrase for that response. */
      readonly reason: string;
      readonly detail: string;
      /** Header concerned (lower-case long name), when one is. */
      readonly header?: string;
      /** For 420: the option tags to list in Unsupported (§8.2.2.3). */
      readonly unsupported?: readonly string[];
    };

export type WellFormedResult =
  | { readonly ok: true; readonly code: "valid" }
  | {
      readonly ok: false;
      readonly code: SipParseErrorCode | "request-uri-headers";
      readonly detail: string;
      readonly offset: number;
      readonly header?: string;
    };

export interface ValidateOptions {
  /** Proxy (§16.3, default) or UAS (§8.2) rules. */
  readonly role?: "proxy" | "uas";
  /** Request-URI schemes this element handles; default sip, sips, tel. */
  readonly schemes?: readonly string[];
  /** Option tags this element supports (Require at a UAS, Proxy-Require at a proxy); default none. */
  readonly supported?: readonly string[];
  /** Methods a UAS recognizes (others get 501); default the RFC 3261 methods and common extensions. */
  readonly methods?: readonly string[];
}

const DEFAULT_SCHEMES = ["sip", "sips", "tel"];
const DEFAULT_METHODS = KNOWN_METHODS;

const REASONS = {
  400: "Bad Request",
  416: "Unsupported URI Scheme",
  420: "Bad Extension",
  483: "Too Many Hops",
  501: "Not Implemented",
  505: "Version Not Supported",
} as const;

/** Runs `read` and turns a SipParseError into a failed result. */
function attempt(read: () => void): WellFormedResult {
  try {
    read();
    return { ok: true, code: "valid" };
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    return failure(err.code, err.message, err.offset, err.header);
  }
}

function failure(
  code: SipParseErrorCode | "request-uri-headers",
  detail: string,
  offset: number,
  header: string | undefined,
): WellFormedResult {
  return header === undefined
    ? { ok: false, code, detail, offset }
    : { ok: false, code, detail, offset, header };
}

/**
 * Reads every header this layer has a grammar for and checks the ones RFC 3261 §8.1.1 requires
 * (To, From, CSeq, Call-ID, Via). Max-Forwards may be absent: RFC 2543 peers omit it and a proxy adds it
 * (§16.6 step 3; RFC 4475 §3.4.1). Each single-valued header must appear once (§7.3.1).
 */
export function checkHeaders(msg: SipMessage): WellFormedResult {
  return attempt(() => {
    void msg.via;
    void msg.from;
    void msg.to;
    void msg.callId;
    void msg.cseq;
    void msg.maxForwards;
    void msg.contact;
    void msg.route;
    void msg.recordRoute;
    void msg.contentType;
    void msg.expires;
    void msg.require;
    void msg.proxyRequire;
    void msg.supported;
    void msg.date;
  });
}

/** Request-URI grammar, and no ?headers in a sip/sips Request-URI (RFC 3261 §19.1.1 Table 1). */
export function checkRequestUri(msg: SipMessage): WellFormedResult {
  let uri: Uri | undefined;
  const r = attempt(() => {
    uri = msg.requestUri;
  });
  if (!r.ok || uri === undefined) return r;
  if ((uri.scheme === "sip" || uri.scheme === "sips") && "headers" in uri && uri.headers.length > 0) {
    const sl = msg.startLine;
    const at = sl.kind === "request" ? sl.uriStart : 0;
    return failure("request-uri-headers", "Request-URI must not carry ?headers", at, undefined);
  }
  return r;
}

/** RFC 3261 §8.1.1.5: "The method MUST match that of the request." */
export function checkCSeqMethod(msg: SipMessage): WellFormedResult {
  const method = msg.method;
  return attempt(() => {
    if (method !== undefined && msg.cseq.method !== method) {
      const f = msg.fields("cseq")[0]!;
      throw new SipParseError(
        "cseq-method-mismatch",
        `CSeq method ${msg.cseq.method} differs from request method ${method}`,
        f.valueStart,
        "cseq",
      );
    }
  });
}

/** Whether a request is well formed: Request-URI, headers and the CSeq method. */
export function checkRequestWellFormed(msg: SipMessage): WellFormedResult {
  for (const check of [checkRequestUri, checkHeaders, checkCSeqMethod]) {
    const r = check(msg);
    if (!r.ok) return r;
  }
  return { ok: true, code: "valid" };
}

function reject(
  status: 400 | 416 | 420 | 483 | 501 | 505,
  code: RequestRejectCode,
  detail: string,
  extra?: { header?: string; unsupported?: readonly string[] },
): RequestVerdict {
  return { ok: false, code, status, reason: REASONS[status], detail, ...extra };
}

function fromWellFormed(r: WellFormedResult & { ok: false }): RequestVerdict {
  return reject(400, r.code, r.detail, r.header === undefined ? undefined : { header: r.header });
}

/**
 * The answer a server owes a request, in RFC 3261 order: 505 for another SIP version (§21.5.6; reached
 * only when parsed with acceptAnyVersion), 400 for malformed requests, 501 for unknown methods (UAS),
 * 400 for a CSeq method mismatch, 416 for an unsupported Request-URI scheme, 420 for unsupported
 * Require/Proxy-Require tags, 483 when Max-Forwards is 0 (proxy).
 */
export function validateRequest(msg: SipMessage, options: ValidateOptions = {}): RequestVerdict {
  if (!msg.isRequest) throw new TypeError("validateRequest needs a request");
  const role = options.role ?? "proxy";
  if (msg.version !== "SIP/2.0")
    return reject(505, "bad-version", `SIP version ${msg.version} not supported`);
  for (const check of [checkRequestUri, checkHeaders]) {
    const r = check(msg);
    if (!r.ok) return fromWellFormed(r);
  }
  const method = msg.method!;
  // RFC 3261 §8.2.1: a UAS answers 501 to a method it does not recognize. RFC 4475 §3.1.2.18 prefers 501
  // over 400 when such a method also mismatches CSeq, so this comes before the CSeq check.
  if (role === "uas" && !(options.methods ?? DEFAULT_METHODS).includes(method)) {
    return reject(501, "not-implemented", `method ${method} not implemented`);
  }
  const cseq = checkCSeqMethod(msg);
  if (!cseq.ok) return fromWellFormed(cseq);
  return checkPolicy(msg, role, options);
}

/** §8.2.2.1/§16.3 step 2 (416), §8.2.2.3/§16.3 step 5 (420), §16.3 step 3 (483). */
function checkPolicy(msg: SipMessage, role: "proxy" | "uas", options: ValidateOptions): RequestVerdict {
  const scheme = msg.requestUri!.scheme;
  if (!(options.schemes ?? DEFAULT_SCHEMES).includes(scheme)) {
    return reject(416, "unsupported-uri-scheme", `Request-URI scheme ${scheme} not supported`);
  }
  const supported = options.supported ?? [];
  // A UAS checks Require (§8.2.2.3) and a proxy Proxy-Require (§16.3 step 5); neither applies to CANCEL/ACK
  // for Require (§8.2.2.3: "...MUST NOT be used in a SIP CANCEL request, or in an ACK request").
  const required =
    role === "uas" ? (msg.method === "ACK" || msg.method === "CANCEL" ? [] : msg.require) : msg.proxyRequire;
  const unsupported = required.filter((tag) => !supported.includes(tag));
  if (unsupported.length > 0) {
    const header = role === "uas" ? "require" : "proxy-require";
    return reject(420, "bad-extension", `unsupported option tags: ${unsupported.join(", ")}`, {
      header,
      unsupported,
    });
  }
  if (role === "proxy" && msg.maxForwards === 0) {
    return reject(483, "too-many-hops", "Max-Forwards is 0", { header: "max-forwards" });
  }
  return { ok: true, code: "valid" };
}

/**
 * Whether a response may be processed. Malformed responses are not answered but dropped
 * (RFC 4475 §3.1.2.5, §3.1.2.19): the result says why.
 */
export function validateResponse(msg: SipMessage): WellFormedResult {
  if (msg.isRequest) throw new TypeError("validateResponse needs a response");
  if (msg.version !== "SIP/2.0")
    return failure("bad-version", `SIP version ${msg.version} not supported`, 0, undefined);
  return checkHeaders(msg);
}
