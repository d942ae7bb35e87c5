/**
 * The client-side procedure of DESIGN.md "Outbound": locate the SIP domain's servers (RFC 3263), then for
 * each target in order connect with SNI, verify (DANE or RFC 5922, server-trust.ts), and move on to the
 * next target on any TLS or identity failure. Every step is recorded so that `siptrust check` can explain
 * the verdict and the proxy can put the reason into a 503 and the accounting record.
 */
import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { TrustAnchor } from "../pki/chain.js";
import { normalizeDomain, type IdentityOptions, type SipIdentity } from "../pki/identities.js";
import type { TlsaRecord } from "../dane/tlsa.js";
import { isIpLiteral } from "../pki/dns-name.js";
import { closeGracefully, openTlsConnection, type ClientCredentials } from "./client-handshake.js";
import { decideServerTrust, type TlsaEvidence, type TrustMethod } from "./server-trust.js";
import { checkPeerOcsp, type PeerOcspOptions } from "./peer-ocsp.js";

/** One DNS step as `check` shows it. */
export interface LocationStep {
  readonly name: string;
  readonly type: string;
  readonly status: "secure" | "insecure" | "bogus" | "error";
  readonly ttl: number;
  readonly answers: readonly string[];
  /** Outcome of the query (`answer`, `nodata`, `nxdomain`, `servfail`, `timeout`, ...), when known. */
  readonly code?: string;
  /** Why the status is what it is (AD bit, Extended DNS Error text, ...), when known. */
  readonly detail?: string;
}

export interface LocatedTarget {
  /** Address to connect to. */
  readonly address: string;
  readonly port: number;
  readonly transport: string;
  /** The SRV target host name, when SRV was used (RFC 7673 reference identifier and TLSA base name). */
  readonly srvHost?: string;
  /**
   * This target's own path verdict (NAPTR, SRV, CNAMEs and its A/AAAA all secure); defaults to the
   * location's. Targets of one domain can differ when SRV points into zones of different status.
   */
  readonly delegation?: "secure" | "insecure";
}

export interface Location {
  readonly delegation: "secure" | "insecure" | "bogus";
  readonly targets: readonly LocatedTarget[];
  readonly steps: readonly LocationStep[];
  /** Why location failed, when it did (no targets). */
  readonly code?: string;
  readonly detail?: string;
  /** Things a person must know to read the verdict (e.g. the resolver's AD bit is not believed). */
  readonly warnings?: readonly string[];
}

export interface TlsaLookup extends TlsaEvidence {
  /** The TLSA query (and any CNAME hops it took). */
  readonly steps: readonly LocationStep[];
}

/** The DNS side of the procedure; src/dns provides the real one, tests may provide another. */
export interface OutboundResolver {
  locate(target: {
    scheme: "sip" | "sips";
    host: string;
    port?: number;
    transport?: string;
  }): Promise<Location>;
  lookupTlsa(port: number, host: string): Promise<TlsaLookup>;
}

export interface OutboundOptions {
  readonly resolver: OutboundResolver;
  /** CA set for verifying servers (RFC 5922 path, PKIX-TA/EE). */
  readonly anchors: readonly TrustAnchor[];
  /** Client certificate for this destination domain (chosen by the caller's per-domain table). */
  readonly clientCredentials?: ClientCredentials;
  readonly handshakeTimeoutMs?: number;
  readonly identityOptions?: IdentityOptions;
  readonly at?: Date;
  /** Keep the verified socket open and return it (the proxy); `check` closes it. */
  readonly keepSocket?: boolean;
  /**
   * OCSP for the server's leaf once its chain and identity are accepted: a staple is requested (RFC 6066 §8)
   * and used first, the responder second; the policy may then refuse the target (next SRV target is tried).
   * Absent or `off`: not checked. DANE-EE targets are not checked (RFC 7671 §5.1: only the key matters;
   * the TLSA record is what the operator withdraws).
   */
  readonly ocsp?: PeerOcspOptions;
}

