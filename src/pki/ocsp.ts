/**
 * Validation of an OCSP response for one certificate, RFC 6960 §3.2 and §4.2.2.2, synchronous and pure.
 *
 * A response is accepted only when, in this order:
 * - it is an OCSPResponse with status successful and a BasicOCSPResponse (else ocsp-responder-error /
 *   ocsp-malformed);
 * - its signer is authorised (§4.2.2.2): the issuer of the certificate itself, or a delegated responder
 *   whose certificate is in the response, was issued (and signed) directly by that issuer, carries
 *   id-kp-OCSPSigning in its EKU, is within its validity period and, when it has keyUsage, digitalSignature
 *   (else ocsp-unauthorized-responder). "Local trusted responders" (§4.2.2.2 first bullet) are not supported;
 * - the signature over ResponseData verifies with that signer's key (§3.2 item 2; else ocsp-bad-signature);
 * - a SingleResponse names this certificate (CertID recomputed with the response's own hash, §3.2 item 1;
 *   else ocsp-certid-mismatch);
 * - no unrecognised critical extension is present (§4.4: else ocsp-critical-extension);
 * - a nonce in the response equals the one we sent, and one is present when `requireNonce` (RFC 8954 §2.1;
 *   else ocsp-nonce-mismatch);
 * - thisUpdate / producedAt are not in the future and nextUpdate is not in the past, each with a clock-skew
 *   allowance (§3.2 items 5–6; else ocsp-not-yet-valid / ocsp-stale). Without nextUpdate, thisUpdate must
 *   be younger than `maxAgeMs` (§4.2.2.1: "newer revocation information is available all the time").
 *
 * Revocation of a delegated responder certificate is not checked (§4.2.2.2.1 leaves it to the CA:
 * id-pkix-ocsp-nocheck or short lifetimes).
 */
