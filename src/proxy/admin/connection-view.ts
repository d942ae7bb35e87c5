/**
 * ConnectionView builders from the transport's connection objects, so that every daemon renders
 * `/connections` the same way. The transport does not record when a connection opened; the caller passes it
 * (the wiring notes it in onConnection / on acquire).
 */
import { identityText } from "../../auth/identity.js";
import type { InboundConnection } from "../../transport/tls-listener.js";
import type { OutboundConnection } from "../../transport/outbound-connections.js";
import type { ConnectionView } from "./admin-target.js";

export interface ViewTiming {
  /** When the connection was established (ms since the epoch). */
  readonly openedAt: number;
  readonly now?: number;
}

export interface InboundViewExtras extends ViewTiming {
  /** Names the proxy may reuse this connection for (RFC 5923), when it records any. */
  readonly aliases?: readonly string[];
  readonly activeTransactions?: number;
}

/** `address:port`, with IPv6 in brackets (RFC 3986 §3.2.2) so the port stays unambiguous. */
export function formatPeer(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function ageSeconds(timing: ViewTiming): number {
  return Math.max(0, Math.floor(((timing.now ?? Date.now()) - timing.openedAt) / 1000));
}

export function inboundConnectionView(
  listener: string,
  c: InboundConnection,
  extras: InboundViewExtras,
): ConnectionView {
  return {
    direction: "inbound",
    id: `in:${listener}:${c.id}`,
    listener,
    peer: formatPeer(c.remoteAddress, c.remotePort),
    ageSeconds: ageSeconds(extras),
    generation: c.generation,
    state: "open",
    ...(c.sni !== undefined ? { sni: c.sni } : {}),
    tls: { version: c.tlsVersion, cipher: c.cipher },
    verification: { code: c.verification.code },
    identities: (c.peer?.identities ?? []).map(identityText),
    aliases: [...(extras.aliases ?? [])],
    activeTransactions: extras.activeTransactions ?? 0,
  };
}

export function outboundConnectionView(c: OutboundConnection, timing: ViewTiming): ConnectionView {
  return {
    direction: "outbound",
    id: `out:${c.id}`,
    domain: c.domain,
    peer: formatPeer(c.remoteAddress, c.remotePort),
    ageSeconds: ageSeconds(timing),
    generation: c.generation,
    state: c.state,
    ...(c.sni !== null ? { sni: c.sni } : {}),
    tls: { version: c.tlsVersion, cipher: c.cipher },
    verification: { code: c.verificationCode, method: c.method },
    identities: c.identities.map((i) => i.value),
    aliases: [...c.verifiedNames].sort(),
    ...(c.clientCredential ? { clientCertificate: { ...c.clientCredential } } : {}),
    activeTransactions: c.activeTransactions,
  };
}
