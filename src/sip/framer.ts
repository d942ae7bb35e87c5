/**
 * Stream framing (TCP/TLS): feed arbitrary chunks, get whole messages. RFC 3261 §18.3: on a stream the
 * Content-Length header is mandatory and frames the body. RFC 3261 §7.5: CRLFs before a start line are
 * ignored; RFC 5626 §3.5.1 gives them meaning: CRLFCRLF is a keep-alive "ping", a lone CRLF its "pong".
 *
 * Limits are checked before bytes are kept: a header section is never buffered past maxHeaderBytes (nor a
 * line past maxLineLength), and a body is never awaited when Content-Length exceeds maxBodyBytes.
 * Framing errors cannot be recovered on a stream (RFC 4475 §3.1.2.3): after an "error" event the framer
 * stays failed, ignores further input, and the connection should be closed.
 */
import { CR, LF } from "./chars.js";
import { SipParseError } from "./errors.js";
import { resolveLimits, type SipLimits } from "./limits.js";
import { SipMessage } from "./message.js";
import { readContentLength, scanHead, type ScannedHead } from "./head.js";

export type FramerEvent =
  | { readonly type: "message"; readonly message: SipMessage }
  | { readonly type: "keepalive"; readonly kind: "ping" | "pong" }
  | { readonly type: "error"; readonly error: SipParseError };

export interface FramerOptions {
  readonly limits?: Partial<SipLimits>;
  /** As ParseOptions.acceptAnyVersion. */
  readonly acceptAnyVersion?: boolean;
}

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

/** Where the framer is between messages. */
const enum Phase {
  /** Between messages: skipping keep-alive CRLFs. */
  Idle,
  /** Collecting the header section of a message. */
  Head,
  /** Header section parsed; waiting for `need` bytes in total. */
  Body,
}

export class Framer {
  private readonly limits: SipLimits;
  private readonly anyVersion: boolean;
  private phase = Phase.Idle;
  /** Bytes of the current message received so far (from its first byte). */
  private acc: Buffer[] = [];
  private accLen = 0;
  /** Length of the current (unterminated) line of the header section being collected. */
  private lineLen = 0;
  /** Keep-alive progress between messages: matched prefix length of CRLFCRLF (0..3). */
  private crlf = 0;
  private head: ScannedHead | undefined = undefined;
  private contentLength = 0;
  private failure: SipParseError | undefined = undefined;

  constructor(options?: FramerOptions) {
    this.limits = resolveLimits(options?.limits);
    this.anyVersion = options?.acceptAnyVersion === true;
  }

  /** Bytes held for the message in progress. */
  get buffered(): number {
    return this.accLen;
  }

  /**
   * True when exactly one CRLF arrived after the last message: a pong if nothing follows (RFC 5626 §4.4.1).
   * It is reported as an event only when the next byte (or end()) shows it is not the start of a ping.
   */
  get pendingCrlf(): boolean {
    return this.phase === Phase.Idle && this.crlf === 2;
  }

  /** The error that stopped this framer, if any. */
  get error(): SipParseError | undefined {
    return this.failure;
  }

  /**
   * Feeds one chunk; returns the events it completes, in order. An "error" event is always the last one ever
   * returned: after it the framer ignores input (close the connection; `error` keeps the reason).
   */
  push(chunk: Buffer): FramerEvent[] {
    if (this.failure !== undefined) return [];
    const events: FramerEvent[] = [];
    try {
      this.consume(chunk, events);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.fail(err, events);
    }
    return events;
  }

  /**
   * End of stream: a pending lone CRLF is a pong; a partial message is an "incomplete" error. After a failure
   * there is nothing more to report (the error event was already returned by push).
   */
  end(): FramerEvent[] {
    if (this.failure !== undefined) return [];
    const events: FramerEvent[] = [];
    if (this.phase === Phase.Idle && this.crlf === 2) events.push({ type: "keepalive", kind: "pong" });
    else if (this.phase !== Phase.Idle || this.crlf !== 0) {
      this.fail(new SipParseError("incomplete", "stream ended inside a message", this.accLen), events);
    }
    this.crlf = 0;
    return events;
  }

  private fail(err: SipParseError, events: FramerEvent[]): void {
    this.failure = err;
    this.acc = [];
    this.accLen = 0;
    events.push({ type: "error", error: err });
  }

  private consume(chunk: Buffer, events: FramerEvent[]): void {
    let data = chunk;
    let off = 0;
    while (off < data.length) {
      if (this.phase === Phase.Idle) {
        off = this.skipKeepAlive(data, off, events);
        if (off === data.length) return;
        this.phase = Phase.Head;
        this.lineLen = 0;
      }
      const piece = off === 0 ? data : data.subarray(off);
      const next = this.phase === Phase.Head ? this.takeHead(piece, events) : this.takeBody(piece, events);
      if (next === undefined) return;
      data = next.data;
      off = next.off;
    }
  }

