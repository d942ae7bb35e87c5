/**
 * Shared fixtures for the policy tests: a small PKI made in memory (two federation CAs), connection objects
 * shaped like the transport's InboundConnection / OutboundConnection, and SIP requests.
 */
import type { X509Certificate } from "node:crypto";
import { parseCnMapping } from "../../../../src/auth/cn-mapping.js";
import { peerIdentitiesFromChain, type PeerIdentities } from "../../../../src/auth/peer.js";
import {
  createCa,
  issueCertificate,
  type GeneratedCertificate,
  type CertificateOptions,
} from "../../../../src/pki/issue.js";
import { extractSipIdentities } from "../../../../src/pki/identities.js";
import { parseMessage, type SipMessage } from "../../../../src/sip/index.js";
import type { TrustMethod } from "../../../../src/tls/server-trust.js";
import type { ClientVerification } from "../../../../src/tls/client-verification.js";
import type { InboundConnection } from "../../../../src/transport/tls-listener.js";
import type { OutboundConnection } from "../../../../src/transport/outbound-connections.js";
import type { Flow } from "../../../../src/proxy/core/flow.js";
import { inboundTlsAttributes, outboundTlsAttributes } from "../../../../src/proxy/policy/tls-attributes.js";

export interface Pki {
  readonly fedA: GeneratedCertificate;
  readonly fedB: GeneratedCertificate;
  /** Issued by fedA: SAN URI sip:a.example, DNS a.example, email ops@a.example, IP 192.0.2.7; fixed serial. */
  readonly leafA: GeneratedCertificate;
  /** Issued by fedB: SAN URI sip:b.example and sip:bob@b.example. */
  readonly leafB: GeneratedCertificate;
  /** Issued by fedA: no subjectAltName, CN is a MAC address (a device, identities from the CN mapping). */
  readonly device: GeneratedCertificate;
}

let pki: Pki | undefined;

/** One PKI per test process (key generation is the slow part). */
export function testPki(): Pki {
  if (pki) return pki;
  const fedA = createCa({
    subject: [
      ["C", "DE"],
      ["O", "Federation A"],
      ["CN", "Federation A Root"],
    ],
  });
  const fedB = createCa({
    subject: [
      ["C", "FR"],
      ["O", "Federation B"],
      ["CN", "Federation B Root"],
    ],
  });
  const leaf = (ca: GeneratedCertificate, options: CertificateOptions): GeneratedCertificate =>
    issueCertificate(ca, { eku: ["clientAuth", "serverAuth"], ...options });
  pki = {
    fedA,
    fedB,
    leafA: leaf(fedA, {
      subject: [
        ["O", "A Telecom"],
        ["CN", "sip.a.example"],
      ],
      san: { uri: ["sip:a.example"], dns: ["a.example"], email: ["ops@a.example"], ip: ["192.0.2.7"] },
      serialNumber: "00a1b2c3d4",
    }),
    leafB: leaf(fedB, {
      subject: [
        ["O", "B Telecom"],
        ["CN", "sip.b.example"],
      ],
      san: { uri: ["sip:b.example", "sip:bob@b.example"] },
    }),
    device: leaf(fedA, { cn: "00:11:22:33:44:55" }),
  };
  return pki;
}

export const DEVICE_MAPPING = parseCnMapping("00:11:22:33:44:55\tphone1@devices.example\n", "mapping.tsv");

export function chainOf(leaf: GeneratedCertificate, ca: GeneratedCertificate): X509Certificate[] {
  return [leaf.certificate, ca.certificate];
}

/** An InboundConnection as the listener makes it; `peer` and `generation` may change (revalidate). */
export interface FakeInbound extends InboundConnection {
  peer: PeerIdentities | undefined;
  generation: number;
}

export function fakeInbound(
  chain: readonly X509Certificate[],
  options: { sni?: string; mapping?: typeof DEVICE_MAPPING; id?: number } = {},
): FakeInbound {
  const peer =
    chain.length > 0
      ? peerIdentitiesFromChain(chain, options.mapping ? { mapping: options.mapping } : {})
      : undefined;
  const verification: ClientVerification = peer
    ? { ok: true, code: "client-verified", peer, chain: [...chain] }
    : { ok: true, code: "no-client-cert" };
  return {
    id: options.id ?? 1,
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    sni: options.sni,
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    chain,
    peer,
    verification,
    generation: 1,
    send: () => true,
    close: () => undefined,
  };
}

export function fakeOutbound(
  chain: readonly X509Certificate[],
  method: TrustMethod,
  options: { domain: string; srvHost?: string },
): OutboundConnection & { generation: number } {
  const leaf = chain[0];
  const identities = leaf ? extractSipIdentities(leaf).identities : [];
  const names = new Set([
    options.domain,
    ...(options.srvHost && method.startsWith("dane") ? [options.srvHost] : []),
  ]);
  return {
    id: 7,
    domain: options.domain,
    remoteAddress: "127.0.0.2",
    remotePort: 5061,
    sni: options.srvHost ?? options.domain,
    ...(options.srvHost ? { srvHost: options.srvHost } : {}),
    delegation: method.startsWith("dane") ? "secure" : "insecure",
    method,
    verificationCode: "ok",
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_128_GCM_SHA256",
    chain,
    identities,
    state: "open",
    generation: 1,
    verifiedNames: names,
    activeTransactions: 0,
    send: () => true,
    beginTransaction: () => ({ ok: true, code: "begun" }),
    endTransaction: () => undefined,
  };
}

export function inboundFlow(
  connection: InboundConnection,
  listener = "public",
  caSet: string | undefined = "fed",
): Flow {
  return {
    id: `in:${listener}:${connection.id}`,
    side: "outside",
    transport: "tls",
    reliable: true,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
    get tls() {
      return inboundTlsAttributes(listener, caSet, connection);
    },
    send: () => true,
  };
}

export function outboundFlow(connection: OutboundConnection): Flow {
  return {
    id: `out:${connection.id}`,
    side: "outside",
    transport: "tls",
    reliable: true,
    remoteAddress: connection.remoteAddress,
    remotePort: connection.remotePort,
    get tls() {
      return outboundTlsAttributes(connection);
    },
    send: () => true,
  };
}

export const INNER_FLOW: Flow = {
  id: "inner:udp:127.0.0.1:5060",
  side: "inside",
  transport: "udp",
  reliable: false,
  remoteAddress: "127.0.0.1",
  remotePort: 5060,
  send: () => true,
};

export interface RequestSpec {
  readonly method?: string;
  readonly uri?: string;
  readonly from?: string;
  readonly to?: string;
}

/** A well-formed request (RFC 3261 §8.1.1 mandatory headers). */
export function request(spec: RequestSpec = {}): SipMessage {
  const method = spec.method ?? "INVITE";
  const text = [
    `${method} ${spec.uri ?? "sip:bob@inner.example"} SIP/2.0`,
    "Via: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK-test-1",
    "Max-Forwards: 70",
    `From: ${spec.from ?? "<sip:alice@a.example>;tag=f1"}`,
    `To: ${spec.to ?? "<sip:bob@inner.example>"}`,
    "Call-ID: call-1@a.example",
    `CSeq: 1 ${method}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  return parseMessage(Buffer.from(text, "latin1"));
}
