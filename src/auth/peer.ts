/**
 * The identities of the peer on one TLS connection, computed once per connection and attached to it.
 *
 * PeerIdentities = RFC 5922 §7.1 domain identities + URI identities (both from pki/identities.ts)
 *                + identities granted by the CN mapping file
 *                + the CAs of the verified chain (fingerprint and subject), so policies can match by CA.
 *
 * Callers pass the chain returned by a successful validation (pki/chain.ts: leaf first, anchor last).
 * RFC 5922 §7.1 and DESIGN.md: validity first, identities second — nothing here re-checks the chain.
 */
import type { X509Certificate } from "node:crypto";
import { extractSipIdentities, normalizeDomain, type SipIdentity } from "../pki/identities.js";
import { tryParseCert } from "../pki/parsed-cert.js";
import { readSubjectCommonNames } from "../pki/subject-name.js";
import { parseUri } from "../sip/uri.js";
import type { IssuingCa } from "./ca-rights.js";
import { mappedIdentities, type CnMapping } from "./cn-mapping.js";
import { certificateFingerprint } from "./fingerprint.js";
import { isSipUri, sameIdentity, uriIdentity, type PeerIdentity } from "./identity.js";

export interface PeerIdentities {
  /** Identities from the certificate and the mapping, before any CA-rights filtering (see ca-rights.ts). */
  readonly identities: readonly PeerIdentity[];
  /** The chain's CAs above the leaf, nearest issuer first; an anchor known only by its key is absent. */
  readonly issuers: readonly IssuingCa[];
  /** Subject CN values of the leaf, used for the mapping. */
  readonly subjectCns: readonly string[];
  /** Identities that could not be used, and mapping ambiguities; for logs. */
  readonly warnings: readonly string[];
}

export interface PeerPartsInput {
  readonly certificateIdentities: readonly SipIdentity[];
  readonly subjectCns: readonly string[];
  readonly issuers: readonly IssuingCa[];
  readonly mapping?: CnMapping;
}

/** Pure core: assembles PeerIdentities from already-extracted parts. */
export function peerIdentitiesFromParts(input: PeerPartsInput): PeerIdentities {
  const warnings: string[] = [];
  const identities: PeerIdentity[] = [];
  for (const sip of input.certificateIdentities) {
    const converted = convertSipIdentity(sip);
    if (typeof converted === "string") warnings.push(converted);
    else addUnique(identities, converted);
  }
  if (input.mapping !== undefined) addMapped(identities, warnings, input.mapping, input.subjectCns);
  return { identities, issuers: input.issuers, subjectCns: input.subjectCns, warnings };
}

function addMapped(
  identities: PeerIdentity[],
  warnings: string[],
  mapping: CnMapping,
  cns: readonly string[],
): void {
  if (cns.length > 1) warnings.push(`subject has ${cns.length} CNs; CN mapping not applied`);
  for (const mapped of mappedIdentities(mapping, cns)) addUnique(identities, mapped);
}

function addUnique(identities: PeerIdentity[], identity: PeerIdentity): void {
  // The certificate's own identity wins over a mapping granting the same thing: it reports a stronger source.
  if (!identities.some((known) => sameIdentity(known, identity))) identities.push(identity);
}

/** pki's identity → auth's; a string is a warning for an identity that cannot be used. */
function convertSipIdentity(sip: SipIdentity): PeerIdentity | string {
  if (sip.kind === "domain") {
    const domain = normalizeDomain(sip.value);
    return domain.length > 0
      ? { kind: "domain", domain, source: sip.source }
      : `unusable domain identity "${sip.value}"`;
  }
  const parsed = parseUri(sip.value);
  if (!parsed.ok || !isSipUri(parsed.uri) || parsed.uri.user === undefined || parsed.uri.user.length === 0) {
    return `unusable URI identity "${sip.value}"`;
  }
  return uriIdentity(parsed.uri, sip.source);
}

export interface PeerChainOptions {
  readonly mapping?: CnMapping;
  /** pki/identities.ts opt-ins; both off by default (issue 4 §1). */
  readonly emailAsSip?: boolean;
  readonly legacyWildcards?: boolean;
}

/** From a verified chain (leaf first). An empty chain means no client certificate: returns undefined. */
export function peerIdentitiesFromChain(
  chain: readonly X509Certificate[],
  options: PeerChainOptions = {},
): PeerIdentities | undefined {
  const [leaf, ...cas] = chain;
  if (leaf === undefined) return undefined;
  const extracted = extractSipIdentities(leaf, {
    emailAsSip: options.emailAsSip ?? false,
    legacyWildcards: options.legacyWildcards ?? false,
  });
  const cns = subjectCommonNames(leaf);
  const peer = peerIdentitiesFromParts({
    certificateIdentities: extracted.identities,
    subjectCns: cns.values,
    issuers: cas.map(issuingCa),
    mapping: options.mapping,
  });
  return { ...peer, warnings: [...extracted.warnings, ...cns.warnings, ...peer.warnings] };
}

/**
 * The leaf's subject CNs, read from its DER by the pki layer; an unreadable subject grants no mapping.
 * The handshake's one parse (parsed-cert.ts) already holds them, decoded by the same reader as
 * readSubjectCommonNames (distinguished-name.ts canonicalName: the same DirectoryString types, the same
 * "not text → skipped" rule); readSubjectCommonNames is asked only when the certificate as a whole does not
 * parse, so that a readable subject still counts and an unreadable one gives the same warning as before.
 */
function subjectCommonNames(leaf: X509Certificate): { values: string[]; warnings: string[] } {
  const parsed = tryParseCert(leaf);
  if (parsed) return { values: [...parsed.subjectCommonNames], warnings: [] };
  try {
    return { values: readSubjectCommonNames(leaf.raw), warnings: [] };
  } catch (err) {
    return {
      values: [],
      warnings: [`subject unreadable, CN mapping not applied: ${(err as Error).message}`],
    };
  }
}

/**
 * The CAs of a chain are mostly the configured anchors and a peer's intermediates, the same objects
 * connection after connection: their fingerprint and subject are computed once per object.
 */
const issuingCas = new WeakMap<X509Certificate, IssuingCa>();

function issuingCa(ca: X509Certificate): IssuingCa {
  let known = issuingCas.get(ca);
  if (known === undefined) {
    known = { fingerprint: certificateFingerprint(ca), subject: ca.subject ?? "" };
    issuingCas.set(ca, known);
  }
  return { ...known };
}
