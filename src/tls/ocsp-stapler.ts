/**
 * OCSP stapling for our own server certificates (RFC 6066 §8 status_request; DESIGN.md "Revocation and
 * reload"): fetch each certificate's status from the responder in its AIA, validate it like a client would
 * (pki/ocsp.ts), keep it, refresh it well before nextUpdate, and hand it to OpenSSL through Node's
 * 'OCSPRequest' server event. A response is served only while it is fresh; after a failed refresh the old
 * one keeps being served until it goes stale, and the refresh is retried with backoff.
 */
import { createHash, randomBytes, type X509Certificate } from "node:crypto";
import type * as tls from "node:tls";
import { parseCertificates } from "../pki/load.js";
import {
  DEFAULT_OCSP_MAX_AGE_MS,
  buildOcspRequest,
  ocspResponderUrls,
  validateOcspResponse,
  type CertIdHash,
  type OcspValidation,
} from "../pki/ocsp.js";
import { fetchOcspResponse, type OcspFetcher } from "./ocsp-fetch.js";

export interface OcspStaplerOptions {
  readonly fetch?: OcspFetcher;
  readonly now?: () => Date;
  readonly hash?: CertIdHash;
  readonly timeoutMs?: number;
  /** Refresh when this fraction of [thisUpdate, nextUpdate] has passed. Default 0.5. */
  readonly refreshFraction?: number;
  /** Refresh interval for responses without nextUpdate. Default 30 minutes (half the default max age). */
  readonly refreshWithoutNextUpdateMs?: number;
  /** Never refresh more often than this. Default 10 s. */
  readonly minRefreshMs?: number;
  /** First retry delay after a failed refresh, doubled per failure up to maxRetryMs. Default 30 s / 1 h. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Called for every refresh outcome, for logs and metrics. */
  readonly onEvent?: (event: StaplerEvent) => void;
}

export type StaplerEvent =
  | {
      readonly type: "refreshed";
      readonly subject: string;
      readonly status: string;
      readonly nextUpdate?: Date;
    }
  | {
      readonly type: "refresh-failed";
      readonly subject: string;
      readonly code: string;
      readonly detail: string;
    };

export interface StapleState {
  readonly subject: string;
  readonly responderUrl?: string;
  /** Status of the response being served, or undefined when none is. */
  readonly status?: "good" | "revoked" | "unknown";
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly lastError?: { readonly code: string; readonly detail: string; readonly at: Date };
  readonly nextRefresh?: Date;
}

interface Entry {
  readonly cert: X509Certificate;
  readonly issuer: X509Certificate;
  readonly responderUrl?: string;
  response?: { der: Buffer; validation: Extract<OcspValidation, { ok: true }>; expires: number };
  lastError?: { code: string; detail: string; at: Date };
  failures: number;
  timer?: NodeJS.Timeout;
  nextRefresh?: Date;
}

export class OcspStaplerError extends Error {
  override readonly name = "OcspStaplerError";
  constructor(
    readonly code: "no-issuer" | "no-responder",
    message: string,
  ) {
    super(message);
  }
}

