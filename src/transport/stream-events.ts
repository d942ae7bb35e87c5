/**
 * What every SIP stream connection (outside TLS, outbound TLS, inside TCP) does with a chunk of bytes:
 * frame it, hand over whole messages, answer RFC 5626 §3.5.1 CRLFCRLF pings with a CRLF pong, and stop at
 * the first framing error, which cannot be recovered on a stream (RFC 3261 §18.3, RFC 4475 §3.1.2.3).
 */
import type { Framer, SipMessage, SipParseError } from "../sip/index.js";

export interface StreamEventHandlers {
  message(message: SipMessage): void;
  /** Writes the pong; the connection's own send applies its write-buffer bound. */
  pong(): void;
  /** The caller counts, logs and closes the connection. */
  framingError(error: SipParseError): void;
}

/** Feeds `chunk`; returns false after a framing error (the caller has been told and must not read on). */
export function feedStream(framer: Framer, chunk: Buffer, handlers: StreamEventHandlers): boolean {
  for (const event of framer.push(chunk)) {
    if (event.type === "message") handlers.message(event.message);
    else if (event.type === "keepalive") {
      if (event.kind === "ping") handlers.pong();
    } else {
      handlers.framingError(event.error);
      return false;
    }
  }
  return true;
}
