/**
 * Certification path validation, RFC 5280 §6.1, synchronous and pure.
 *
 * validateChain builds candidate paths (path-building.ts) and checks each until one is valid; when none is,
 * the failure of the first (preferred) candidate is reported. Per path, certificates are processed from the
 * trust anchor down to the leaf as in §6.1.3, and the first failed rule is returned with the depth of the
 * offending certificate (0 = leaf, as in OpenSSL's error depth).
 *
 * Deliberate choices:
 * - Trust anchors follow RFC 5280 §6.1.1 (d): any certificate or bare key may be an anchor; it need not be
 *   self-signed (OpenSSL needs -partial_chain for that). Like OpenSSL and Go, and stricter than RFC 5280, an
 *   anchor certificate's own validity dates, keyUsage, pathLenConstraint and name constraints are enforced.
 * - Purpose: RFC 5924 §4 via eku.ts (never OpenSSL's purpose rules), only when `purpose` is server/client.
 * - Revocation: when CRLs are given, every certificate of the path below the anchor must be covered by a
 *   current CRL from its issuer (OpenSSL's -crl_check_all); an empty list means "no revocation checking".
 *   `crlCoverage: "issuers-with-crl"` narrows this to the certificates whose issuer has a CRL in the list
 *   (a CA set's `crlPolicy: when-present`); such a CRL must still be current, signed and in scope.
 * - Policy processing (§6.1.3 (d)–(f)) is not implemented: critical policyConstraints, policyMappings and
 *   inhibitAnyPolicy are therefore unhandled critical extensions and fail the path.
 */
import type { KeyObject, X509Certificate } from "node:crypto";
import { checkRevocation, type Crl } from "./crl.js";
import { checkSipEku } from "./eku.js";
import { checkNameConstraints } from "./name-constraints.js";
import { CertificateParseError, KEY_USAGE_BIT, OID, type ParsedCert } from "./parsed-cert.js";
import { buildPaths, type CandidatePath, type PathSearch, type TrustAnchor } from "./path-building.js";

export type { TrustAnchor } from "./path-building.js";
export type { Crl } from "./crl.js";
export { parseCrl, parseCrls } from "./crl.js";

export interface ChainInput {
  readonly leaf: X509Certificate;
  readonly intermediates: readonly X509Certificate[];
  readonly anchors: readonly TrustAnchor[];
  readonly crls?: readonly Crl[];
  /**
   * `all` (default): every certificate below the anchor needs a current CRL from its issuer.
   * `issuers-with-crl`: only certificates whose issuer name has a CRL in `crls` are checked.
   */
  readonly crlCoverage?: "all" | "issuers-with-crl";
  /** Validation time; default now. */
  readonly at?: Date;
  /** RFC 5924 §4 EKU check of the leaf for this TLS role; "any" (default) skips it. */
  readonly purpose?: "server" | "client" | "any";
  /** false skips the leaf's validity dates (DANE-EE, RFC 7671 §5.1). Default true. */
  readonly checkLeafDates?: boolean;
}

export type ChainErrorCode =
  | "expired"
  | "not-yet-valid"
  | "unknown-issuer"
  | "bad-signature"
  | "not-a-ca"
  | "path-too-long"
  | "revoked"
  | "crl-missing"
  | "crl-expired"
  | "crl-not-yet-valid"
  | "crl-bad-signature"
  | "name-constraint"
  | "eku"
  | "key-usage"
  | "unhandled-critical-extension"
  | "malformed-certificate"
  | "too-many-certificates";

export type ChainFailure = {
  ok: false;
  code: ChainErrorCode;
  detail: string;
  /** Depth of the offending certificate: 0 = leaf; the anchor certificate has the highest depth. */
  depth?: number;
  /** For `revoked`: the CRLReason (RFC 5280 §5.3.1). */
  reason?: string;
  /** The candidate path that failed, leaf first (absent when no path to an anchor was found). */
  chain?: X509Certificate[];
};

export type ChainResult =
  | { ok: true; code: "valid"; chain: X509Certificate[] /* leaf first, anchor last */; anchor: TrustAnchor }
  | ChainFailure;

/** Bounds on the input so that a hostile peer cannot make validation expensive. */
export const CHAIN_LIMITS = { maxIntermediates: 32, maxAnchors: 10_000 } as const;

/** Validates `input.leaf` per RFC 5280 §6.1; see the module comment for the choices made. Never throws. */
export function validateChain(input: ChainInput): ChainResult {
  try {
    return validate(input);
  } catch (err) {
    // node:crypto throws for keys or algorithms OpenSSL cannot handle; that certificate cannot be validated.
    return fail("malformed-certificate", `certificate cannot be processed: ${(err as Error).message}`);
  }
}

