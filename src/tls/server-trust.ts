/**
 * Decides whether the chain a SIP server presented is acceptable for a SIP domain: DESIGN.md "Outbound"
 * rules 2–3. With a DNSSEC-secure delegation and a secure, usable TLSA RRset, DANE decides (RFC 6698,
 * RFC 7671, RFC 7673) and a failed DANE match is final (never a fallback to PKIX). Otherwise RFC 5922:
 * RFC 5280 path validation to the configured CA set, the RFC 5924 EKU rule, then the SIP domain must be
 * among the certificate's SIP domain identities (§7.1–7.2).
 *
 * Pure: it reads no files and opens no sockets, so `check`, the connection table and the tests share it.
 */
import type { X509Certificate } from "node:crypto";
import { validateChain, type TrustAnchor } from "../pki/chain.js";
import { checkSipEku } from "../pki/eku.js";
import {
  extractSipIdentities,
  matchSipDomain,
  type IdentityOptions,
  type SipIdentity,
} from "../pki/identities.js";
import type { TlsaRecord } from "../dane/tlsa.js";
import { verifyDane } from "../dane/verify.js";

export type TrustMethod = "dane-ee" | "dane-ta" | "pkix-ta" | "pkix-ee" | "rfc5922";

/** What DNS said about TLSA at `_<port>._tcp.<host>`; `undefined` when the delegation was insecure. */
export interface TlsaEvidence {
  readonly status: "secure" | "insecure" | "bogus" | "error";
  /** Empty for a (secure) denial of existence. */
  readonly records: readonly TlsaRecord[];
}

export interface ServerTrustInput {
  readonly chain: readonly X509Certificate[];
  /** The SIP domain of the request target (host part of the SIP/SIPS URI). */
  readonly sipDomain: string;
  /** The SRV target host the connection went to (RFC 7673 reference identifier), when SRV was used. */
  readonly srvHost?: string;
  readonly delegation: "secure" | "insecure";
  readonly tlsa?: TlsaEvidence;
  readonly anchors: readonly TrustAnchor[];
  readonly at?: Date;
  readonly identityOptions?: IdentityOptions;
}

export type ServerTrustResult =
  | {
      readonly ok: true;
      readonly method: TrustMethod;
      readonly code: string;
      readonly detail: string;
      readonly identities: readonly SipIdentity[];
      readonly matchedTlsa?: { readonly index: number; readonly depth: number };
    }
  | {
      readonly ok: false;
      readonly method: TrustMethod;
      readonly code: string;
      readonly detail: string;
      readonly identities: readonly SipIdentity[];
    };

export function decideServerTrust(input: ServerTrustInput): ServerTrustResult {
  const leaf = input.chain[0];
  if (!leaf) {
    return {
      ok: false,
      method: "rfc5922",
      code: "no-certificate",
      detail: "no certificate presented",
      identities: [],
    };
  }
  const identities = extractSipIdentities(leaf, input.identityOptions).identities;
  const tlsa = input.delegation === "secure" ? input.tlsa : undefined;
  if (tlsa && (tlsa.status === "bogus" || tlsa.status === "error")) {
    // RFC 7671 §4 / RFC 7672 §2.2: a TLSA lookup that fails (as opposed to a secure denial) means the
    // server's DANE status is unknown; proceeding without DANE would let an attacker downgrade us.
    return {
      ok: false,
      method: "dane-ee",
      code: tlsa.status === "bogus" ? "tlsa-bogus" : "tlsa-lookup-failed",
      detail: `TLSA lookup was ${tlsa.status}; refusing to fall back to RFC 5922`,
      identities,
    };
  }
  if (tlsa && tlsa.status === "secure" && tlsa.records.length > 0) {
    const dane = decideByDane(input, tlsa, identities);
    if (dane) return dane;
  }
  return decideByRfc5922(input, leaf, identities);
}

/** Returns undefined when no TLSA record is usable: RFC 7671 §4.1 says to proceed as if there were none. */
function decideByDane(
  input: ServerTrustInput,
  tlsa: TlsaEvidence,
  identities: readonly SipIdentity[],
): ServerTrustResult | undefined {
  const referenceNames = [input.srvHost, input.sipDomain].filter((n): n is string => Boolean(n));
  const result = verifyDane({
    chain: input.chain,
    records: tlsa.records,
    // RFC 7673 §4: the SRV target host is the reference identifier; the SIP domain is accepted as well.
    reference: { targetHost: input.srvHost ?? input.sipDomain, sipDomain: input.sipDomain },
    pkixAnchors: input.anchors,
    at: input.at,
    purpose: "server",
  });
  if (!result.ok && result.code === "dane-no-usable-records") return undefined;
  if (result.ok) {
    return {
      ok: true,
      method: result.method,
      code: result.code,
      detail: `DANE ${result.method} matched TLSA record #${result.matched.recordIndex} at depth ${result.matched.depth} (names: ${referenceNames.join(", ")})`,
      identities,
      matchedTlsa: { index: result.matched.recordIndex, depth: result.matched.depth },
    };
  }
  return {
    ok: false,
    method: result.method ?? "dane-ee",
    code: result.code,
    detail: result.detail,
    identities,
  };
}

function decideByRfc5922(
  input: ServerTrustInput,
  leaf: X509Certificate,
  identities: readonly SipIdentity[],
): ServerTrustResult {
  const fail = (code: string, detail: string): ServerTrustResult => ({
    ok: false,
    method: "rfc5922",
    code,
    detail,
    identities,
  });
  // RFC 5922 §7.1: identities are read only from a certificate already valid per RFC 5280.
  const chain = validateChain({
    leaf,
    intermediates: input.chain.slice(1),
    anchors: input.anchors,
    at: input.at,
    purpose: "any",
  });
  if (!chain.ok) return fail(chain.code, chain.detail);
  // RFC 5924 §4 instead of OpenSSL's purpose check: id-kp-sipDomain alone is acceptable.
  const eku = checkSipEku(leaf, "server");
  if (!eku.ok) return fail(eku.code, eku.detail);
  const match = matchSipDomain(identities, input.sipDomain, input.identityOptions);
  if (!match.ok) return fail(match.code, match.detail);
  return {
    ok: true,
    method: "rfc5922",
    code: match.code,
    detail: `chain valid to a configured CA; ${input.sipDomain} matched ${match.matched.value} (${match.matched.source})`,
    identities,
  };
}