  /** Consumes CR/LF bytes between messages; returns the offset of the first start-line byte. */
  private skipKeepAlive(data: Buffer, off: number, events: FramerEvent[]): number {
    for (; off < data.length; off++) {
      const c = data[off]!;
      const expected = this.crlf % 2 === 0 ? CR : LF;
      if (c === expected) {
        this.crlf++;
        if (this.crlf === 4) {
          events.push({ type: "keepalive", kind: "ping" });
          this.crlf = 0;
        }
        continue;
      }
      if (this.crlf === 2) {
        events.push({ type: "keepalive", kind: "pong" });
        this.crlf = 0;
      }
      if (this.crlf !== 0 || c === LF) {
        throw new SipParseError("bad-start-line", "stray CR or LF before a start line", 0);
      }
      return off;
    }
    return off;
  }

  /** Collects header bytes; once the empty line is in, parses the head and moves to the body. */
  private takeHead(piece: Buffer, events: FramerEvent[]): { data: Buffer; off: number } | undefined {
    const endInPiece = this.findHeadEnd(piece);
    if (endInPiece < 0) {
      this.checkPartialHead(piece);
      this.acc.push(piece);
      this.accLen += piece.length;
      return undefined;
    }
    const headEnd = this.accLen + endInPiece;
    if (headEnd > this.limits.maxHeaderBytes) {
      throw new SipParseError(
        "too-large",
        `header section larger than ${this.limits.maxHeaderBytes} bytes`,
        0,
      );
    }
    const buf = this.joined(piece);
    this.head = scanHead(buf, headEnd, this.limits, this.anyVersion);
    const cl = readContentLength(this.head, this.limits);
    if (cl === undefined) {
      throw new SipParseError(
        "missing-header",
        "Content-Length is required on a stream",
        headEnd,
        "content-length",
      );
    }
    this.contentLength = cl;
    this.phase = Phase.Body;
    this.acc = [];
    this.accLen = 0;
    return this.takeBody(buf, events);
  }

  /** Completes the body if it is all there; returns the data after the message to continue with. */
  private takeBody(piece: Buffer, events: FramerEvent[]): { data: Buffer; off: number } | undefined {
    const head = this.head!;
    const need = head.headEnd + this.contentLength;
    if (this.accLen + piece.length < need) {
      this.acc.push(piece);
      this.accLen += piece.length;
      return undefined;
    }
    const buf = this.joined(piece);
    events.push({
      type: "message",
      message: new SipMessage(buf.subarray(0, need), head, this.contentLength),
    });
    this.phase = Phase.Idle;
    this.head = undefined;
    this.acc = [];
    this.accLen = 0;
    return { data: buf, off: need };
  }

  /** The accumulated bytes plus `piece` as one buffer (no copy when nothing was accumulated). */
  private joined(piece: Buffer): Buffer {
    if (this.accLen === 0) return piece;
    return Buffer.concat([...this.acc, piece], this.accLen + piece.length);
  }

  /** Offset just after CRLFCRLF in `piece`, looking across the boundary with the bytes already held. */
  private findHeadEnd(piece: Buffer): number {
    if (this.accLen > 0) {
      const tail = this.tail(3);
      const probe = Buffer.concat([tail, piece.subarray(0, 3)]);
      const at = probe.indexOf(CRLFCRLF);
      if (at >= 0) return at + 4 - tail.length;
    }
    const room = this.limits.maxHeaderBytes - this.accLen;
    const window = piece.length > room + 4 ? piece.subarray(0, Math.max(0, room) + 4) : piece;
    const at = window.indexOf(CRLFCRLF);
    return at < 0 ? -1 : at + 4;
  }

  /** Last `n` bytes held (fewer if fewer are held). */
  private tail(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    for (let i = this.acc.length - 1; i >= 0 && need > 0; i--) {
      const b = this.acc[i]!;
      parts.unshift(b.length > need ? b.subarray(b.length - need) : b);
      need -= Math.min(need, b.length);
    }
    return Buffer.concat(parts);
  }

  /** Limits on a header section that is not complete yet, checked before the piece is kept. */
  private checkPartialHead(piece: Buffer): void {
    if (this.accLen + piece.length > this.limits.maxHeaderBytes) {
      throw new SipParseError(
        "too-large",
        `header section larger than ${this.limits.maxHeaderBytes} bytes`,
        0,
      );
    }
    let from = 0;
    for (;;) {
      const lf = piece.indexOf(LF, from);
      const lineBytes = (lf < 0 ? piece.length : lf) - from;
      if (this.lineLen + lineBytes > this.limits.maxLineLength + 1) {
        throw new SipParseError("too-large", "header line too long", this.accLen + from);
      }
      if (lf < 0) {
        this.lineLen += lineBytes;
        return;
      }
      this.lineLen = 0;
      from = lf + 1;
    }
  }
}
