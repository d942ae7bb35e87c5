/**
 * Verifies the certificate a TLS client presented to one of our listeners (DESIGN.md "Inbound"):
 * RFC 5280 path validation to the listener's CA set (with its CRLs), the RFC 5924 EKU rule for the client
 * role, then the peer's SIP identities (RFC 5922 §7.1, CN mapping) for per-message authorization.
 *
 * The verdict per mode: `ignore` never looks; `optional` accepts a client without a certificate, but a
 * certificate that is offered and fails validation rejects the connection (a broken certificate is not the
 * same as none); `required` rejects a client without one.
 */
import type { X509Certificate } from "node:crypto";
import { validateChain, type Crl, type TrustAnchor } from "../pki/chain.js";
import { checkSipEku } from "../pki/eku.js";
import type { IdentityOptions } from "../pki/identities.js";
import { peerIdentitiesFromChain, type PeerIdentities } from "../auth/peer.js";
import type { CnMapping } from "../auth/cn-mapping.js";
import { checkPeerOcsp, type PeerOcspOptions } from "./peer-ocsp.js";

export type ClientCertificateMode = "ignore" | "optional" | "required";

export interface ClientVerificationPolicy {
  readonly mode: ClientCertificateMode;
  readonly anchors: readonly TrustAnchor[];
  readonly crls?: readonly Crl[];
  /**
   * The CA set's crlPolicy: `require` (default) needs a current CRL for every certificate below the anchor;
   * `when-present` checks only certificates whose issuer has a CRL in `crls` (pki/chain.ts crlCoverage).
   */
  readonly crlPolicy?: "require" | "when-present";
  /** OCSP for the client's leaf after path validation (checkClientOcsp); absent or `off`: not checked. */
  readonly ocsp?: PeerOcspOptions;
  readonly mapping?: CnMapping;
  readonly identityOptions?: IdentityOptions;
  readonly at?: Date;
}

export type ClientVerification =
  | {
      readonly ok: true;
      readonly code: "client-verified";
      readonly peer: PeerIdentities;
      readonly chain: X509Certificate[];
    }
  | { readonly ok: true; readonly code: "no-client-cert" | "client-cert-ignored" }
  | { readonly ok: false; readonly code: string; readonly detail: string; readonly depth?: number };

export function verifyClientChain(
  presented: readonly X509Certificate[],
  policy: ClientVerificationPolicy,
): ClientVerification {
  if (policy.mode === "ignore") return { ok: true, code: "client-cert-ignored" };
  const leaf = presented[0];
  if (!leaf) {
    return policy.mode === "required"
      ? {
          ok: false,
          code: "client-cert-required",
          detail: "the listener requires a client certificate and none was sent",
        }
      : { ok: true, code: "no-client-cert" };
  }
  const chain = validateChain({
    leaf,
    intermediates: presented.slice(1),
    anchors: policy.anchors,
    crls: policy.crls,
    crlCoverage: policy.crlPolicy === "when-present" ? "issuers-with-crl" : "all",
    at: policy.at,
  });
  if (!chain.ok) return { ok: false, code: chain.code, detail: chain.detail, depth: chain.depth };
  // RFC 5924 §4: id-kp-sipDomain or clientAuth (or no EKU) makes the certificate acceptable for a SIP client.
  const eku = checkSipEku(leaf, "client");
  if (!eku.ok) return { ok: false, code: eku.code, detail: eku.detail, depth: 0 };
  const peer = peerIdentitiesFromChain(chain.chain, {
    mapping: policy.mapping,
    emailAsSip: policy.identityOptions?.emailAsSip,
    legacyWildcards: policy.identityOptions?.legacyWildcards,
  });
  if (!peer) return { ok: false, code: "malformed-certificate", detail: "no identities could be read" };
  return { ok: true, code: "client-verified", peer, chain: chain.chain };
}

export type ClientOcspVerdict =
  | { readonly ok: true; readonly code: string; readonly detail: string }
  | { readonly ok: false; readonly code: string; readonly detail: string };

/**
 * The OCSP step for a verified client (client certificates carry no staple, so the responder is asked):
 * a revoked or unknown certificate is refused under soft-fail and hard-fail (ocsp-policy.ts table).
 * Clients without a verified certificate have nothing to check.
 */
export async function checkClientOcsp(
  verification: ClientVerification,
  policy: ClientVerificationPolicy,
): Promise<ClientOcspVerdict> {
  if (
    !policy.ocsp ||
    policy.ocsp.mode === "off" ||
    !verification.ok ||
    verification.code !== "client-verified"
  ) {
    return { ok: true, code: "ocsp-off", detail: "no OCSP check for this connection" };
  }
  const result = await checkPeerOcsp(verification.chain, policy.ocsp, { anchors: policy.anchors });
  return { ok: result.ok, code: result.code, detail: result.detail };
}
