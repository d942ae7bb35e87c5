/**
 * Revocation checking of a peer certificate by OCSP (DESIGN.md "Revocation and reload"): the stapled
 * response first (RFC 6066 §8, TLS client side), the responder named in the certificate's AIA second
 * (RFC 6960, also used for client certificates, which carry no staple), then the operator's policy:
 *
 * | outcome                                                    | off    | soft-fail | hard-fail |
 * | ---------------------------------------------------------- | ------ | --------- | --------- |
 * | good                                                       | accept | accept    | accept    |
 * | revoked                                                    | accept | reject    | reject    |
 * | unknown                                                    | accept | reject    | reject    |
 * | unreachable: no responder URL, no issuer, network error, timeout, HTTP error, responseStatus ≠ successful | accept | accept | reject |
 * | invalid: bad signature, unauthorized responder, stale / not yet valid, CertID or nonce mismatch, malformed | accept | accept | reject |
 *
 * `off` checks nothing. "unknown" is rejected also under soft-fail: it is a signed statement by the
 * issuer's responder that it does not know the certificate (RFC 6960 §2.2) — the signature of a
 * mis-issued certificate — not a failure to get an answer. An invalid response is treated like no answer
 * under soft-fail because whoever can block the responder can also send garbage; soft-fail is explicitly the
 * availability-first choice, and every soft-failed check says why in `cause`.
 */
import { randomBytes, type X509Certificate } from "node:crypto";
import { DerError } from "../pki/der.js";
import {
  buildOcspRequest,
  ocspResponderUrls,
  validateOcspResponse,
  type CertIdHash,
  type OcspValidation,
} from "../pki/ocsp.js";
import { fetchOcspResponse, type OcspFetcher } from "./ocsp-fetch.js";

export type OcspPolicyMode = "off" | "soft-fail" | "hard-fail";
export type OcspOutcome = "good" | "revoked" | "unknown" | "unreachable" | "invalid";
export type OcspSource = "staple" | "responder" | "cache" | "none";

/** The table of the module comment, as data (used by decide() and shown by `check`). */
export const OCSP_POLICY: Readonly<
  Record<OcspPolicyMode, Readonly<Record<OcspOutcome, "accept" | "reject">>>
> = {
  off: { good: "accept", revoked: "accept", unknown: "accept", unreachable: "accept", invalid: "accept" },
  "soft-fail": {
    good: "accept",
    revoked: "reject",
    unknown: "reject",
    unreachable: "accept",
    invalid: "accept",
  },
  "hard-fail": {
    good: "accept",
    revoked: "reject",
    unknown: "reject",
    unreachable: "reject",
    invalid: "reject",
  },
};

export interface OcspCheckInput {
  readonly cert: X509Certificate;
  /** The certificate's issuer from the validated chain; undefined counts as "unreachable" (no CertID). */
  readonly issuer: X509Certificate | undefined;
  readonly mode: OcspPolicyMode;
  /** The response the server stapled (tls 'OCSPResponse' event), if any. */
  readonly stapled?: Buffer;
  /** Ask the responder when the staple does not settle it. Default true. */
  readonly useResponder?: boolean;
  /** Operator-configured responder URL; default: the certificate's AIA id-ad-ocsp URLs. */
  readonly responderUrl?: string;
  readonly fetch?: OcspFetcher;
  readonly timeoutMs?: number;
  readonly hash?: CertIdHash;
  /** Send a nonce to the responder (RFC 8954); an echoed nonce must match. Default true. */
  readonly useNonce?: boolean;
  /** Refuse responder answers without the nonce (see pki/ocsp.ts). Default false. */
  readonly requireNonce?: boolean;
  readonly at?: Date;
  readonly clockSkewMs?: number;
  readonly maxAgeMs?: number;
  readonly cache?: OcspResponseCache;
}

export type OcspCheckCode =
  "ocsp-off" | "ocsp-good" | "ocsp-soft-fail" | "ocsp-revoked" | "ocsp-unknown" | OcspEvidenceFailureCode;

type OcspEvidenceFailureCode =
  | Extract<OcspValidation, { ok: false }>["code"]
  | "ocsp-no-issuer"
  | "ocsp-no-responder"
  | "ocsp-bad-url"
  | "ocsp-unreachable"
  | "ocsp-timeout"
  | "ocsp-http-error"
  | "ocsp-too-large";

