/**
 * The typed error of the SIP message layer. `code` names the rule that failed; `offset` is the byte offset in
 * the input where the problem was found, so a log line or `siptrust sip parse` can point at it.
 */

export type SipParseErrorCode =
  /** The request line or status line does not follow RFC 3261 §7.1/§7.2. */
  | "bad-start-line"
  /** SIP-Version other than SIP/2.0 (RFC 3261 §7.1; a server answers 505). */
  | "bad-version"
  /** A header line, or a typed header value read through an accessor, violates its grammar. */
  | "bad-header"
  /** A header the operation needs is absent (e.g. Content-Length on a stream, RFC 3261 §18.3). */
  | "missing-header"
  /** A header that may appear once appears more than once (RFC 3261 §7.3.1). */
  | "duplicate-header"
  /** The CSeq method differs from the request method (RFC 3261 §8.1.1.5). */
  | "cseq-method-mismatch"
  /** Content-Length announces more bytes than the datagram holds (RFC 3261 §18.3). */
  | "content-length-mismatch"
  /** The Request-URI does not parse (RFC 3261 §19.1). */
  | "bad-request-uri"
  /** The header section has no terminating empty line. */
  | "incomplete"
  /** A configured limit (header section, line, header count, body) was exceeded. */
  | "too-large";

export class SipParseError extends Error {
  override readonly name = "SipParseError";
  readonly code: SipParseErrorCode;
  /** Byte offset in the parsed buffer where the problem was detected. */
  readonly offset: number;
  /** Canonical lower-case name of the header concerned, when there is one. */
  readonly header: string | undefined;

  constructor(code: SipParseErrorCode, message: string, offset: number, header?: string) {
    super(message);
    this.code = code;
    this.offset = offset;
    this.header = header;
  }
}

/** Outcome of parsing one header value: the value, or where (offset into the value text) and why it failed. */
export type ValueResult<T> = { ok: true; value: T } | { ok: false; detail: string; offset: number };

export function valueError(detail: string, offset: number): { ok: false; detail: string; offset: number } {
  return { ok: false, detail, offset };
}
