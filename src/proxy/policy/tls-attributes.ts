/**
 * The `tls` context of a request (DESIGN.md "Routing and accounting"): who is on the other end of the TLS
 * connection a request arrived on (or was sent over), as routing rules match it and accounting records it.
 *
 * Only what was verified is reported: the certificate fields and SAN lists come from a peer certificate that
 * passed validation (inbound: the listener's client verification; outbound: the server trust decision), and
 * `identities` lists only identities that procedure proved:
 * - inbound: the peer's RFC 5922 §7.1 identities plus those granted by the CN mapping (auth/peer.ts);
 * - outbound, PKIX + RFC 5922: the certificate's RFC 5922 identities (the chain was PKIX-validated, so the CA
 *   vouches for every one of them);
 * - outbound, DANE (RFC 7671/7673): the names verified on the connection (the SIP domain, and the SRV target
 *   host), because under DANE-EE the certificate's names are not checked at all (RFC 7671 §5.1).
 *
 * Computed once per connection and cached (this runs for every request on the hot path); a reload that
 * re-validates a connection changes its generation, which invalidates the cached attributes.
 */
import type { X509Certificate } from "node:crypto";
import { identityText } from "../../auth/identity.js";
import { peerIdentitiesFromParts, type PeerIdentities } from "../../auth/peer.js";
import { certificateFingerprint } from "../../auth/fingerprint.js";
import { extractSipIdentities, type SipIdentity } from "../../pki/identities.js";
import { tryParseCert } from "../../pki/parsed-cert.js";
import type { TrustMethod } from "../../tls/server-trust.js";
import type { InboundConnection } from "../../transport/tls-listener.js";
import type { OutboundConnection } from "../../transport/outbound-connections.js";

export type VerificationMethod = "dane-ee" | "dane-ta" | "pkix+rfc5922" | "mapping" | "none";

