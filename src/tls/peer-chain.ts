/**
 * The certificate chain a TLS peer presented, in the order it was sent (leaf first).
 *
 * Read with `getPeerX509Certificate()`: Node wraps the certificates OpenSSL already decoded during the
 * handshake (SSL_get_peer_cert_chain, the chain as received) and links them by `issuerCertificate` in the
 * order they were sent. The legacy `getPeerCertificate(true)` was avoided for cost and for meaning: it builds a
 * JavaScript object per certificate, links them by issuance rather than by position, appends issuers found in
 * our own CA store (certificates the peer never sent), and each certificate then had to be decoded a second
 * time from its DER (`new X509Certificate(raw)`, the dominant cost of an accept).
 *
 * Node 20 hands the chain's certificates over to the first `getPeerX509Certificate()` call (later calls on the
 * same socket see a shorter chain, or none on the client side), so the result is computed once per socket and
 * cached; every caller of presentedChain gets the same objects.
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";

/** Upper bound on presented chain length: a longer chain is cut, and path validation fails on it. */
export const MAX_PRESENTED_CHAIN = 10;

const chains = new WeakMap<TLSSocket, readonly X509Certificate[]>();

export function presentedChain(socket: TLSSocket): X509Certificate[] {
  let chain = chains.get(socket);
  if (chain === undefined) {
    chain = readChain(socket);
    chains.set(socket, chain);
  }
  return [...chain];
}

function readChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let node: X509Certificate | undefined = socket.getPeerX509Certificate();
  while (node && chain.length < MAX_PRESENTED_CHAIN) {
    // A certificate sent twice adds nothing to path building; stop at the first repetition as before.
    const key = node.fingerprint256;
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(node);
    node = node.issuerCertificate;
  }
  return chain;
}