export interface Verification {
  readonly ok: boolean;
  readonly method: TrustMethod;
  readonly code: string;
  readonly detail: string;
  /** The TLSA record (position in the RRset) that DANE matched, and the chain depth it matched at. */
  readonly matchedTlsa?: { readonly index: number; readonly depth: number };
}

export interface OutboundAttempt {
  readonly host: string;
  readonly port: number;
  readonly transport: string;
  readonly srvHost?: string;
  readonly delegation: "secure" | "insecure";
  /** The server name sent; null when the name is an IP literal (RFC 6066 §3 allows host names only). */
  readonly sni: string | null;
  readonly tlsa?: { readonly status: string; readonly records: readonly TlsaRecord[] };
  readonly tls?: { readonly version: string; readonly cipher: string };
  readonly chain: readonly X509Certificate[];
  readonly identities: readonly SipIdentity[];
  readonly verification: Verification;
  /** The OCSP step, when it ran. */
  readonly ocsp?: {
    readonly ok: boolean;
    readonly code: string;
    readonly source: string;
    readonly detail: string;
  };
}

export interface OutboundResult {
  readonly ok: boolean;
  readonly uri: string;
  readonly domain: string;
  readonly delegation: Location["delegation"];
  readonly steps: readonly LocationStep[];
  readonly warnings: readonly string[];
  readonly attempts: readonly OutboundAttempt[];
  /** The attempt that verified, when one did. */
  readonly target?: OutboundAttempt;
  readonly method?: TrustMethod;
  readonly code: string;
  readonly detail: string;
  /** Open, verified connection when `keepSocket` was set and a target verified. */
  readonly socket?: TLSSocket;
}

export interface OutboundDestination {
  readonly scheme: "sip" | "sips";
  readonly host: string;
  readonly port?: number;
  readonly transport?: string;
}

export async function verifyOutbound(
  uri: string,
  destination: OutboundDestination,
  options: OutboundOptions,
): Promise<OutboundResult> {
  const domain = normalizeDomain(destination.host);
  const location = await options.resolver.locate(destination);
  const base = {
    uri,
    domain,
    delegation: location.delegation,
    steps: [...location.steps],
    warnings: [...(location.warnings ?? [])],
  };
  // DESIGN.md "Outbound" rule 1: bogus anywhere on the path stops here, with no fallback.
  if (location.delegation === "bogus") {
    return {
      ...base,
      ok: false,
      attempts: [],
      code: location.code ?? "dnssec-bogus",
      detail: location.detail ?? "DNSSEC validation failed",
    };
  }
  if (location.targets.length === 0) {
    return {
      ...base,
      ok: false,
      attempts: [],
      code: location.code ?? "no-targets",
      detail: location.detail ?? `no server found for ${domain}`,
    };
  }
  const attempts: OutboundAttempt[] = [];
  for (const target of location.targets) {
    const delegation = target.delegation ?? location.delegation;
    const { attempt, socket, tlsaSteps } = await tryTarget(domain, target, delegation, options);
    for (const step of tlsaSteps) if (!hasStep(base.steps, step)) base.steps.push(step);
    attempts.push(attempt);
    if (attempt.verification.ok) {
      return {
        ...base,
        ok: true,
        attempts,
        target: attempt,
        method: attempt.verification.method,
        code: attempt.verification.code,
        detail: attempt.verification.detail,
        socket,
      };
    }
  }
  const last = attempts[attempts.length - 1];
  return {
    ...base,
    ok: false,
    attempts,
    code: last?.verification.code ?? "no-targets",
    detail: `no target verified (${attempts.length} tried); last: ${last?.verification.detail ?? "none"}`,
  };
}

