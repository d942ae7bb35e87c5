/**
 * Per-message peer authorization: may the peer on this TLS connection send a request with this From?
 *
 * The reSIProcate model (TLSAuthentication), made explicit and stricter by default:
 *   1. no client certificate                         → deny `no-client-cert`
 *   2. To tag present and policy.skipInDialog         → allow `in-dialog-skipped` (reSIProcate's behaviour;
 *                                                       off by default: ACK, CANCEL, BYE are checked too)
 *   3. From unparsable, or not a sip/sips URI         → deny `malformed-from` (400)
 *   4. peer trusted by identity or by CA fingerprint  → allow `trusted-peer`
 *   5. a certificate domain identity covers From      → allow `covered-by-domain`
 *   6. a certificate URI identity covers From         → allow `covered-by-uri`
 *   7. a CN-mapping identity covers From              → allow `covered-by-mapping`
 *   8. otherwise                                      → deny `from-not-covered` (403)
 * Identities outside the rights of the chain's CAs (policy.caRights) are dropped before steps 4–7 and
 * reported in every result as `dropped`.
 */
import { formatUri, parseUri, type SipUri, type Uri } from "../sip/uri.js";
import { applyCaRights, type CaRights, type DroppedIdentity } from "./ca-rights.js";
import { normalizeFingerprint } from "./fingerprint.js";
import {
  covers,
  fromKey,
  identityText,
  isSipUri,
  parseIdentityText,
  sameIdentity,
  type FromKey,
  type PeerIdentity,
} from "./identity.js";
import type { PeerIdentities } from "./peer.js";

export interface AuthRequest {
  readonly method: string;
  readonly fromUri: string | Uri;
  readonly toTag?: string | null;
}

export interface AuthPolicy {
  /** Skip requests that carry a To tag (in-dialog), as reSIProcate does. Default false: check everything. */
  readonly skipInDialog?: boolean;
  /** Peers exempt from the From check, by verified identity: `domain`, `user@domain` or `sip:` URI. */
  readonly trustedIdentities?: readonly string[];
  /** Peers exempt from the From check, by SHA-256 fingerprint of any CA in their verified chain. */
  readonly trustedCaFingerprints?: readonly string[];
  readonly caRights?: CaRights;
}

export type AuthOkCode =
  "trusted-peer" | "covered-by-domain" | "covered-by-uri" | "covered-by-mapping" | "in-dialog-skipped";
export type AuthDeniedCode = "no-client-cert" | "malformed-from" | "from-not-covered";

export interface AuthOk {
  readonly ok: true;
  readonly code: AuthOkCode;
  readonly detail: string;
  /** The identity that covered From, or that made the peer trusted. */
  readonly matched?: PeerIdentity;
  /** For `trusted-peer` by CA: the CA fingerprint that matched. */
  readonly trustedCa?: string;
  readonly dropped: readonly DroppedIdentity[];
}

export interface AuthDenied {
  readonly ok: false;
  readonly code: AuthDeniedCode;
  readonly detail: string;
  readonly dropped: readonly DroppedIdentity[];
}

export type AuthResult = AuthOk | AuthDenied;

const NONE: readonly DroppedIdentity[] = [];

export function authorizeRequest(
  peer: PeerIdentities | null | undefined,
  request: AuthRequest,
  policy: AuthPolicy = {},
): AuthResult {
  if (peer === null || peer === undefined) {
    return {
      ok: false,
      code: "no-client-cert",
      detail: `${request.method}: peer presented no client certificate`,
      dropped: NONE,
    };
  }
  const { effective, dropped } = effectiveIdentities(peer, policy.caRights);
  if (policy.skipInDialog === true && hasToTag(request.toTag)) {
    return {
      ok: true,
      code: "in-dialog-skipped",
      detail: `${request.method} with To tag: From check skipped`,
      dropped,
    };
  }
  const from = parseFrom(request.fromUri);
  if (typeof from === "string") {
    return { ok: false, code: "malformed-from", detail: `${request.method}: ${from}`, dropped };
  }
  return trusted(peer, effective, policy, dropped) ?? coverage(effective, from, request.method, dropped);
}

function effectiveIdentities(
  peer: PeerIdentities,
  rights: CaRights | undefined,
): { effective: readonly PeerIdentity[]; dropped: readonly DroppedIdentity[] } {
  if (rights === undefined) return { effective: peer.identities, dropped: NONE };
  return applyCaRights(peer.identities, peer.issuers, rights);
}

/** RFC 3261 §12: a request with a To tag belongs to a dialog. An empty tag is no tag. */
function hasToTag(toTag: string | null | undefined): boolean {
  return typeof toTag === "string" && toTag.length > 0;
}

interface ParsedFrom {
  readonly uri: SipUri;
  readonly key: FromKey;
}

function parseFrom(fromUri: string | Uri): ParsedFrom | string {
  let uri: Uri;
  if (typeof fromUri === "string") {
    const parsed = parseUri(fromUri);
    if (!parsed.ok) return `From URI does not parse: ${parsed.detail}`;
    uri = parsed.uri;
  } else uri = fromUri;
  // RFC 5922 identities are SIP domains; a tel: or other From can never be covered, and says so early.
  if (!isSipUri(uri)) return `From URI scheme "${uri.scheme}" is not sip or sips`;
  return { uri, key: fromKey(uri) };
}