export type OcspCheckResult =
  | {
      readonly ok: true;
      readonly code: "ocsp-off" | "ocsp-good" | "ocsp-soft-fail";
      readonly outcome?: OcspOutcome;
      readonly source: OcspSource;
      /** For ocsp-soft-fail: the failure that was tolerated. */
      readonly cause?: OcspEvidenceFailureCode;
      readonly detail: string;
      readonly validation?: Extract<OcspValidation, { ok: true }>;
    }
  | {
      readonly ok: false;
      readonly code: Exclude<OcspCheckCode, "ocsp-off" | "ocsp-good" | "ocsp-soft-fail">;
      readonly outcome: OcspOutcome;
      readonly source: OcspSource;
      readonly detail: string;
      readonly validation?: Extract<OcspValidation, { ok: true }>;
    };

/** What the staple / responder told us, before the policy is applied. */
type Evidence =
  | { kind: "answer"; source: OcspSource; validation: Extract<OcspValidation, { ok: true }> }
  | { kind: "unreachable" | "invalid"; source: OcspSource; code: OcspEvidenceFailureCode; detail: string };

const MAX_RESPONDER_URLS = 3;

/** Checks `input.cert` by OCSP and applies `input.mode`. Never rejects. */
export async function checkOcsp(input: OcspCheckInput): Promise<OcspCheckResult> {
  if (input.mode === "off")
    return { ok: true, code: "ocsp-off", source: "none", detail: "OCSP checking is off" };
  return decideOcsp(input.mode, await gatherEvidence(input));
}

async function gatherEvidence(input: OcspCheckInput): Promise<Evidence> {
  const issuer = input.issuer;
  if (!issuer) return unreachable("none", "ocsp-no-issuer", "the issuer certificate is not in the chain");
  let staple: Evidence | undefined;
  if (input.stapled) {
    staple = fromValidation("staple", validate(input, issuer, input.stapled));
    if (staple.kind === "answer") return staple;
  }
  const cached = fromCache(input, issuer);
  if (cached) return cached;
  if (input.useResponder === false) {
    return (
      staple ?? unreachable("none", "ocsp-no-responder", "no staple, and asking the responder is disabled")
    );
  }
  const fetched = await askResponders(input, issuer);
  return staple ? withStapleNote(fetched, staple) : fetched;
}

function fromCache(input: OcspCheckInput, issuer: X509Certificate): Evidence | undefined {
  const der = input.cache?.get(input.cert, issuer);
  if (!der) return undefined;
  const evidence = fromValidation("cache", validate(input, issuer, der));
  if (evidence.kind === "answer") return evidence;
  input.cache?.delete(input.cert, issuer); // expired since it was stored
  return undefined;
}

async function askResponders(input: OcspCheckInput, issuer: X509Certificate): Promise<Evidence> {
  let urls: string[];
  try {
    urls = input.responderUrl ? [input.responderUrl] : ocspResponderUrls(input.cert);
  } catch (err) {
    if (!(err instanceof DerError)) throw err;
    return invalid("none", "ocsp-malformed", `authorityInfoAccess unreadable: ${err.message}`);
  }
  if (urls.length === 0)
    return unreachable("none", "ocsp-no-responder", "the certificate names no OCSP responder");
  let last: Evidence | undefined;
  for (const url of urls.slice(0, MAX_RESPONDER_URLS)) {
    last = await askResponder(input, issuer, url);
    if (last.kind === "answer") return last;
  }
  return last as Evidence;
}

async function askResponder(input: OcspCheckInput, issuer: X509Certificate, url: string): Promise<Evidence> {
  const nonce = input.useNonce === false ? undefined : randomBytes(16);
  const request = buildOcspRequest({ cert: input.cert, issuer, hash: input.hash ?? "sha1", nonce });
  const fetch = input.fetch ?? fetchOcspResponse;
  const reply = await fetch({ url, body: request.der, timeoutMs: input.timeoutMs });
  if (!reply.ok) {
    const kind = reply.code === "ocsp-too-large" || reply.code === "ocsp-bad-url" ? "invalid" : "unreachable";
    return { kind, source: "responder", code: reply.code, detail: `${url}: ${reply.detail}` };
  }
  const evidence = fromValidation("responder", validate(input, issuer, reply.body, nonce));
  if (evidence.kind === "answer") input.cache?.set(input.cert, issuer, reply.body);
  return evidence.kind === "answer" ? evidence : { ...evidence, detail: `${url}: ${evidence.detail}` };
}