export interface SanLists {
  readonly uri: readonly string[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
}

export interface TlsAttributes {
  readonly listener?: string;
  readonly sni?: string;
  readonly caSet?: string;
  readonly version: string;
  readonly cipher: string;
  /** Subject and issuer of the leaf in `CN=a, O=b` form (RFC 4514-like, most significant RDN first as encoded). */
  readonly subject?: string;
  readonly issuer?: string;
  /** Serial number, lower-case hex without leading zero octets. */
  readonly serial?: string;
  /** SHA-256 over the leaf's DER, lower-case hex without colons. */
  readonly fingerprint?: string;
  readonly san: SanLists;
  /** Verified SIP identities (domain or `sip:` URI), normalized. */
  readonly identities: readonly string[];
  readonly method?: VerificationMethod;
}

const NO_SAN: SanLists = Object.freeze({
  uri: Object.freeze([]),
  dns: Object.freeze([]),
  email: Object.freeze([]),
  ip: Object.freeze([]),
});

interface Cached {
  readonly generation: number;
  readonly listener?: string;
  readonly caSet?: string;
  readonly attributes: TlsAttributes;
}

/** Keyed by the connection object: entries disappear with the connection. */
const cache = new WeakMap<object, Cached>();

function cached(
  connection: object,
  generation: number,
  listener: string | undefined,
  caSet: string | undefined,
): TlsAttributes | undefined {
  const hit = cache.get(connection);
  if (hit === undefined || hit.generation !== generation) return undefined;
  return hit.listener === listener && hit.caSet === caSet ? hit.attributes : undefined;
}

/**
 * The peer identities (auth/peer.ts) behind a TlsAttributes object, for per-message authorization: a Flow
 * carries only its `tls` attributes, and authorization needs the structured identities and the chain's CAs
 * (trusted CA fingerprints, CA rights). Registered when the attributes are built, so both always describe the
 * same verification (the same connection generation).
 */
const peers = new WeakMap<TlsAttributes, PeerIdentities>();

/** The verified peer identities the attributes were built from; undefined without a verified certificate. */
export function tlsPeer(attributes: TlsAttributes): PeerIdentities | undefined {
  return peers.get(attributes);
}

function remember(
  connection: object,
  generation: number,
  listener: string | undefined,
  caSet: string | undefined,
  built: { readonly attributes: TlsAttributes; readonly peer: PeerIdentities | undefined },
): TlsAttributes {
  const attributes = Object.freeze(built.attributes);
  if (built.peer !== undefined) peers.set(attributes, built.peer);
  cache.set(connection, { generation, listener, caSet, attributes });
  return attributes;
}

interface Built {
  readonly attributes: TlsAttributes;
  readonly peer: PeerIdentities | undefined;
}

/** TLS attributes of a connection accepted on one of our listeners. */
export function inboundTlsAttributes(
  listener: string,
  caSet: string | undefined,
  c: InboundConnection,
): TlsAttributes {
  const generation = c.generation;
  const hit = cached(c, generation, listener, caSet);
  if (hit !== undefined) return hit;
  return remember(c, generation, listener, caSet, buildInbound(listener, caSet, c));
}

function buildInbound(listener: string, caSet: string | undefined, c: InboundConnection): Built {
  const base = {
    listener,
    ...(c.sni !== undefined ? { sni: c.sni } : {}),
    ...(caSet !== undefined ? { caSet } : {}),
    version: c.tlsVersion,
    cipher: c.cipher,
  };
  const peer = c.peer;
  const leaf = c.chain[0];
  // No verified client certificate (none sent, or the listener ignores them): nothing about a certificate is
  // reported, even if one was presented, because nothing vouches for it.
  if (peer === undefined || leaf === undefined) {
    return { attributes: { ...base, san: NO_SAN, identities: [], method: "none" }, peer: undefined };
  }
  const attributes: TlsAttributes = {
    ...base,
    ...certificateFields(leaf),
    identities: peer.identities.map(identityText),
    method: inboundMethod(peer),
  };
  return { attributes, peer };
}

/**
 * `mapping` when every identity the peer holds came from the CN mapping file (devices whose certificates
 * carry no SIP identity, DESIGN.md); otherwise the certificate itself named the peer (RFC 5922 §7.1).
 */
function inboundMethod(peer: PeerIdentities): VerificationMethod {
  const mapped = peer.identities.filter((i) => i.source === "mapping").length;
  return mapped > 0 && mapped === peer.identities.length ? "mapping" : "pkix+rfc5922";
}

/** TLS attributes of a connection we opened and verified (transport/outbound-connections.ts). */
export function outboundTlsAttributes(c: OutboundConnection): TlsAttributes {
  const generation = c.generation;
  const hit = cached(c, generation, undefined, undefined);
  if (hit !== undefined) return hit;
  return remember(c, generation, undefined, undefined, buildOutbound(c));
}

function buildOutbound(c: OutboundConnection): Built {
  const method = outboundMethod(c.method);
  const leaf = c.chain[0];
  const verified = outboundIdentities(c, method);
  const attributes: TlsAttributes = {
    ...(c.sni !== null ? { sni: c.sni } : {}),
    version: c.tlsVersion,
    cipher: c.cipher,
    ...(leaf !== undefined ? certificateFields(leaf) : { san: NO_SAN }),
    identities: unique(verified.map((i) => i.value)),
    method,
  };
  const peer = peerIdentitiesFromParts({
    certificateIdentities: verified,
    subjectCns: [],
    issuers: c.chain.slice(1).map((ca) => ({ fingerprint: certificateFingerprint(ca), subject: ca.subject })),
  });
  return { attributes, peer };
}

/**
 * What the outbound procedure proved about the server. PKIX + RFC 5922: the certificate's RFC 5922 identities
 * (a trusted CA vouches for each). DANE: the names verified on the connection, the SIP domain and the SRV
 * target (RFC 7673 §3); they are reported as DNS identities because under DANE-EE no certificate name was
 * checked at all (RFC 7671 §5.1) — DNSSEC bound the key to the name.
 */
function outboundIdentities(c: OutboundConnection, method: VerificationMethod): readonly SipIdentity[] {
  if (method === "pkix+rfc5922") return c.identities;
  return [...c.verifiedNames].sort().map((value) => ({ kind: "domain", value, source: "san-dns" }));
}

/**
 * PKIX-TA(0) and PKIX-EE(1) only add a constraint to full PKIX validation, after which RFC 5922 names are
 * checked as without DANE (RFC 7671 §4, RFC 7673 §3): for routing they are `pkix+rfc5922`.
 */
export function outboundMethod(method: TrustMethod): VerificationMethod {
  switch (method) {
    case "dane-ee":
      return "dane-ee";
    case "dane-ta":
      return "dane-ta";
    case "pkix-ta":
    case "pkix-ee":
    case "rfc5922":
      return "pkix+rfc5922";
  }
}

type CertificateFields = Pick<TlsAttributes, "subject" | "issuer" | "serial" | "fingerprint" | "san">;

function certificateFields(leaf: X509Certificate): CertificateFields {
  const parsed = tryParseCert(leaf);
  const san = extractSipIdentities(leaf).san;
  return {
    // The decoded names print attributes the same way on every Node version; Node's own form is the fallback.
    subject: parsed?.subject.text ?? oneLine(leaf.subject),
    issuer: parsed?.issuer.text ?? oneLine(leaf.issuer),
    serial: parsed?.serialHex ?? leaf.serialNumber.toLowerCase(),
    fingerprint: certificateFingerprint(leaf),
    san: { uri: san.uri, dns: san.dns, email: san.email, ip: san.ip },
  };
}

/** Node prints names one attribute per line; the attributes keep their order, joined as `A=1, B=2`. */
function oneLine(name: string): string {
  return name.split("\n").filter(Boolean).join(", ");
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
