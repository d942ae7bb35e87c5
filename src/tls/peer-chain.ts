/**
 * The certificate chain a TLS peer presented, in the order it was sent (leaf first).
 *
 * Node exposes the chain as a linked list of legacy objects (`issuerCertificate`) that OpenSSL may
 * have completed from its own store; we rebuild it from the raw DER the peer sent and stop at the first
 * self-reference, so that verification (pki/chain.ts, dane/) sees exactly what was on the wire.
 */
import { X509Certificate } from "node:crypto";
import type { TLSSocket, DetailedPeerCertificate } from "node:tls";

/** Upper bound on presented chain length: a longer chain is cut, and path validation fails on it. */
export const MAX_PRESENTED_CHAIN = 10;

export function presentedChain(socket: TLSSocket): X509Certificate[] {
  const first = socket.getPeerCertificate(true) as DetailedPeerCertificate | Record<string, never>;
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let node: DetailedPeerCertificate | undefined =
    "raw" in first ? (first as DetailedPeerCertificate) : undefined;
  while (node?.raw && chain.length < MAX_PRESENTED_CHAIN) {
    const key = node.raw.toString("base64");
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(new X509Certificate(node.raw));
    node = node.issuerCertificate;
  }
  return chain;
}
