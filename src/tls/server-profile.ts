/**
 * The server side of a TLS listener (DESIGN.md "Inbound", "hosted" scenario): one secure context per
 * configured certificate, chosen by the SNI name the client sent (RFC 6066 §3) — exact name first, then
 * the listener's default. Names are compared like SIP domains (case-insensitive, trailing dot ignored,
 * A-labels), never with wildcard semantics.
 *
 * OpenSSL is asked for the client certificate but told not to judge it (`rejectUnauthorized: false`):
 * client-verification.ts applies RFC 5280 + RFC 5924 itself, because OpenSSL's purpose check rejects
 * certificates whose EKU holds only id-kp-sipDomain, which RFC 5924 §4 allows.
 */
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { extractSipIdentities, normalizeDomain } from "../pki/identities.js";
import type { ClientCertificateMode } from "./client-verification.js";

export interface ServerCredentialInput {
  /** PEM chain, leaf first. */
  readonly certPem: string;
  readonly keyPem: string;
  /** SNI names this certificate answers; default: its SIP domain identities and DNS SANs. */
  readonly serverNames?: readonly string[];
}

export interface ServerProfileInput {
  readonly credentials: readonly ServerCredentialInput[];
  /** Index into `credentials` used when SNI is absent or names no configured certificate. Default 0. */
  readonly defaultIndex?: number;
  readonly clientCertificates: ClientCertificateMode;
  /** PEM CA certificates whose names are sent in the CertificateRequest (the listener's client CA set). */
  readonly clientCaPems?: readonly string[];
  readonly minVersion?: tls.SecureVersion;
}

export interface ServerCredential {
  readonly serverNames: readonly string[];
  /** What the context was built from; tls.Server builds its default context from these itself. */
  readonly contextOptions: tls.SecureContextOptions;
  readonly certificate: X509Certificate;
  readonly context: tls.SecureContext;
}

export interface ServerProfile {
  readonly credentials: readonly ServerCredential[];
  readonly defaultCredential: ServerCredential;
  readonly byName: ReadonlyMap<string, ServerCredential>;
  readonly clientCertificates: ClientCertificateMode;
  readonly minVersion: tls.SecureVersion;
  readonly clientCaPems: readonly string[];
}

export type SniSelection = {
  readonly credential: ServerCredential;
  readonly code: "sni-exact" | "sni-default" | "sni-absent";
};

export class ServerProfileError extends Error {
  override readonly name = "ServerProfileError";
  constructor(
    readonly code: "no-credentials" | "duplicate-server-name" | "bad-default",
    message: string,
  ) {
    super(message);
  }
}

export function buildServerProfile(input: ServerProfileInput): ServerProfile {
  if (input.credentials.length === 0)
    throw new ServerProfileError("no-credentials", "a TLS listener needs a certificate");
  const minVersion = input.minVersion ?? "TLSv1.2";
  const clientCaPems = input.clientCertificates === "ignore" ? [] : [...(input.clientCaPems ?? [])];
  const credentials = input.credentials.map((c) => buildCredential(c, minVersion, clientCaPems));
  const byName = new Map<string, ServerCredential>();
  for (const credential of credentials) {
    for (const name of credential.serverNames) {
      if (byName.has(name)) {
        throw new ServerProfileError(
          "duplicate-server-name",
          `server name ${name} is served by two certificates`,
        );
      }
      byName.set(name, credential);
    }
  }
  const defaultCredential = credentials[input.defaultIndex ?? 0];
  if (!defaultCredential)
    throw new ServerProfileError("bad-default", `no certificate at index ${input.defaultIndex}`);
  return {
    credentials,
    defaultCredential,
    byName,
    clientCertificates: input.clientCertificates,
    minVersion,
    clientCaPems,
  };
}

// Each context carries the client CA list: after an SNI switch OpenSSL uses the selected context's.
function buildCredential(
  input: ServerCredentialInput,
  minVersion: tls.SecureVersion,
  clientCaPems: readonly string[],
): ServerCredential {
  const certificate = new X509Certificate(input.certPem);
  const serverNames = (input.serverNames ?? defaultServerNames(certificate)).map(normalizeDomain);
  const ca = clientCaPems.length > 0 ? [...clientCaPems] : undefined;
  const contextOptions: tls.SecureContextOptions = { cert: input.certPem, key: input.keyPem, minVersion, ca };
  return { serverNames, certificate, contextOptions, context: tls.createSecureContext(contextOptions) };
}

/** The names a certificate can prove (RFC 5922 §7.1 domain identities), plus its DNS SANs for SNI. */
function defaultServerNames(certificate: X509Certificate): string[] {
  const { identities, san } = extractSipIdentities(certificate);
  const domains = identities.filter((i) => i.kind === "domain").map((i) => i.value);
  return [...new Set([...domains, ...san.dns])];
}

/** RFC 6066 §3: choose the certificate for the name the client asked for. */
export function selectCredential(profile: ServerProfile, servername: string | undefined): SniSelection {
  if (!servername) return { credential: profile.defaultCredential, code: "sni-absent" };
  const exact = profile.byName.get(normalizeDomain(servername));
  return exact
    ? { credential: exact, code: "sni-exact" }
    : { credential: profile.defaultCredential, code: "sni-default" };
}

/**
 * Options for `tls.createServer` that implement the profile. tls.Server ignores a `secureContext` option
 * and builds its default context (used when the client sends no SNI) from the context options instead.
 */
export function serverTlsOptions(profile: ServerProfile): tls.TlsOptions {
  return {
    ...profile.defaultCredential.contextOptions,
    SNICallback: (servername, done) => done(null, selectCredential(profile, servername).credential.context),
    requestCert: profile.clientCertificates !== "ignore",
    rejectUnauthorized: false,
  };
}