import { createHash, type X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { DerError, readChildren, readElement } from "./der.js";
import { decodeOid } from "./extensions.js";
import { octetString } from "./der-writer.js";
import { readExtendedKeyUsage } from "./eku.js";
import { parseCert } from "./parsed-cert.js";
import { verifySignature } from "./signature.js";
import {
  OID_OCSP_NONCE,
  certIdEquals,
  certificateFields,
  computeCertId,
  subjectPublicKeyBits,
} from "./ocsp-request.js";
import {
  OcspParseError,
  parseOcspResponse,
  type BasicOcspResponse,
  type CertStatus,
  type OcspResponse,
  type SingleOcspResponse,
} from "./ocsp-response.js";

export * from "./ocsp-request.js";
export * from "./ocsp-response.js";

export type OcspErrorCode =
  | "ocsp-malformed"
  | "ocsp-responder-error"
  | "ocsp-unauthorized-responder"
  | "ocsp-bad-signature"
  | "ocsp-certid-mismatch"
  | "ocsp-critical-extension"
  | "ocsp-nonce-mismatch"
  | "ocsp-not-yet-valid"
  | "ocsp-stale";

export interface OcspValidationInput {
  /** The DER of the OCSPResponse, or an already decoded one. */
  readonly response: Buffer | OcspResponse;
  readonly cert: X509Certificate;
  readonly issuer: X509Certificate;
  /** Validation time; default now. */
  readonly at?: Date;
  /** Allowance for clocks that differ between us and the responder. Default 5 minutes. */
  readonly clockSkewMs?: number;
  /** Oldest acceptable thisUpdate when the response has no nextUpdate. Default 1 hour. */
  readonly maxAgeMs?: number;
  /** Raw nonce octets sent in the request; a nonce in the response must equal them. Omit for staples. */
  readonly nonce?: Buffer;
  /**
   * Also refuse a response that carries no nonce. Default false: responders that pre-produce responses
   * (RFC 5019 §2.2, most public CAs) ignore nonces, and freshness then rests on the time window, exactly as
   * for a stapled response.
   */
  readonly requireNonce?: boolean;
}

export type OcspValidation =
  | {
      readonly ok: true;
      readonly code: `ocsp-${CertStatus}`;
      readonly status: CertStatus;
      readonly thisUpdate: Date;
      readonly nextUpdate?: Date;
      readonly producedAt: Date;
      readonly revocationTime?: Date;
      readonly revocationReason?: string;
      /** Who signed: the certificate's issuer, or a delegated responder certificate. */
      readonly signer: "issuer" | "delegated";
      readonly responderCertificate?: X509Certificate;
    }
  | { readonly ok: false; readonly code: OcspErrorCode; readonly detail: string };

export type OcspFailure = Extract<OcspValidation, { ok: false }>;

/** RFC 6960 §4.2.2.2: id-kp-OCSPSigning. */
export const OID_KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";

export const DEFAULT_OCSP_CLOCK_SKEW_MS = 5 * 60_000;
export const DEFAULT_OCSP_MAX_AGE_MS = 60 * 60_000;

/** Extensions this implementation understands (RFC 6960 §4.4: an unrecognised critical one fails). */
const UNDERSTOOD_EXTENSIONS = new Set([OID_OCSP_NONCE]);

/** Validates `input.response` as the status of `input.cert` (issued by `input.issuer`). Never throws. */
export function validateOcspResponse(input: OcspValidationInput): OcspValidation {
  let response: OcspResponse;
  try {
    response = Buffer.isBuffer(input.response) ? parseOcspResponse(input.response) : input.response;
  } catch (err) {
    return fail("ocsp-malformed", (err as Error).message);
  }
  if (!response.basic) return fail("ocsp-responder-error", `responder answered "${response.status}"`);
  try {
    return validateBasic(response.basic, input);
  } catch (err) {
    if (err instanceof DerError || err instanceof OcspParseError) return fail("ocsp-malformed", err.message);
    throw err;
  }
}

function validateBasic(basic: BasicOcspResponse, input: OcspValidationInput): OcspValidation {
  const at = input.at ?? new Date();
  const skew = input.clockSkewMs ?? DEFAULT_OCSP_CLOCK_SKEW_MS;
  const signer = findSigner(basic, input.issuer, at, skew);
  if ("code" in signer) return signer;
  const signature = checkSignature(basic, signer.cert);
  if (signature) return signature;
  const single = findSingle(basic, input.cert, input.issuer);
  if ("code" in single) return single;
  const failure =
    checkCriticalExtensions(basic, single) ??
    checkNonce(basic, input.nonce, input.requireNonce ?? false) ??
    checkTimes(basic, single, at, skew, input.maxAgeMs ?? DEFAULT_OCSP_MAX_AGE_MS);
  if (failure) return failure;
  return {
    ok: true,
    code: `ocsp-${single.status}`,
    status: single.status,
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    producedAt: basic.producedAt,
    ...(single.revocationTime ? { revocationTime: single.revocationTime } : {}),
    ...(single.revocationReason ? { revocationReason: single.revocationReason } : {}),
    signer: signer.delegated ? "delegated" : "issuer",
    ...(signer.delegated ? { responderCertificate: signer.cert } : {}),
  };
}

function fail(code: OcspErrorCode, detail: string): OcspFailure {
  return { ok: false, code, detail };
}

type Signer = { cert: X509Certificate; delegated: boolean } | OcspFailure;

// §4.2.2.2: the responder is the issuer itself, or a certificate in the response that the issuer authorised.
function findSigner(basic: BasicOcspResponse, issuer: X509Certificate, at: Date, skew: number): Signer {
  if (responderIdMatches(basic, issuer)) return { cert: issuer, delegated: false };
  const named = basic.certs.filter((c) => responderIdMatches(basic, c));
  if (named.length === 0) {
    return fail(
      "ocsp-unauthorized-responder",
      "the responder is not the issuer and its certificate is not in the response",
    );
  }
  let firstProblem = "";
  for (const candidate of named) {
    const problem = delegationProblem(candidate, issuer, at, skew);
    if (problem === undefined) return { cert: candidate, delegated: true };
    firstProblem ||= problem;
  }
  return fail("ocsp-unauthorized-responder", firstProblem);
}

// ResponderID byName is compared byte for byte with the subject; byKey is the SHA-1 of the subjectPublicKey
// BIT STRING value (RFC 6960 §4.2.1 KeyHash).
function responderIdMatches(basic: BasicOcspResponse, cert: X509Certificate): boolean {
  const id = basic.responderId;
  if ("byName" in id) return id.byName.equals(certificateFields(cert.raw).subject.whole);
  return id.byKey.equals(createHash("sha1").update(subjectPublicKeyBits(cert.raw)).digest());
}

/** Why `candidate` may not answer for certificates of `issuer`, or undefined when it may (§4.2.2.2). */
function delegationProblem(
  candidate: X509Certificate,
  issuer: X509Certificate,
  at: Date,
  skew: number,
): string | undefined {
  const who = `responder certificate "${candidate.subject.replace(/\n/g, ", ")}"`;
  // "MUST be issued directly by the CA that is identified in the request"
  if (!candidate.checkIssued(issuer) || !safeVerify(candidate, issuer))
    return `${who} was not issued by the issuer`;
  let eku: string[] | undefined;
  try {
    eku = readExtendedKeyUsage(candidate);
  } catch (err) {
    return `${who} has an unreadable EKU: ${(err as Error).message}`;
  }
  // "... by the inclusion of a value of id-kp-OCSPSigning in extended key usage"
  if (!eku?.includes(OID_KP_OCSP_SIGNING)) return `${who} lacks id-kp-OCSPSigning`;
  const keyUsage = parseCert(candidate).keyUsage;
  if (keyUsage && !keyUsage.has(0)) return `${who} keyUsage lacks digitalSignature`;
  const from = Date.parse(candidate.validFrom);
  const to = Date.parse(candidate.validTo);
  if (at.getTime() + skew < from || at.getTime() - skew > to) return `${who} is outside its validity period`;
  return undefined;
}

// The signatureAlgorithm is outside the signed data: only RSASSA-PSS may carry parameters; the others have
// none or NULL (RFC 4055 §5, RFC 5758 §3.2, RFC 8410 §3), so nothing unsigned can ride along.
function unexpectedParameters(algorithmDer: Buffer): string | undefined {
  const [algOid, params, ...more] = readChildren(readElement(algorithmDer).value);
  if (!algOid || algOid.tag !== 0x06) return "signatureAlgorithm has no OID";
  if (more.length > 0) return "signatureAlgorithm has extra fields";
  if (!params || decodeOid(algOid.value) === OID_RSASSA_PSS) return undefined;
  if (params.tag === 0x05 && params.value.length === 0) return undefined;
  return "signatureAlgorithm carries unexpected parameters";
}

const OID_RSASSA_PSS = "1.2.840.113549.1.1.10";

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

// §3.2 item 2 / §4.2.1: the signature is computed over the DER of ResponseData.
function checkSignature(basic: BasicOcspResponse, signer: X509Certificate): OcspFailure | undefined {
  const params = unexpectedParameters(basic.signatureAlgorithm);
  if (params) return fail("ocsp-malformed", params);
  let algorithm: pkijs.AlgorithmIdentifier;
  try {
    const asn = asn1js.fromBER(new Uint8Array(basic.signatureAlgorithm));
    if (asn.offset === -1) return fail("ocsp-malformed", "signatureAlgorithm undecodable");
    algorithm = new pkijs.AlgorithmIdentifier({ schema: asn.result });
  } catch (err) {
    return fail("ocsp-malformed", `signatureAlgorithm: ${(err as Error).message}`);
  }
  const verdict = verifySignature(basic.tbsResponseData, algorithm, basic.signature, signer.publicKey);
  return verdict.ok ? undefined : fail("ocsp-bad-signature", verdict.detail);
}

// §3.2 item 1: the response must be about the certificate we asked about; the CertID is recomputed with
// the hash the responder chose.
function findSingle(
  basic: BasicOcspResponse,
  cert: X509Certificate,
  issuer: X509Certificate,
): SingleOcspResponse | OcspFailure {
  for (const single of basic.responses) {
    if (!single.certId) continue;
    if (certIdEquals(single.certId, computeCertId(cert, issuer, single.certId.hash))) return single;
  }
  const hashes = [...new Set(basic.responses.map((r) => r.hashOid))].join(", ");
  return fail(
    "ocsp-certid-mismatch",
    `none of the ${basic.responses.length} single response(s) names serial ${cert.serialNumber} (CertID hash ${hashes})`,
  );
}

function checkCriticalExtensions(
  basic: BasicOcspResponse,
  single: SingleOcspResponse,
): OcspFailure | undefined {
  const unknown = [...basic.extensions, ...single.extensions].filter(
    (e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.oid),
  );
  if (unknown.length === 0) return undefined;
  return fail(
    "ocsp-critical-extension",
    `unrecognised critical extension ${unknown.map((e) => e.oid).join(", ")}`,
  );
}

// RFC 8954 §2.1: extnValue is the DER of an OCTET STRING holding the nonce; some responders echo the bare
// octets instead, which proves freshness just as well.
function checkNonce(
  basic: BasicOcspResponse,
  sent: Buffer | undefined,
  required: boolean,
): OcspFailure | undefined {
  if (!sent) return undefined;
  const got = basic.nonce;
  if (!got) {
    return required
      ? fail("ocsp-nonce-mismatch", "the response carries no nonce, a nonce was sent")
      : undefined;
  }
  if (got.equals(octetString(sent)) || got.equals(sent)) return undefined;
  return fail("ocsp-nonce-mismatch", "the response's nonce differs from the one sent");
}

// §3.2 items 5–6 and §4.2.2.1.
function checkTimes(
  basic: BasicOcspResponse,
  single: SingleOcspResponse,
  at: Date,
  skew: number,
  maxAgeMs: number,
): OcspFailure | undefined {
  const now = at.getTime();
  for (const [what, when] of [
    ["thisUpdate", single.thisUpdate],
    ["producedAt", basic.producedAt],
  ] as const) {
    if (when.getTime() > now + skew) {
      return fail("ocsp-not-yet-valid", `${what} ${when.toISOString()} is after ${at.toISOString()}`);
    }
  }
  if (single.nextUpdate) {
    if (single.nextUpdate.getTime() < now - skew) {
      return fail(
        "ocsp-stale",
        `nextUpdate ${single.nextUpdate.toISOString()} has passed (${at.toISOString()})`,
      );
    }
    return undefined;
  }
  if (single.thisUpdate.getTime() < now - skew - maxAgeMs) {
    return fail(
      "ocsp-stale",
      `no nextUpdate and thisUpdate ${single.thisUpdate.toISOString()} is older than ${maxAgeMs} ms`,
    );
  }
  return undefined;
}
