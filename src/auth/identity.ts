/**
 * The identities a peer may speak for, and the one comparison authorization needs: does an identity
 * cover a From URI.
 *
 * Two kinds, after RFC 5922 §7.1 and reSIProcate's TLS authentication:
 * - a domain identity (`example.com`) covers every user of exactly that domain (no suffix match);
 * - a URI identity (`sip:bob@example.com`) covers exactly that user at that host.
 *
 * URI comparison is RFC 3261 §19.1.4 restricted to user and host: the user part is case-sensitive, escapes
 * of unreserved characters equal their literal form but other escapes do not (`%2B` ≠ `+`); hosts compare
 * case-insensitively, after removing a trailing dot and converting IDNs to A-labels (RFC 5922 §7.2). Port,
 * password, parameters and headers do not name a user and are ignored.
 *
 * Scheme decision: coverage ignores sip vs sips. RFC 3261 §19.1 says any resource named by a SIP URI is
 * "upgraded" to a SIPS URI "by just changing the scheme", so both name the same user; the scheme states a
 * transport requirement, not who the user is, and the request already arrived over TLS. RFC 5922 §7.1 makes
 * the same choice for domains: a `sip:` domain identity authorizes both schemes. (§19.1.4's rule that sip and
 * sips URIs are never equal is about routing targets, which this module does not compare.)
 */
import { formatUri, isSipUri, parseUri, sipUriEquals, type HostKind, type SipUri } from "../sip/uri.js";
import { normalizeDomain } from "../pki/identities.js";
import { checkDomainName } from "./domain-name.js";

export type IdentitySource = "san-uri" | "san-dns" | "cn" | "san-email" | "mapping";

export interface DomainIdentity {
  readonly kind: "domain";
  /** Normalized: lower case, no trailing dot, A-labels. */
  readonly domain: string;
  readonly source: IdentitySource;
}

export interface UriIdentity {
  readonly kind: "uri";
  /** Reduced to what identifies a user: scheme sip, user, normalized host; nothing else. */
  readonly uri: SipUri;
  /** Canonical text, for logs and details. */
  readonly value: string;
  readonly source: IdentitySource;
}

export type PeerIdentity = DomainIdentity | UriIdentity;

export type IdentityParse = { ok: true; identity: PeerIdentity } | { ok: false; reason: string };

/** RFC 3986 §3.1 scheme syntax; used only to name an unsupported scheme in an error. */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Parses an operator-written identity: `domain`, `user@domain`, or a full `sip:` URI (with or without user).
 * Strict: no password, port, parameters or headers (they are not part of an identity), no IP hosts.
 */
export function parseIdentityText(text: string, source: IdentitySource): IdentityParse {
  if (text.length === 0) return { ok: false, reason: "empty id" };
  if (/^sip:/i.test(text)) return fromSipUriText(text, source, text);
  if (/^sips:/i.test(text)) {
    return { ok: false, reason: `"${text}": write sip: (a sip: identity also covers sips: From URIs)` };
  }
  if (text.includes("@")) return fromUserAtDomain(text, source);
  if (SCHEME.test(text)) return { ok: false, reason: `"${text}": only sip: URIs are supported` };
  const checked = checkDomainName(text);
  if (!checked.ok) return checked;
  return { ok: true, identity: { kind: "domain", domain: checked.domain, source } };
}

function fromUserAtDomain(text: string, source: IdentitySource): IdentityParse {
  const at = text.lastIndexOf("@");
  if (at === 0) return { ok: false, reason: `"${text}": empty user part` };
  // The domain may be written with U-labels; SIP URIs carry A-labels only (RFC 3261 §25.1 is ASCII).
  const domain = checkDomainName(text.slice(at + 1));
  if (!domain.ok) return { ok: false, reason: domain.reason };
  // `user@domain` is the userinfo@host of a sip: URI (RFC 3261 §19.1.1): the URI grammar decides the user.
  return fromSipUriText(`sip:${text.slice(0, at)}@${domain.domain}`, source, text);
}

