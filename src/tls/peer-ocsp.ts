/**
 * OCSP for a peer whose chain already validated (DESIGN.md "Revocation and reload"): finds the leaf's issuer
 * (needed for the CertID, RFC 6960 §4.1.1) and applies the operator's policy through ocsp-policy.ts. Used by
 * the listener for client certificates (no staple: the responder is asked) and by the outbound procedure
 * (the server's staple first, RFC 6066 §8).
 */
import type { X509Certificate } from "node:crypto";
import type { TrustAnchor } from "../pki/chain.js";
import {
  checkOcsp,
  type OcspCheckResult,
  type OcspPolicyMode,
  type OcspResponseCache,
} from "./ocsp-policy.js";
import type { OcspFetcher } from "./ocsp-fetch.js";

export interface PeerOcspOptions {
  readonly mode: OcspPolicyMode;
  readonly timeoutMs?: number;
  /** Responder transport; tests inject one. Default: HTTP POST (ocsp-fetch.ts). */
  readonly fetch?: OcspFetcher;
  readonly cache?: OcspResponseCache;
  readonly at?: Date;
}

/** The certificate that issued `leaf`: from the validated chain first, else from the anchors. */
export function issuerOf(
  leaf: X509Certificate,
  chain: readonly X509Certificate[],
  anchors: readonly TrustAnchor[] = [],
): X509Certificate | undefined {
  const candidates = [...chain.slice(1), ...anchors.flatMap((a) => ("cert" in a ? [a.cert] : []))];
  return candidates.find((c) => !c.raw.equals(leaf.raw) && leaf.checkIssued(c) && verifies(leaf, c));
}

function verifies(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Checks the leaf of a validated chain by OCSP under `options.mode`. Never rejects. */
export function checkPeerOcsp(
  chain: readonly X509Certificate[],
  options: PeerOcspOptions,
  extra: { readonly stapled?: Buffer; readonly anchors?: readonly TrustAnchor[] } = {},
): Promise<OcspCheckResult> {
  const leaf = chain[0];
  if (!leaf || options.mode === "off") {
    return Promise.resolve({ ok: true, code: "ocsp-off", source: "none", detail: "OCSP checking is off" });
  }
  return checkOcsp({
    cert: leaf,
    issuer: issuerOf(leaf, chain, extra.anchors),
    mode: options.mode,
    ...(extra.stapled ? { stapled: extra.stapled } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.at ? { at: options.at } : {}),
  });
}
