/**
 * Writing messages. `serializeMessage` applies the edits a proxy makes when forwarding (RFC 3261 §16.6 for
 * requests, §16.7 for responses) and copies every header it does not touch byte for byte, so whatever the
 * inner server or the next hop sees is what the sender wrote. `formatMessage` builds a new message.
 */
import { TOKEN, allIn } from "./chars.js";
import type { HeaderField } from "./header-field.js";
import { headerKey } from "./headers.js";
import type { SipMessage } from "./message.js";
import { parseMaxForwards } from "./scalars.js";
import { splitListBounds } from "./split.js";

export interface ProxyEdits {
  /** New Request-URI (RFC 3261 §16.5, §16.6 step 2, §16.4 strict-router fix-up). */
  readonly requestUri?: string;
  /** Via value inserted as the new topmost Via (§16.6 step 8). */
  readonly addVia?: string;
  /** Remove the topmost Via value (§16.7 step 3, forwarding a response). */
  readonly removeTopVia?: boolean;
  /** Record-Route value inserted on top (§16.6 step 4), e.g. `<sip:edge.example.com;lr>`. */
  readonly addRecordRoute?: string;
  /** Remove the topmost Route value (§16.4: the request was loose-routed to us). */
  readonly removeTopRoute?: boolean;
  /** Route values inserted on top, in the given order (§16.6 step 6, a pre-loaded route set). */
  readonly addRoute?: readonly string[];
  /** Decrement Max-Forwards, or add `Max-Forwards: 70` when absent (§16.6 step 3). */
  readonly decrementMaxForwards?: boolean;
  /** Drop every field with these names (any spelling), e.g. an internal identity header from outside traffic. */
  readonly removeHeaders?: readonly string[];
  /** Header fields appended after the received ones. */
  readonly addHeaders?: ReadonlyArray<readonly [name: string, value: string]>;
  /** Add Content-Length when the message has none (a datagram forwarded onto a stream, §18.3). */
  readonly ensureContentLength?: boolean;
}

/** A message built from parts by formatMessage. */
export interface MessageParts {
  /** Request-Line or Status-Line without CRLF, e.g. "INVITE sip:bob@example.com SIP/2.0". */
  readonly startLine: string;
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: Buffer | string;
}

const CRLF = Buffer.from("\r\n", "latin1");

/** Rejects text that would break out of its line (header injection) or is not a header name. */
function checkValue(what: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) throw new RangeError(`${what} contains CR, LF or NUL`);
  }
}

function checkName(name: string): void {
  if (!allIn(TOKEN, name)) throw new RangeError(`header name ${JSON.stringify(name)} is not a token`);
}

function line(name: string, value: string): Buffer {
  checkName(name);
  checkValue(`${name} value`, value);
  return Buffer.from(`${name}: ${value}\r\n`, "utf8");
}

/** Builds a message from parts; adds Content-Length when the parts have none. */
export function formatMessage(parts: MessageParts): Buffer {
  checkValue("start line", parts.startLine);
  const body =
    typeof parts.body === "string" ? Buffer.from(parts.body, "utf8") : (parts.body ?? Buffer.alloc(0));
  const out: Buffer[] = [Buffer.from(parts.startLine, "utf8"), CRLF];
  let hasLength = false;
  for (const [name, value] of parts.headers) {
    if (headerKey(name) === "content-length") hasLength = true;
    out.push(line(name, value));
  }
  if (!hasLength) out.push(line("Content-Length", String(body.length)));
  out.push(CRLF, body);
  return Buffer.concat(out);
}

