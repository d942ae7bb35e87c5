/**
 * One query/response exchange with the resolver over UDP or TCP. Each exchange is bounded in time and bytes and
 * always releases its socket. Responses that do not decode, or that carry a foreign ID or question, are discarded
 * and counted (RFC 5452 §9.1: a stub must not accept them); over UDP the exchange keeps listening until its timeout,
 * so a spoofed or broken datagram cannot displace the real answer.
 */
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import type { ResolverEndpoint } from "./resolver-config.js";
import { decodeMessage, matchesQuery, type DnsMessage, type QueryType } from "./wire.js";

export interface ExchangeRequest {
  readonly endpoint: ResolverEndpoint;
  readonly query: Buffer;
  readonly id: number;
  readonly name: string;
  readonly type: QueryType;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/** What an exchange observed besides its outcome, for the client's counters. */
export interface ExchangeTally {
  garbage: number;
  mismatched: number;
  oversize: number;
}

export type ExchangeOutcome =
  | { kind: "response"; message: DnsMessage; bytes: number }
  | { kind: "timeout" }
  | { kind: "tcp-truncated"; detail: string }
  | { kind: "garbage"; detail: string }
  | { kind: "mismatched"; detail: string }
  | { kind: "too-large"; detail: string }
  | { kind: "network-error"; detail: string };

type Verdict = { accept: DnsMessage } | { reject: keyof ExchangeTally; detail: string };

function judge(request: ExchangeRequest, bytes: Buffer): Verdict {
  if (bytes.length > request.maxResponseBytes) {
    return {
      reject: "oversize",
      detail: `response of ${bytes.length} octets exceeds ${request.maxResponseBytes}`,
    };
  }
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return { reject: "garbage", detail: decoded.detail };
  if (!matchesQuery(decoded.message, request.id, request.name, request.type)) {
    return {
      reject: "mismatched",
      detail: `response ID ${decoded.message.id} or question does not match the query`,
    };
  }
  return { accept: decoded.message };
}

function sameAddress(a: string, b: string): boolean {
  return (
    a.replace(/^::ffff:/, "").toLowerCase() ===
    b
      .replace(/%.*$/, "")
      .replace(/^::ffff:/, "")
      .toLowerCase()
  );
}

/** UDP: one fresh socket per exchange, so the source port is random per query (RFC 5452 §9.2). */
export function udpExchange(request: ExchangeRequest, tally: ExchangeTally): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    const socket = createSocket(request.endpoint.family === 6 ? "udp6" : "udp4");
    let settled = false;
    const finish = (outcome: ExchangeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), request.timeoutMs);
    socket.on("error", (err) => finish({ kind: "network-error", detail: err.message }));
    socket.on("message", (bytes, rinfo) => {
      if (!sameAddress(rinfo.address, request.endpoint.host) || rinfo.port !== request.endpoint.port) {
        tally.mismatched++;
        return;
      }
      const verdict = judge(request, bytes);
      if ("accept" in verdict) finish({ kind: "response", message: verdict.accept, bytes: bytes.length });
      else tally[verdict.reject]++;
    });
    socket.send(request.query, request.endpoint.port, request.endpoint.host, (err) => {
      if (err) finish({ kind: "network-error", detail: err.message });
    });
  });
}

type FrameState =
  { kind: "need-more" } | { kind: "too-large"; length: number } | { kind: "complete"; message: Buffer };

/**
 * Collects one length-framed TCP message (RFC 1035 §4.2.2: a two-octet length, then the message). The length is
 * checked against the limit as soon as it is known, before the body is buffered.
 */
export class FramedReader {
  private readonly chunks: Buffer[] = [];
  private expected: number | undefined;
  received = 0;

  constructor(private readonly limit: number) {}

  get expectedLength(): number | undefined {
    return this.expected;
  }

  push(chunk: Buffer): FrameState {
    this.chunks.push(chunk);
    this.received += chunk.length;
    const all = Buffer.concat(this.chunks);
    if (this.expected === undefined && all.length >= 2) this.expected = all.readUInt16BE(0);
    if (this.expected === undefined) return { kind: "need-more" };
    if (this.expected > this.limit) return { kind: "too-large", length: this.expected };
    if (all.length < this.expected + 2) return { kind: "need-more" };
    return { kind: "complete", message: all.subarray(2, 2 + this.expected) };
  }
}

function framed(query: Buffer): Buffer {
  const frame = Buffer.alloc(2 + query.length);
  frame.writeUInt16BE(query.length, 0);
  query.copy(frame, 2);
  return frame;
}

/** The outcome for a complete TCP message: accepted, or rejected with the reason counted. */
function judgeFrame(request: ExchangeRequest, message: Buffer, tally: ExchangeTally): ExchangeOutcome {
  const verdict = judge(request, message);
  if ("accept" in verdict) return { kind: "response", message: verdict.accept, bytes: message.length };
  tally[verdict.reject]++;
  return { kind: verdict.reject === "oversize" ? "too-large" : verdict.reject, detail: verdict.detail };
}

/** TCP (RFC 7766): one connection per exchange, bounded by the same timeout as UDP. */
export function tcpExchange(request: ExchangeRequest, tally: ExchangeTally): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: request.endpoint.host, port: request.endpoint.port });
    const reader = new FramedReader(request.maxResponseBytes);
    let settled = false;
    const finish = (outcome: ExchangeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), request.timeoutMs);
    socket.on("connect", () => socket.write(framed(request.query)));
    socket.on("data", (chunk: Buffer) => {
      const state = reader.push(chunk);
      if (state.kind === "complete") finish(judgeFrame(request, state.message, tally));
      if (state.kind === "too-large") {
        tally.oversize++;
        finish({
          kind: "too-large",
          detail: `TCP length ${state.length} exceeds ${request.maxResponseBytes}`,
        });
      }
    });
    socket.on("end", () => {
      const wanted = reader.expectedLength === undefined ? "a length" : String(reader.expectedLength + 2);
      finish({
        kind: "tcp-truncated",
        detail: `stream ended after ${reader.received} octets (expected ${wanted})`,
      });
    });
    socket.on("error", (err) => finish({ kind: "network-error", detail: err.message }));
  });
}