function validate(
  input: OcspCheckInput,
  issuer: X509Certificate,
  der: Buffer,
  nonce?: Buffer,
): OcspValidation {
  return validateOcspResponse({
    response: der,
    cert: input.cert,
    issuer,
    ...(input.at ? { at: input.at } : {}),
    ...(input.clockSkewMs !== undefined ? { clockSkewMs: input.clockSkewMs } : {}),
    ...(input.maxAgeMs !== undefined ? { maxAgeMs: input.maxAgeMs } : {}),
    ...(nonce ? { nonce, requireNonce: input.requireNonce ?? false } : {}),
  });
}

function fromValidation(source: OcspSource, v: OcspValidation): Evidence {
  if (v.ok) return { kind: "answer", source, validation: v };
  // A responder that answers tryLater/internalError is up but gives no status: same as no answer.
  const kind = v.code === "ocsp-responder-error" ? "unreachable" : "invalid";
  return { kind, source, code: v.code, detail: `${source}: ${v.detail}` };
}

function withStapleNote(evidence: Evidence, staple: Evidence): Evidence {
  if (evidence.kind === "answer" || staple.kind === "answer") return evidence;
  return { ...evidence, detail: `${evidence.detail} (after stapled response rejected: ${staple.code})` };
}

function unreachable(source: OcspSource, code: OcspEvidenceFailureCode, detail: string): Evidence {
  return { kind: "unreachable", source, code, detail };
}

function invalid(source: OcspSource, code: OcspEvidenceFailureCode, detail: string): Evidence {
  return { kind: "invalid", source, code, detail };
}

/** Applies the policy table to what was found. */
function decideOcsp(mode: Exclude<OcspPolicyMode, "off">, evidence: Evidence): OcspCheckResult {
  if (evidence.kind === "answer") return decideAnswer(mode, evidence);
  const outcome = evidence.kind;
  if (OCSP_POLICY[mode][outcome] === "accept") {
    return {
      ok: true,
      code: "ocsp-soft-fail",
      outcome,
      source: evidence.source,
      cause: evidence.code,
      detail: `accepted without revocation status (${mode}): ${evidence.detail}`,
    };
  }
  return { ok: false, code: evidence.code, outcome, source: evidence.source, detail: evidence.detail };
}

function decideAnswer(mode: Exclude<OcspPolicyMode, "off">, evidence: Extract<Evidence, { kind: "answer" }>) {
  const v = evidence.validation;
  const outcome: OcspOutcome = v.status;
  const base = { outcome, source: evidence.source, validation: v };
  if (OCSP_POLICY[mode][outcome] === "accept") {
    return {
      ok: true as const,
      code: "ocsp-good" as const,
      ...base,
      detail: `status good (${evidence.source})`,
    };
  }
  const detail =
    v.status === "revoked"
      ? `revoked at ${v.revocationTime?.toISOString() ?? "?"}${v.revocationReason ? ` (${v.revocationReason})` : ""}`
      : "the responder does not know this certificate";
  return { ok: false as const, code: `ocsp-${v.status}` as "ocsp-revoked" | "ocsp-unknown", ...base, detail };
}

/**
 * Validated responder answers kept until they go stale, keyed by certificate and issuer, so that every
 * connection from the same peer does not cost a responder round trip. Bounded: the oldest entry goes first.
 */
export class OcspResponseCache {
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 10_000) {}

  get(cert: X509Certificate, issuer: X509Certificate): Buffer | undefined {
    return this.entries.get(key(cert, issuer));
  }

  set(cert: X509Certificate, issuer: X509Certificate, der: Buffer): void {
    const k = key(cert, issuer);
    this.entries.delete(k);
    this.entries.set(k, der);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(cert: X509Certificate, issuer: X509Certificate): void {
    this.entries.delete(key(cert, issuer));
  }

  get size(): number {
    return this.entries.size;
  }
}

function key(cert: X509Certificate, issuer: X509Certificate): string {
  return `${cert.fingerprint256}/${issuer.fingerprint256}`;
}