function validate(input: ChainInput): ChainResult {
  if (
    input.intermediates.length > CHAIN_LIMITS.maxIntermediates ||
    input.anchors.length > CHAIN_LIMITS.maxAnchors
  ) {
    return fail(
      "too-many-certificates",
      `more than ${CHAIN_LIMITS.maxIntermediates} intermediates or too many anchors`,
    );
  }
  let search: PathSearch;
  try {
    search = buildPaths(input.leaf, input.intermediates, input.anchors);
  } catch (err) {
    if (err instanceof CertificateParseError) return fail("malformed-certificate", err.message);
    throw err;
  }
  let first: ChainFailure | undefined;
  for (const path of search.paths) {
    const verdict = checkPath(path, input);
    if (verdict.ok) return verdict;
    first ??= verdict;
  }
  return first ?? unknownIssuer(search);
}

function unknownIssuer(search: PathSearch): ChainFailure {
  const end = search.deadEnd;
  if (!end) return fail("unknown-issuer", "no path to a trust anchor");
  const what = end.cert.selfIssued ? "self-signed certificate is not a trust anchor" : "issuer not found";
  return fail(
    "unknown-issuer",
    `${what}: ${end.cert.subject.text} (issuer ${end.cert.issuer.text})`,
    end.depth,
  );
}

function fail(code: ChainErrorCode, detail: string, depth?: number): ChainFailure {
  return depth === undefined ? { ok: false, code, detail } : { ok: false, code, detail, depth };
}

type Step = ChainFailure | undefined;

/** RFC 5280 §6.1.2–6.1.5 on one candidate path. */
function checkPath(path: CandidatePath, input: ChainInput): ChainResult {
  const at = input.at ?? new Date();
  const failure =
    checkAnchorCert(path, input, at) ??
    firstFailure(path.length, (i) => checkCertificate(path, path.length - 1 - i, input, at)) ??
    checkPurpose(path, input);
  if (failure) return { ...failure, chain: path.certs.map((c) => c.x509) };
  return { ok: true, code: "valid", chain: path.certs.map((c) => c.x509), anchor: path.anchor };
}

function firstFailure(count: number, step: (i: number) => Step): Step {
  for (let i = 0; i < count; i++) {
    const failure = step(i);
    if (failure) return failure;
  }
  return undefined;
}

// Not RFC 5280 (the anchor is trusted input), but what OpenSSL and Go enforce: an anchor certificate that
// has expired, or whose own extensions forbid issuing this path, does not anchor it.
function checkAnchorCert(path: CandidatePath, input: ChainInput, at: Date): Step {
  if (path.certs.length === path.length) return undefined;
  const depth = path.length;
  const anchor = path.certs[depth] as ParsedCert;
  const isAlsoLeaf = depth === 0;
  if (!isAlsoLeaf || input.checkLeafDates !== false) {
    const dates = checkValidity(anchor, depth, at);
    if (dates) return dates;
  }
  return isAlsoLeaf ? undefined : checkIssuerRole(path, depth);
}

/** Everything about certificate `depth` (< path.length), in RFC 5280 §6.1.3–6.1.4 order. */
function checkCertificate(path: CandidatePath, depth: number, input: ChainInput, at: Date): Step {
  const cert = path.certs[depth] as ParsedCert;
  return (
    checkSignature(path, depth) ??
    (depth === 0 && input.checkLeafDates === false ? undefined : checkValidity(cert, depth, at)) ??
    checkRevocationStep(path, depth, input, at) ??
    checkNames(path, depth) ??
    checkCriticalExtensions(cert, depth) ??
    (depth > 0 ? checkIssuerRole(path, depth) : undefined)
  );
}

// §6.1.3 (a)(1): the signature verifies with the working public key (the issuer's, or the bare anchor key).
function checkSignature(path: CandidatePath, depth: number): Step {
  const cert = path.certs[depth] as ParsedCert;
  if (verifiedBy(cert, path.certs[depth + 1], () => issuerKey(path, depth))) return undefined;
  return fail(
    "bad-signature",
    `signature of ${cert.subject.text} does not verify with its issuer's key`,
    depth,
  );
}

/**
 * Signatures already found good, as "certificate fingerprint issuer fingerprint" (SHA-256 over each whole DER,
 * signature included). Whether given bytes verify under a given key never changes, so a peer that reconnects
 * with the same certificate is not verified again; only successes are kept (a bad signature costs the sender
 * the full check every time), bounded, least recently used first out. Bare anchor keys are not cached.
 */
export const SIGNATURE_CACHE_LIMIT = 512;
const goodSignatures = new Set<string>();

function verifiedBy(cert: ParsedCert, issuer: ParsedCert | undefined, key: () => KeyObject): boolean {
  const id = issuer ? `${cert.fingerprint} ${issuer.fingerprint}` : undefined;
  if (id !== undefined && goodSignatures.delete(id)) {
    goodSignatures.add(id);
    return true;
  }
  let good = false;
  try {
    good = cert.x509.verify(key());
  } catch {
    good = false;
  }
  if (good && id !== undefined) {
    goodSignatures.add(id);
    if (goodSignatures.size > SIGNATURE_CACHE_LIMIT) {
      const oldest = goodSignatures.values().next();
      if (!oldest.done) goodSignatures.delete(oldest.value);
    }
  }
  return good;
}

function issuerKey(path: CandidatePath, depth: number): KeyObject {
  const issuer = path.certs[depth + 1];
  if (issuer) return issuer.x509.publicKey;
  if ("publicKey" in path.anchor) return path.anchor.publicKey;
  return path.anchor.cert.publicKey;
}

