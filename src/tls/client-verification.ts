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
import { validateChain, type ChainInput, type Crl, type TrustAnchor } from "../pki/chain.js";
import { checkSipEku } from "../pki/eku.js";
import type { IdentityOptions } from "../pki/identities.js";
import { tryParseCert } from "../pki/parsed-cert.js";
import { buildPaths } from "../pki/path-building.js";
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
  const key = contentKey(presented, policy);
  return reuseVerified(presented, policy, key) ?? verifyPresented(leaf, presented, policy, key);
}

/** The full procedure: path validation, EKU, identities; a success is remembered (see VerifiedEntry). */
function verifyPresented(
  leaf: X509Certificate,
  presented: readonly X509Certificate[],
  policy: ClientVerificationPolicy,
  key: string,
): ClientVerification {
  const input: ChainInput = {
    leaf,
    intermediates: presented.slice(1),
    anchors: policy.anchors,
    crls: policy.crls,
    crlCoverage: policy.crlPolicy === "when-present" ? "issuers-with-crl" : "all",
    at: policy.at,
  };
  const chain = validateChain(input);
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
  remember(presented, policy, key, input, chain.chain, peer);
  return { ok: true, code: "client-verified", peer: copyPeer(peer), chain: chain.chain };
}

// ---------------------------------------------------------------------------------------------------------
// Verified chains by content: a SIP peer (a trunk, a federation partner) reconnects with the same certificates
// again and again, and the procedure above — path building, signatures, names, EKU, identity extraction —
// would give the same answer each time. Every input of that answer is one of:
// - certificate content: the presented DER, keyed by SHA-256 fingerprint, in the order presented;
// - configuration, held by identity: the anchors array (one cache per array, so a reload, which builds new
//   arrays, starts empty and the old cache goes with the old configuration), the CRL list and the CN mapping
//   (compared by identity on every use), the CRL policy and identity options (in the key);
// - the validation time, re-checked on every use: an entry holds the interval in which every date the verdict
//   depended on was satisfied — RFC 5280 §6.1.3 (a)(2) validity of each certificate of the path (anchor
//   included), §6.3.3 (a)(2) thisUpdate/nextUpdate of every CRL of the list (of all of them, not only those
//   consulted: narrower than needed, never wider).
// Only successes are kept (a failing peer pays the full check every time), and only when path building found
// exactly one candidate path: with several, which one is valid first can change with the time. Bounded per
// configuration, least recently used first out. OCSP is not part of this verdict: checkClientOcsp runs for
// every connection.

/** Entries per configuration (anchors array). */
const VERIFIED_CACHE_LIMIT = 512;

interface VerifiedEntry {
  readonly crls: readonly Crl[] | undefined;
  readonly mapping: CnMapping | undefined;
  /** Milliseconds since the epoch; the verdict holds for validation times in [validFrom, validUntil]. */
  readonly validFrom: number;
  readonly validUntil: number;
  /** The validated chain, leaf first: an index into the presented certificates, or -1 for the anchor's. */
  readonly positions: readonly number[];
  readonly anchorCert: X509Certificate | undefined;
  readonly peer: PeerIdentities;
}

const verified = new WeakMap<readonly TrustAnchor[], Map<string, VerifiedEntry>>();

function contentKey(presented: readonly X509Certificate[], policy: ClientVerificationPolicy): string {
  const options = policy.identityOptions;
  let key = `${policy.crlPolicy ?? "require"}|${options?.emailAsSip === true}|${options?.legacyWildcards === true}`;
  for (const cert of presented) key += `|${cert.fingerprint256}`;
  return key;
}

function reuseVerified(
  presented: readonly X509Certificate[],
  policy: ClientVerificationPolicy,
  key: string,
): ClientVerification | undefined {
  const entries = verified.get(policy.anchors);
  const entry = entries?.get(key);
  if (entries === undefined || entry === undefined) return undefined;
  if (entry.crls !== policy.crls || entry.mapping !== policy.mapping) return undefined;
  const at = (policy.at ?? new Date()).getTime();
  if (at < entry.validFrom || at > entry.validUntil) return undefined;
  const chain: X509Certificate[] = [];
  for (const i of entry.positions) {
    const cert = i < 0 ? entry.anchorCert : presented[i];
    if (cert === undefined) return undefined;
    chain.push(cert);
  }
  // Re-inserted: Map iteration order is insertion order, so the first key is the least recently used.
  entries.delete(key);
  entries.set(key, entry);
  return { ok: true, code: "client-verified", peer: copyPeer(entry.peer), chain };
}

function remember(
  presented: readonly X509Certificate[],
  policy: ClientVerificationPolicy,
  key: string,
  input: ChainInput,
  chain: readonly X509Certificate[],
  peer: PeerIdentities,
): void {
  const window = validityWindow(chain, policy.crls);
  const anchorCert = chain.find((cert) => !presented.includes(cert));
  const positions = chain.map((cert) => (cert === anchorCert ? -1 : presented.indexOf(cert)));
  // Cached only when nothing is uncertain: dates readable, one anchor certificate at most, a single path.
  if (window === undefined || chain.some((cert, i) => positions[i] === -1 && cert !== anchorCert)) return;
  if (buildPaths(input.leaf, input.intermediates, input.anchors).paths.length !== 1) return;
  let entries = verified.get(policy.anchors);
  if (entries === undefined) {
    entries = new Map();
    verified.set(policy.anchors, entries);
  }
  entries.set(key, { crls: policy.crls, mapping: policy.mapping, ...window, positions, anchorCert, peer });
  if (entries.size > VERIFIED_CACHE_LIMIT) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
}

function validityWindow(
  chain: readonly X509Certificate[],
  crls: readonly Crl[] | undefined,
): { validFrom: number; validUntil: number } | undefined {
  let validFrom = -Infinity;
  let validUntil = Infinity;
  for (const cert of chain) {
    const parsed = tryParseCert(cert);
    if (parsed === undefined) return undefined;
    validFrom = Math.max(validFrom, parsed.notBefore.getTime());
    validUntil = Math.min(validUntil, parsed.notAfter.getTime());
  }
  for (const crl of crls ?? []) {
    validFrom = Math.max(validFrom, crl.thisUpdate.getTime());
    if (crl.nextUpdate) validUntil = Math.min(validUntil, crl.nextUpdate.getTime());
  }
  return validFrom <= validUntil ? { validFrom, validUntil } : undefined;
}

/** Each caller gets its own arrays, so nothing one connection does changes what another sees. */
function copyPeer(peer: PeerIdentities): PeerIdentities {
  return {
    identities: [...peer.identities],
    issuers: [...peer.issuers],
    subjectCns: [...peer.subjectCns],
    warnings: [...peer.warnings],
  };
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