/** The message's bytes with `edits` applied; with no edits, exactly the received message. */
export function serializeMessage(msg: SipMessage, edits: ProxyEdits = {}): Buffer {
  const w = new Writer(msg);
  w.startLine(edits.requestUri);
  const removed = new Set((edits.removeHeaders ?? []).map(headerKey));
  const firstVia = firstIndex(msg, "via");
  const firstRoute = firstIndex(msg, "route");
  const firstRecordRoute = firstIndex(msg, "record-route");
  // New fields go just above the first existing field of their kind, else at the top of the header section.
  const pendingTop: Buffer[] = [];
  if (edits.addVia !== undefined) pendingTop.push(line("Via", edits.addVia));
  const routeLines = (edits.addRoute ?? []).map((v) => line("Route", v));
  const rrLine = edits.addRecordRoute === undefined ? [] : [line("Record-Route", edits.addRecordRoute)];
  if (firstVia < 0) w.emit(pendingTop.splice(0));
  if (firstRecordRoute < 0) w.emit(rrLine.splice(0));
  if (firstRoute < 0) w.emit(routeLines.splice(0));
  let sawMaxForwards = false;
  let viaDone = false;
  let routeDone = false;
  msg.headers.forEach((f, index) => {
    if (index === firstVia) w.emit(pendingTop);
    if (index === firstRecordRoute) w.emit(rrLine);
    if (index === firstRoute) w.emit(routeLines);
    if (removed.has(f.key)) return w.skip(f);
    if (f.key === "via" && edits.removeTopVia === true && !viaDone) {
      viaDone = true;
      return w.dropFirstItem(f);
    }
    if (f.key === "route" && edits.removeTopRoute === true && !routeDone) {
      routeDone = true;
      return w.dropFirstItem(f);
    }
    if (f.key === "max-forwards" && edits.decrementMaxForwards === true) {
      sawMaxForwards = true;
      return w.replace(f, String(decremented(msg, f)));
    }
    w.keep(f);
  });
  // RFC 3261 §16.6 step 3: "If the copy does not contain a Max-Forwards header field, the proxy MUST add one
  // with a field value, which SHOULD be 70."
  if (edits.decrementMaxForwards === true && !sawMaxForwards) w.emit([line("Max-Forwards", "70")]);
  w.emit((edits.addHeaders ?? []).map(([n, v]) => line(n, v)));
  if (edits.ensureContentLength === true && msg.contentLength === undefined) {
    w.emit([line("Content-Length", String(msg.body.length))]);
  }
  return w.finish();
}

function firstIndex(msg: SipMessage, key: string): number {
  return msg.headers.findIndex((f) => f.key === key);
}

function decremented(msg: SipMessage, f: HeaderField): number {
  const r = parseMaxForwards(msg.valueOf(f));
  if (!r.ok) throw new RangeError(`cannot decrement a malformed Max-Forwards: ${r.detail}`);
  // RFC 3261 §16.3 step 3: a request with Max-Forwards 0 is answered (483), never forwarded.
  if (r.value === 0) throw new RangeError("Max-Forwards is 0: answer 483 instead of forwarding");
  return r.value - 1;
}

/** Collects output pieces, merging runs of untouched received bytes into one slice. */
class Writer {
  private readonly out: Buffer[] = [];
  /** Start of the run of received bytes not yet emitted; -1 when none is open. */
  private runStart = -1;
  private runEnd = -1;

  constructor(private readonly msg: SipMessage) {}

  startLine(requestUri: string | undefined): void {
    const sl = this.msg.startLine;
    if (requestUri === undefined || sl.kind !== "request") {
      this.run(0, this.firstFieldStart());
      return;
    }
    checkValue("Request-URI", requestUri);
    if (requestUri.length === 0 || /[\s]/.test(requestUri))
      throw new RangeError("Request-URI must be non-empty without whitespace");
    this.flush();
    this.out.push(Buffer.from(`${sl.method} ${requestUri} ${sl.version}\r\n`, "utf8"));
  }

  keep(f: HeaderField): void {
    this.run(f.start, f.end);
  }

  skip(_f: HeaderField): void {
    this.flush();
  }

  emit(lines: Buffer[]): void {
    if (lines.length === 0) return;
    this.flush();
    this.out.push(...lines);
  }

  replace(f: HeaderField, value: string): void {
    this.emit([line(f.name, value)]);
  }

  /** Drops the first comma-separated value of a list field, keeping the rest of its raw bytes. */
  dropFirstItem(f: HeaderField): void {
    const raw = this.msg.raw.toString("latin1", f.valueStart, f.valueEnd);
    const items = splitListBounds(raw, 2);
    this.flush();
    if (items.length < 2) return;
    const rest = this.msg.raw.subarray(f.valueStart + items[1]!.start, f.valueEnd);
    this.out.push(Buffer.from(`${f.name}: `, "latin1"), rest, CRLF);
  }

  finish(): Buffer {
    this.flush();
    this.out.push(CRLF, this.msg.body);
    return Buffer.concat(this.out);
  }

  private firstFieldStart(): number {
    const first = this.msg.headers[0];
    return first === undefined ? this.msg.headEnd - 2 : first.start;
  }

  private run(start: number, end: number): void {
    if (this.runStart >= 0 && this.runEnd === start) {
      this.runEnd = end;
      return;
    }
    this.flush();
    this.runStart = start;
    this.runEnd = end;
  }

  private flush(): void {
    if (this.runStart < 0) return;
    this.out.push(this.msg.raw.subarray(this.runStart, this.runEnd));
    this.runStart = -1;
  }
}