function fromSipUriText(uriText: string, source: IdentitySource, shown: string): IdentityParse {
  const parsed = parseUri(uriText);
  if (!parsed.ok) return { ok: false, reason: `"${shown}" is not a valid SIP identity: ${parsed.detail}` };
  const uri = parsed.uri;
  if (!isSipUri(uri) || uri.scheme !== "sip") {
    return { ok: false, reason: `"${shown}": only sip: URIs are supported` };
  }
  const extra = identityExtras(uri);
  if (extra !== undefined) return { ok: false, reason: `"${shown}": ${extra} not allowed in an identity` };
  if (uri.hostKind !== "hostname")
    return { ok: false, reason: `"${shown}": an IP address is not a SIP domain` };
  const domain = checkDomainName(uri.host);
  if (!domain.ok) return domain;
  if (uri.user === undefined)
    return { ok: true, identity: { kind: "domain", domain: domain.domain, source } };
  return { ok: true, identity: uriIdentity(uri, source) };
}

function identityExtras(uri: SipUri): string | undefined {
  if (uri.password !== undefined) return "a password";
  if (uri.port !== undefined) return "a port";
  if (uri.params.length > 0) return "URI parameters";
  if (uri.headers.length > 0) return "URI headers";
  return undefined;
}

/** The user-and-host part of a SIP or SIPS URI, in the form coverage compares. */
export function reduceToUserHost(uri: SipUri): SipUri {
  const host = uri.hostKind === "hostname" ? normalizeDomain(uri.host) : uri.host;
  const reduced: { -readonly [K in keyof SipUri]: SipUri[K] } = {
    scheme: "sip",
    host,
    hostKind: uri.hostKind,
    params: [],
    headers: [],
  };
  if (uri.user !== undefined) reduced.user = uri.user;
  if (uri.userEscaped !== undefined) reduced.userEscaped = uri.userEscaped;
  return reduced;
}

/** A URI identity for a SIP URI that has a user part. */
export function uriIdentity(uri: SipUri, source: IdentitySource): UriIdentity {
  const reduced = reduceToUserHost(uri);
  return { kind: "uri", uri: reduced, value: formatUri(reduced), source };
}

/** Text form of an identity for details and logs. */
export function identityText(identity: PeerIdentity): string {
  return identity.kind === "domain" ? identity.domain : identity.value;
}

/** The parts of a From URI that authorization compares. */
export interface FromKey {
  readonly uri: SipUri;
  /** Normalized domain when the host is a name; undefined for IP literals (they never match DNS identities). */
  readonly domain: string | undefined;
}

export function fromKey(uri: SipUri): FromKey {
  const reduced = reduceToUserHost(uri);
  return { uri: reduced, domain: reduced.hostKind === "hostname" ? reduced.host : undefined };
}

/** RFC 5922 §7.2 / issue 4 §2: a domain identity covers any user of that exact domain, no suffix match. */
export function domainCovers(identity: DomainIdentity, from: FromKey): boolean {
  return from.domain !== undefined && from.domain === identity.domain;
}

/** A URI identity covers exactly its URI (user and host, see the file comment). */
export function uriCovers(identity: UriIdentity, from: FromKey): boolean {
  return from.uri.user !== undefined && sipUriEquals(identity.uri, from.uri);
}

export function covers(identity: PeerIdentity, from: FromKey): boolean {
  return identity.kind === "domain" ? domainCovers(identity, from) : uriCovers(identity, from);
}

/** Two identities name the same thing (trusted-peer lists, duplicate detection). */
export function sameIdentity(a: PeerIdentity, b: PeerIdentity): boolean {
  if (a.kind === "domain") return b.kind === "domain" && a.domain === b.domain;
  return b.kind === "uri" && sipUriEquals(a.uri, b.uri);
}

/** Hostname of a URI identity, or undefined for an IP host. */
export function identityDomain(identity: PeerIdentity): string | undefined {
  if (identity.kind === "domain") return identity.domain;
  return identity.uri.hostKind === "hostname" ? identity.uri.host : undefined;
}

export { isSipUri };
export type { HostKind };