function trusted(
  peer: PeerIdentities,
  effective: readonly PeerIdentity[],
  policy: AuthPolicy,
  dropped: readonly DroppedIdentity[],
): AuthOk | undefined {
  const byCa = trustedCa(peer, policy.trustedCaFingerprints ?? []);
  if (byCa !== undefined) {
    return {
      ok: true,
      code: "trusted-peer",
      detail: `peer chain includes trusted CA ${byCa}`,
      trustedCa: byCa,
      dropped,
    };
  }
  const byIdentity = trustedIdentity(effective, policy.trustedIdentities ?? []);
  if (byIdentity === undefined) return undefined;
  const detail = `peer identity ${identityText(byIdentity)} is trusted`;
  return { ok: true, code: "trusted-peer", detail, matched: byIdentity, dropped };
}

function trustedCa(peer: PeerIdentities, fingerprints: readonly string[]): string | undefined {
  const wanted = new Set(fingerprints.map((f) => normalizeFingerprint(f)));
  return peer.issuers.find((ca) => wanted.has(ca.fingerprint))?.fingerprint;
}

/** Parsed trusted-identity lists, cached per list object: policies are built once, requests are many. */
const trustedCache = new WeakMap<readonly string[], readonly PeerIdentity[]>();

function parsedTrusted(list: readonly string[]): readonly PeerIdentity[] {
  let parsed = trustedCache.get(list);
  if (parsed === undefined) {
    parsed = list.flatMap((text) => {
      const result = parseIdentityText(text.trim(), "mapping");
      return result.ok ? [result.identity] : [];
    });
    trustedCache.set(list, parsed);
  }
  return parsed;
}

function trustedIdentity(
  effective: readonly PeerIdentity[],
  list: readonly string[],
): PeerIdentity | undefined {
  if (list.length === 0) return undefined;
  const trustedList = parsedTrusted(list);
  return effective.find((identity) => trustedList.some((t) => sameIdentity(t, identity)));
}

function coverage(
  effective: readonly PeerIdentity[],
  from: ParsedFrom,
  method: string,
  dropped: readonly DroppedIdentity[],
): AuthResult {
  const certificate = effective.filter((i) => i.source !== "mapping");
  const domain = certificate.find((i) => i.kind === "domain" && covers(i, from.key));
  if (domain !== undefined) return covered("covered-by-domain", domain, dropped);
  const uri = certificate.find((i) => i.kind === "uri" && covers(i, from.key));
  if (uri !== undefined) return covered("covered-by-uri", uri, dropped);
  const mapped = effective.find((i) => i.source === "mapping" && covers(i, from.key));
  if (mapped !== undefined) return covered("covered-by-mapping", mapped, dropped);
  return {
    ok: false,
    code: "from-not-covered",
    detail: notCoveredDetail(effective, from, method, dropped),
    dropped,
  };
}

function covered(code: AuthOkCode, matched: PeerIdentity, dropped: readonly DroppedIdentity[]): AuthOk {
  return {
    ok: true,
    code,
    detail: `From covered by ${identityText(matched)} (${matched.source})`,
    matched,
    dropped,
  };
}

/** Bound on listed identities so a certificate with thousands of SANs cannot produce huge log lines. */
const MAX_LISTED = 8;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `[${shown}, … ${items.length - MAX_LISTED} more]` : `[${shown}]`;
}

function notCoveredDetail(
  effective: readonly PeerIdentity[],
  from: ParsedFrom,
  method: string,
  dropped: readonly DroppedIdentity[],
): string {
  const of = (pick: (i: PeerIdentity) => boolean) => effective.filter(pick).map(identityText);
  const parts = [
    `domains ${listed(of((i) => i.kind === "domain" && i.source !== "mapping"))}`,
    `URIs ${listed(of((i) => i.kind === "uri" && i.source !== "mapping"))}`,
    `mapped ${listed(of((i) => i.source === "mapping"))}`,
  ];
  if (dropped.length > 0)
    parts.push(`dropped by CA rights ${listed(dropped.map((d) => identityText(d.identity)))}`);
  // formatUri gives the canonical form: no raw control characters from the wire reach the log line.
  return `${method} From ${formatUri(from.uri)} is not covered by the peer certificate: ${parts.join("; ")}`;
}

const PHRASES: Readonly<Record<AuthResult["code"], string>> = {
  "no-client-cert": "Forbidden - Client Certificate Required",
  "malformed-from": "Bad Request - Malformed From URI",
  "from-not-covered": "Forbidden - From Not Covered By Peer Certificate",
  "trusted-peer": "Authorized - Trusted Peer",
  "covered-by-domain": "Authorized - From Covered By Domain Identity",
  "covered-by-uri": "Authorized - From Covered By URI Identity",
  "covered-by-mapping": "Authorized - From Covered By CN Mapping",
  "in-dialog-skipped": "Authorized - In-Dialog Request Not Checked",
};

/**
 * RFC 3261 §25.1 Reason-Phrase: fixed text per code, never the detail (which holds peer-supplied data and
 * must not be echoed into a response line).
 */
export function reasonPhrase(result: AuthResult): string {
  return PHRASES[result.code];
}

/** Status the proxy answers with: 400 for a malformed From (RFC 3261 §21.4.1), 403 otherwise; null when ok. */
export function responseStatus(result: AuthResult): 400 | 403 | null {
  if (result.ok) return null;
  return result.code === "malformed-from" ? 400 : 403;
}

/** Configuration check for the policy lists (authorizeRequest ignores entries that do not parse). */
export function checkAuthPolicy(policy: AuthPolicy): string[] {
  const problems: string[] = [];
  (policy.trustedIdentities ?? []).forEach((text, i) => {
    const parsed = parseIdentityText(text.trim(), "mapping");
    if (!parsed.ok) problems.push(`trustedIdentities[${i}]: ${parsed.reason}`);
  });
  (policy.trustedCaFingerprints ?? []).forEach((text, i) => {
    if (normalizeFingerprint(text) === undefined)
      problems.push(`trustedCaFingerprints[${i}]: not a SHA-256 fingerprint`);
  });
  return problems;
}
