// Small SIP clients for the Kamailio tests: a UDP client (the sender behind Kamailio) and a request/response
// exchange over an already verified TLS socket (the edge talking to Kamailio).
import * as dgram from "node:dgram";
import type { TLSSocket } from "node:tls";
import { Framer, parseMessage, type SipMessage } from "../../../src/sip/index.js";
import type { OutboundResolver } from "../../../src/tls/outbound.js";

export interface RequestText {
  readonly method: "OPTIONS" | "MESSAGE";
  readonly requestUri: string;
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  /** The Via sent-by and transport of the sender. */
  readonly via: { readonly transport: "UDP" | "TLS"; readonly sentBy: string };
  readonly body?: string;
}

export function requestText(r: RequestText): string {
  const body = r.body ?? "";
  return (
    `${r.method} ${r.requestUri} SIP/2.0\r\n` +
    `Via: SIP/2.0/${r.via.transport} ${r.via.sentBy};branch=z9hG4bK-${r.callId};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <${r.from}>;tag=f-${r.callId}\r\n` +
    `To: <${r.to}>\r\n` +
    `Call-ID: ${r.callId}\r\n` +
    `CSeq: 1 ${r.method}\r\n` +
    (body.length > 0 ? `Content-Type: text/plain\r\n` : "") +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Sends one request over UDP from 127.0.0.1 and resolves with the first final (≥ 200) response, skipping
 * provisional ones; rejects after `timeoutMs`.
 */
export async function udpTransaction(
  host: string,
  port: number,
  build: (localPort: number) => string,
  timeoutMs: number,
): Promise<SipMessage> {
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => resolve());
    });
    const final = new Promise<SipMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no final response within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on("message", (data: Buffer) => {
        let message: SipMessage;
        try {
          message = parseMessage(data);
        } catch {
          return; // not a SIP response: keep waiting for one
        }
        if ((message.status ?? 0) < 200) return;
        clearTimeout(timer);
        resolve(message);
      });
    });
    socket.send(build(socket.address().port), port, host);
    return await final;
  } finally {
    socket.close();
  }
}

/** Writes one request on a TLS socket and resolves with the first final response framed from the stream. */
export function tlsTransaction(socket: TLSSocket, request: string, timeoutMs: number): Promise<SipMessage> {
  return new Promise((resolve, reject) => {
    const framer = new Framer();
    const done = (err: Error | undefined, message?: SipMessage): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (err) reject(err);
      else if (message) resolve(message);
    };
    const onData = (chunk: Buffer): void => {
      for (const event of framer.push(chunk)) {
        if (event.type === "error") return done(new Error(`bad SIP from peer: ${event.error.message}`));
        if (event.type === "message" && (event.message.status ?? 0) >= 200)
          return done(undefined, event.message);
      }
    };
    const onClose = (): void => done(new Error("connection closed before a final response"));
    const timer = setTimeout(() => done(new Error(`no final response within ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.write(request);
  });
}

/**
 * RFC 3263 stand-in: the SIP domain's servers are exactly these TLS targets, under an insecure delegation,
 * so verifyOutbound decides by RFC 5922 (DESIGN.md "Outbound" rule 3) and never asks for TLSA.
 */
export function fixedTargets(targets: ReadonlyArray<{ address: string; port: number }>): OutboundResolver {
  return {
    locate: () =>
      Promise.resolve({
        delegation: "insecure",
        targets: targets.map((t) => ({ address: t.address, port: t.port, transport: "TLS" })),
        steps: [],
      }),
    lookupTlsa: () => Promise.reject(new Error("TLSA must not be looked up under an insecure delegation")),
  };
}
