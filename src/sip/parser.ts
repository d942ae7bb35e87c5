/** Datagram-mode parsing: one message per buffer (UDP, or a captured message). */
import { SipParseError } from "./errors.js";
import { findHeadEnd, readContentLength, scanHead } from "./head.js";
import { resolveLimits, type SipLimits } from "./limits.js";
import { SipMessage } from "./message.js";

export interface ParseOptions {
  /** Size limits; defaults in limits.ts. */
  readonly limits?: Partial<SipLimits>;
  /**
   * Accept any SIP/x.y version instead of failing with `bad-version`, so a server can still read the headers it
   * needs to answer 505 Version Not Supported (RFC 3261 §21.5.6); validateRequest then reports 505.
   */
  readonly acceptAnyVersion?: boolean;
}

/**
 * Parses one message from a datagram. RFC 3261 §18.3: without Content-Length the body runs to the end of the
 * datagram; with it, a shorter datagram is an error and extra octets after the body are ignored
 * (RFC 4475 §3.1.1.8).
 */
export function parseMessage(buf: Buffer, options?: ParseOptions): SipMessage {
  const limits = resolveLimits(options?.limits);
  const headEnd = findHeadEnd(buf, 0, limits.maxHeaderBytes);
  if (headEnd < 0) {
    if (buf.length >= limits.maxHeaderBytes) {
      throw new SipParseError("too-large", `header section larger than ${limits.maxHeaderBytes} bytes`, 0);
    }
    throw new SipParseError("incomplete", "no empty line ends the header section", buf.length);
  }
  const head = scanHead(buf, headEnd, limits, options?.acceptAnyVersion === true);
  const contentLength = readContentLength(head, limits);
  const available = buf.length - headEnd;
  if (contentLength === undefined && available > limits.maxBodyBytes) {
    throw new SipParseError("too-large", `body larger than ${limits.maxBodyBytes} bytes`, headEnd);
  }
  if (contentLength !== undefined && contentLength > available) {
    throw new SipParseError(
      "content-length-mismatch",
      `Content-Length ${contentLength} but only ${available} body bytes`,
      buf.length,
      "content-length",
    );
  }
  const bodyEnd = contentLength === undefined ? buf.length : headEnd + contentLength;
  // The usual datagram holds exactly one message: keep the caller's Buffer instead of a new view of it.
  const raw = bodyEnd === buf.length ? buf : buf.subarray(0, bodyEnd);
  return new SipMessage(raw, head, contentLength);
}