export class OcspStapler {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly options: OcspStaplerOptions = {}) {}

  /** Registers a certificate to staple. Throws OcspStaplerError when no responder URL is known. */
  add(cert: X509Certificate, issuer: X509Certificate, responderUrl?: string): void {
    const url = responderUrl ?? ocspResponderUrls(cert)[0];
    if (!url) throw new OcspStaplerError("no-responder", `${cert.subject} names no OCSP responder (AIA)`);
    this.entries.set(derKey(cert.raw), { cert, issuer, responderUrl: url, failures: 0 });
  }

  /**
   * Registers a server credential (server-profile.ts): its PEM chain must hold the issuer unless `issuer`
   * is given (the issuer is needed for the CertID, RFC 6960 §4.1.1).
   */
  addCredential(
    credential: { readonly certificate: X509Certificate; readonly contextOptions: tls.SecureContextOptions },
    issuer?: X509Certificate,
  ): void {
    const found = issuer ?? issuerInChain(credential.certificate, credential.contextOptions.cert);
    if (!found) {
      throw new OcspStaplerError(
        "no-issuer",
        `the issuer of ${credential.certificate.subject} is not in its chain`,
      );
    }
    this.add(credential.certificate, found);
  }

  /** Fetches every registered certificate's status now and schedules the refreshes. */
  async start(): Promise<StapleState[]> {
    this.stopped = false;
    await Promise.all([...this.entries.values()].map((e) => this.refresh(e)));
    return this.states();
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }

  /** Serves staples on `server` (only to clients that asked: RFC 6066 §8 status_request). */
  attach(server: tls.Server): void {
    server.on("OCSPRequest", (certificate, _issuer, callback) => {
      callback(null, this.responseFor(certificate) ?? null);
    });
  }

  /** The fresh response for the certificate with this DER, if there is one. */
  responseFor(certDer: Buffer): Buffer | undefined {
    const entry = this.entries.get(derKey(certDer));
    const response = entry?.response;
    if (!response || this.now().getTime() > response.expires) return undefined;
    return response.der;
  }

  states(): StapleState[] {
    return [...this.entries.values()].map((e) => ({
      subject: e.cert.subject,
      ...(e.responderUrl ? { responderUrl: e.responderUrl } : {}),
      ...(e.response
        ? {
            status: e.response.validation.status,
            thisUpdate: e.response.validation.thisUpdate,
            ...(e.response.validation.nextUpdate ? { nextUpdate: e.response.validation.nextUpdate } : {}),
          }
        : {}),
      ...(e.lastError ? { lastError: e.lastError } : {}),
      ...(e.nextRefresh ? { nextRefresh: e.nextRefresh } : {}),
    }));
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async refresh(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    const outcome = await this.fetchAndValidate(entry);
    if (outcome.ok) {
      entry.response = {
        der: outcome.der,
        validation: outcome.validation,
        expires: expiry(outcome.validation),
      };
      entry.failures = 0;
      delete entry.lastError;
      this.emit({
        type: "refreshed",
        subject: entry.cert.subject,
        status: outcome.validation.status,
        ...(outcome.validation.nextUpdate ? { nextUpdate: outcome.validation.nextUpdate } : {}),
      });
    } else {
      entry.failures += 1;
      entry.lastError = { code: outcome.code, detail: outcome.detail, at: this.now() };
      this.emit({ type: "refresh-failed", subject: entry.cert.subject, ...outcome });
    }
    this.schedule(entry, outcome.ok ? this.delayAfterSuccess(entry) : this.delayAfterFailure(entry));
  }

  private async fetchAndValidate(
    entry: Entry,
  ): Promise<
    | { ok: true; der: Buffer; validation: Extract<OcspValidation, { ok: true }> }
    | { ok: false; code: string; detail: string }
  > {
    const nonce = randomBytes(16);
    const request = buildOcspRequest({
      cert: entry.cert,
      issuer: entry.issuer,
      hash: this.options.hash,
      nonce,
    });
    const fetch = this.options.fetch ?? fetchOcspResponse;
    const reply = await fetch({
      url: entry.responderUrl ?? "",
      body: request.der,
      timeoutMs: this.options.timeoutMs,
    });
    if (!reply.ok) return { ok: false, code: reply.code, detail: reply.detail };
    const validation = validateOcspResponse({
      response: reply.body,
      cert: entry.cert,
      issuer: entry.issuer,
      at: this.now(),
      nonce,
    });
    if (!validation.ok) return validation;
    return { ok: true, der: reply.body, validation };
  }

  // Refresh at `refreshFraction` of the validity window: early enough that one or two failed attempts still
  // leave a fresh response being served.
  private delayAfterSuccess(entry: Entry): number {
    const v = entry.response?.validation;
    const now = this.now().getTime();
    if (!v?.nextUpdate) return this.options.refreshWithoutNextUpdateMs ?? DEFAULT_OCSP_MAX_AGE_MS / 2;
    const span = v.nextUpdate.getTime() - v.thisUpdate.getTime();
    return v.thisUpdate.getTime() + span * (this.options.refreshFraction ?? 0.5) - now;
  }

  private delayAfterFailure(entry: Entry): number {
    const first = this.options.retryMs ?? 30_000;
    const backoff = Math.min(
      first * 2 ** Math.min(entry.failures - 1, 16),
      this.options.maxRetryMs ?? 3_600_000,
    );
    const expires = entry.response?.expires;
    // Try once more shortly before the served response goes stale, even within a long backoff.
    if (expires !== undefined && expires - this.now().getTime() > first) {
      return Math.min(backoff, expires - this.now().getTime() - first);
    }
    return backoff;
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(delayMs, this.options.minRefreshMs ?? 10_000);
    entry.nextRefresh = new Date(this.now().getTime() + delay);
    entry.timer = setTimeout(() => void this.refresh(entry), delay);
    entry.timer.unref();
  }

  private emit(event: StaplerEvent): void {
    this.options.onEvent?.(event);
  }
}

// A response without nextUpdate is served for the default max age that clients (ocsp-policy.ts) accept.
function expiry(v: Extract<OcspValidation, { ok: true }>): number {
  return v.nextUpdate ? v.nextUpdate.getTime() : v.thisUpdate.getTime() + DEFAULT_OCSP_MAX_AGE_MS;
}

function derKey(der: Buffer): string {
  return createHash("sha256").update(der).digest("base64");
}

function issuerInChain(
  cert: X509Certificate,
  pem: tls.SecureContextOptions["cert"],
): X509Certificate | undefined {
  const texts = (Array.isArray(pem) ? pem : pem === undefined ? [] : [pem]) as Array<string | Buffer>;
  const chain = texts.flatMap((t) => parseCertificates(t, "server certificate chain"));
  return chain.find((c) => !c.raw.equals(cert.raw) && cert.checkIssued(c) && cert.verify(c.publicKey));
}
