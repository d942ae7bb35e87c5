/**
 * A flow: where a message came from and where it can go back (RFC 5626 §3 uses the word for one transport
 * association between two hops). The core never touches sockets; the wiring hands it Flow objects.
 */
import type { TlsAttributes } from "../policy/tls-attributes.js";

/** `outside` = the TLS side facing foreign domains; `inside` = the side of the inner SIP servers. */
export type Side = "outside" | "inside";

export interface Flow {
  /** "in:<listener>:<connId>" | "out:<connId>" | "inner:<udp|tcp>:<addr>:<port>" */
  readonly id: string;
  readonly side: Side;
  readonly transport: "udp" | "tcp" | "tls";
  /** Stream transports are reliable: no retransmissions by the transaction layer (RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** TLS attributes of the peer (outside flows). */
  readonly tls?: TlsAttributes;
  /** Sends one message; false when the transport failed (RFC 3261 §18.4 transport error). */
  send(data: Buffer): boolean;
}

/**
 * send() for the transaction layer, which calls it from timers: a flow that throws (a socket torn down
 * under it) is a transport error (RFC 3261 §18.4), reported as false, never an exception.
 */
export function sendSafely(flow: Flow, data: Buffer): boolean {
  try {
    return flow.send(data);
  } catch {
    return false;
  }
}