async function tryTarget(
  domain: string,
  target: LocatedTarget,
  delegation: "secure" | "insecure",
  options: OutboundOptions,
): Promise<{ attempt: OutboundAttempt; socket?: TLSSocket; tlsaSteps: readonly LocationStep[] }> {
  // DESIGN.md "Outbound" rule 4: SNI is the SRV target under a secure delegation (RFC 7673 §3), else the SIP domain.
  const tlsaHost = target.srvHost ?? domain;
  const sni = delegation === "secure" ? tlsaHost : domain;
  const tlsa = delegation === "secure" ? await options.resolver.lookupTlsa(target.port, tlsaHost) : undefined;
  const common = {
    host: target.address,
    port: target.port,
    transport: target.transport,
    srvHost: target.srvHost,
    delegation,
    sni: isIpLiteral(sni) ? null : sni,
    tlsa: tlsa ? { status: tlsa.status, records: tlsa.records } : undefined,
  };
  const tlsaFailure = tlsa && tlsaLookupFailure(tlsa);
  if (tlsaFailure) {
    // RFC 7673 §3 with RFC 7672 §2.2's reasoning: when the TLSA answer cannot be had on a secure path,
    // the server's DANE status is unknown; the target is skipped without a connection (not even SNI leaks).
    return {
      attempt: {
        ...common,
        chain: [],
        identities: [],
        verification: { ok: false, method: "dane-ee", ...tlsaFailure },
      },
      tlsaSteps: tlsa.steps,
    };
  }
  const handshake = await openTlsConnection({
    host: target.address,
    port: target.port,
    servername: sni,
    clientCredentials: options.clientCredentials,
    timeoutMs: options.handshakeTimeoutMs,
    requestOcsp: options.ocsp !== undefined && options.ocsp.mode !== "off",
  });
  if (!handshake.ok) {
    const verification = {
      ok: false,
      method: "rfc5922" as const,
      code: handshake.code,
      detail: handshake.detail,
    };
    return {
      attempt: { ...common, chain: [], identities: [], verification },
      tlsaSteps: tlsa?.steps ?? [],
    };
  }
  const trust = decideServerTrust({
    chain: handshake.chain,
    sipDomain: domain,
    srvHost: target.srvHost,
    delegation,
    tlsa,
    anchors: options.anchors,
    at: options.at,
    identityOptions: options.identityOptions,
  });
  const ocsp =
    trust.ok && trust.method !== "dane-ee" && options.ocsp && options.ocsp.mode !== "off"
      ? await checkPeerOcsp(handshake.chain, options.ocsp, {
          anchors: options.anchors,
          ...(handshake.ocspResponse ? { stapled: handshake.ocspResponse } : {}),
        })
      : undefined;
  const refusedByOcsp = ocsp !== undefined && !ocsp.ok;
  const attempt: OutboundAttempt = {
    ...common,
    tls: { version: handshake.version, cipher: handshake.cipher },
    chain: handshake.chain,
    identities: trust.identities,
    verification: refusedByOcsp
      ? { ok: false, method: trust.method, code: ocsp.code, detail: `OCSP: ${ocsp.detail}` }
      : {
          ok: trust.ok,
          method: trust.method,
          code: trust.code,
          detail: trust.detail,
          ...(trust.ok && trust.matchedTlsa ? { matchedTlsa: trust.matchedTlsa } : {}),
        },
    ...(ocsp ? { ocsp: { ok: ocsp.ok, code: ocsp.code, source: ocsp.source, detail: ocsp.detail } } : {}),
  };
  const keep = attempt.verification.ok && options.keepSocket;
  if (!keep) closeGracefully(handshake.socket);
  return { attempt, socket: keep ? handshake.socket : undefined, tlsaSteps: tlsa?.steps ?? [] };
}

function tlsaLookupFailure(tlsa: TlsaLookup): { code: string; detail: string } | undefined {
  if (tlsa.status === "bogus")
    return { code: "tlsa-bogus", detail: "the TLSA answer failed DNSSEC validation" };
  if (tlsa.status === "error") return { code: "tlsa-lookup-failed", detail: "the TLSA lookup failed" };
  return undefined;
}

/** Targets sharing an SRV host share its TLSA query: show it once. */
function hasStep(steps: readonly LocationStep[], step: LocationStep): boolean {
  return steps.some((s) => s.name === step.name && s.type === step.type);
}
