/**
 * Certification path building (RFC 4158 in spirit, RFC 5280 §6 input): from the leaf through presented
 * intermediates to a trust anchor, depth-first, trust anchors tried before intermediates at every step
 * (shortest trusted path first, like OpenSSL's default "trusted first"), alternatives tried in turn.
 * The search is bounded in depth and in the number of steps so that a hostile bag of certificates with equal
 * names cannot make it explode.
 */
import type { KeyObject, X509Certificate } from "node:crypto";
import { CertificateParseError, parseCert, type ParsedCert } from "./parsed-cert.js";

/** A trust anchor: a certificate, or a bare public key (DANE-TA with selector 1, RFC 7671 §5.2.2). */
export type TrustAnchor = { cert: X509Certificate } | { publicKey: KeyObject; name?: string };

export interface CandidatePath {
  /** Leaf first; ends with the anchor's certificate when the anchor is a certificate. */
  readonly certs: readonly ParsedCert[];
  readonly anchor: TrustAnchor;
  /** Number of entries of `certs` that are not the anchor (the path proper, RFC 5280 §6.1 "n"). */
  readonly length: number;
}

export interface PathSearch {
  readonly paths: readonly CandidatePath[];
  /** Deepest certificate whose issuer was not found, for the `unknown-issuer` detail. */
  readonly deadEnd?: { readonly depth: number; readonly cert: ParsedCert };
}

export const PATH_LIMITS = {
  /** Certificates in a path, anchor included. */
  maxDepth: 12,
  /** Complete candidate paths returned. */
  maxPaths: 8,
  /** Issuer candidates examined in total. */
  maxSteps: 256,
} as const;

interface Pools {
  readonly anchorCerts: ReadonlyArray<{ anchor: TrustAnchor; cert: ParsedCert }>;
  readonly anchorKeys: ReadonlyArray<{ anchor: TrustAnchor; key: KeyObject }>;
  readonly intermediates: readonly ParsedCert[];
}

interface SearchState {
  steps: number;
  readonly paths: CandidatePath[];
  deadEnd?: { depth: number; cert: ParsedCert };
}

/** Finds up to PATH_LIMITS.maxPaths candidate paths. Parsing errors propagate (CertificateParseError). */
export function buildPaths(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly TrustAnchor[],
): PathSearch {
  const pools = makePools(intermediates, anchors);
  const state: SearchState = { steps: 0, paths: [] };
  extend([parseCert(leaf)], pools, state);
  return { paths: state.paths, deadEnd: state.deadEnd };
}

function makePools(intermediates: readonly X509Certificate[], anchors: readonly TrustAnchor[]): Pools {
  const anchorCerts: Array<{ anchor: TrustAnchor; cert: ParsedCert }> = [];
  const anchorKeys: Array<{ anchor: TrustAnchor; key: KeyObject }> = [];
  for (const anchor of anchors) {
    if (!("cert" in anchor)) anchorKeys.push({ anchor, key: anchor.publicKey });
    else {
      // An anchor we cannot parse cannot anchor anything; one bad entry must not disable the whole set.
      const cert = tryParse(anchor.cert);
      if (cert) anchorCerts.push({ anchor, cert });
    }
  }
  const anchorPrints = new Set(anchorCerts.map((a) => a.cert.fingerprint));
  // A presented copy of an anchor is found as the anchor; keeping it as an intermediate only adds paths.
  const pool = intermediates.map(parseCert).filter((c) => !anchorPrints.has(c.fingerprint));
  return { anchorCerts, anchorKeys, intermediates: pool };
}

function tryParse(cert: X509Certificate): ParsedCert | undefined {
  try {
    return parseCert(cert);
  } catch (err) {
    if (err instanceof CertificateParseError) return undefined;
    throw err;
  }
}

function extend(path: readonly ParsedCert[], pools: Pools, state: SearchState): void {
  const last = path[path.length - 1] as ParsedCert;
  const asAnchor = pools.anchorCerts.find((a) => a.cert.fingerprint === last.fingerprint);
  if (asAnchor) {
    // The certificate itself is trusted (e.g. a DANE-TA certificate presented in the chain).
    state.paths.push({ certs: path, anchor: asAnchor.anchor, length: path.length - 1 });
    return;
  }
  const before = state.paths.length;
  tryAnchors(path, last, pools, state);
  tryIntermediates(path, last, pools, state);
  if (state.paths.length === before) recordDeadEnd(path, state);
}

function tryAnchors(path: readonly ParsedCert[], last: ParsedCert, pools: Pools, state: SearchState): void {
  for (const { anchor, cert } of pools.anchorCerts) {
    if (!budgetLeft(state) || !mayHaveIssued(cert, last)) continue;
    state.paths.push({ certs: [...path, cert], anchor, length: path.length });
  }
  for (const { anchor, key } of pools.anchorKeys) {
    if (!budgetLeft(state)) continue;
    // A bare key carries no name: it is a candidate exactly when it verifies the certificate's signature.
    if (verifiesWith(last, key)) state.paths.push({ certs: path, anchor, length: path.length });
  }
}

function tryIntermediates(
  path: readonly ParsedCert[],
  last: ParsedCert,
  pools: Pools,
  state: SearchState,
): void {
  if (path.length + 1 >= PATH_LIMITS.maxDepth) return;
  for (const candidate of pools.intermediates) {
    if (!budgetLeft(state)) return;
    if (path.some((c) => c.fingerprint === candidate.fingerprint)) continue;
    if (mayHaveIssued(candidate, last)) extend([...path, candidate], pools, state);
  }
}

function budgetLeft(state: SearchState): boolean {
  state.steps += 1;
  return state.steps <= PATH_LIMITS.maxSteps && state.paths.length < PATH_LIMITS.maxPaths;
}

/**
 * Name chaining (RFC 5280 §6.1.3 (a)(4)) plus the key-identifier hint (§4.2.1.1): when the subject carries an
 * authorityKeyIdentifier and the candidate a subjectKeyIdentifier, they must be equal (OpenSSL does the same,
 * so a same-named CA with another key is "unknown issuer", not "bad signature").
 */
export function mayHaveIssued(issuer: ParsedCert, subject: ParsedCert): boolean {
  if (issuer.subject.key !== subject.issuer.key) return false;
  if (subject.authorityKeyId && issuer.subjectKeyId) return subject.authorityKeyId === issuer.subjectKeyId;
  return true;
}

function verifiesWith(cert: ParsedCert, key: KeyObject): boolean {
  try {
    return cert.x509.verify(key);
  } catch {
    return false;
  }
}

function recordDeadEnd(path: readonly ParsedCert[], state: SearchState): void {
  const depth = path.length - 1;
  if (!state.deadEnd || depth > state.deadEnd.depth) {
    state.deadEnd = { depth, cert: path[depth] as ParsedCert };
  }
}