// §6.1.3 (a)(2): the validity period includes the validation time.
function checkValidity(cert: ParsedCert, depth: number, at: Date): Step {
  if (at.getTime() < cert.notBefore.getTime()) {
    return fail("not-yet-valid", `${cert.subject.text} is valid from ${cert.notBefore.toISOString()}`, depth);
  }
  if (at.getTime() > cert.notAfter.getTime()) {
    return fail("expired", `${cert.subject.text} expired ${cert.notAfter.toISOString()}`, depth);
  }
  return undefined;
}

// §6.1.3 (a)(3): not revoked at the validation time (§6.3), when revocation data was supplied.
function checkRevocationStep(path: CandidatePath, depth: number, input: ChainInput, at: Date): Step {
  if (!input.crls || input.crls.length === 0) return undefined;
  const cert = path.certs[depth] as ParsedCert;
  if (input.crlCoverage === "issuers-with-crl" && !input.crls.some((c) => c.issuer.key === cert.issuer.key))
    return undefined;
  const issuer = path.certs[depth + 1];
  const signer = issuer
    ? { publicKey: issuer.x509.publicKey, keyUsage: issuer.keyUsage }
    : { publicKey: issuerKey(path, depth) };
  const verdict = checkRevocation(cert, depth > 0, signer, input.crls, at);
  if (verdict.ok) return undefined;
  const failure = fail(verdict.code, verdict.detail, depth);
  if (verdict.reason !== undefined) failure.reason = verdict.reason;
  return failure;
}

// §6.1.3 (b)–(c): names of the certificate lie within every superior CA's permitted subtrees and outside its
// excluded subtrees; a self-issued intermediate is exempt.
function checkNames(path: CandidatePath, depth: number): Step {
  const cert = path.certs[depth] as ParsedCert;
  if (depth > 0 && cert.selfIssued) return undefined;
  for (let j = path.certs.length - 1; j > depth; j--) {
    const ca = path.certs[j] as ParsedCert;
    if (!ca.nameConstraints) continue;
    const verdict = checkNameConstraints(cert, ca.nameConstraints, depth === 0);
    if (!verdict.ok)
      return fail("name-constraint", `${verdict.detail} (constraints of ${ca.subject.text})`, depth);
  }
  return undefined;
}

/** Extensions this implementation processes (§6.1.4 (o), §4.2: an unrecognised critical extension fails). */
const HANDLED_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.issuerAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.authorityKeyIdentifier,
  OID.subjectKeyIdentifier,
  OID.crlDistributionPoints,
  OID.authorityInfoAccess,
]);

function checkCriticalExtensions(cert: ParsedCert, depth: number): Step {
  const unknown = cert.extensions
    .filter((e) => e.critical && !HANDLED_EXTENSIONS.has(e.oid))
    .map((e) => e.oid);
  if (unknown.length === 0) return undefined;
  return fail(
    "unhandled-critical-extension",
    `${cert.subject.text} has critical extension ${unknown.join(", ")}`,
    depth,
  );
}

/** §6.1.4 (k), (l)–(m), (n): certificate `depth` (> 0) acting as issuer of the certificates below it. */
function checkIssuerRole(path: CandidatePath, depth: number): Step {
  const ca = path.certs[depth] as ParsedCert;
  // (k): basicConstraints present with cA TRUE (a v1/v2 certificate cannot be an intermediate).
  if (!ca.basicConstraints?.cA) {
    return fail(
      "not-a-ca",
      `${ca.subject.text} issued a certificate but is not a CA (basicConstraints cA)`,
      depth,
    );
  }
  // (n): keyUsage, when present, must assert keyCertSign.
  if (ca.keyUsage && !ca.keyUsage.has(KEY_USAGE_BIT.keyCertSign)) {
    return fail("key-usage", `${ca.subject.text} keyUsage lacks keyCertSign`, depth);
  }
  return checkPathLength(path, depth, ca);
}

// (l)–(m): pathLenConstraint bounds the non-self-issued intermediates below this CA.
function checkPathLength(path: CandidatePath, depth: number, ca: ParsedCert): Step {
  const limit = ca.basicConstraints?.pathLen;
  if (limit === undefined) return undefined;
  const below = path.certs.slice(1, depth).filter((c) => !c.selfIssued).length;
  if (below <= limit) return undefined;
  return fail(
    "path-too-long",
    `${ca.subject.text} allows ${limit} intermediate(s) below it, path has ${below}`,
    depth,
  );
}

// RFC 5924 §4 (not OpenSSL's purpose check): the leaf's EKU must suit the TLS role.
function checkPurpose(path: CandidatePath, input: ChainInput): Step {
  if (input.purpose === undefined || input.purpose === "any") return undefined;
  const leaf = path.certs[0] as ParsedCert;
  const verdict = checkSipEku(leaf.x509, input.purpose);
  if (verdict.ok) return undefined;
  return fail("eku", `${verdict.code}: ${verdict.detail}`, 0);
}
