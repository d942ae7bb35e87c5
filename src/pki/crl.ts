/**
 * Certificate revocation lists (RFC 5280 §5) and the revocation step of path validation (§6.3, simplified to
 * complete, direct CRLs as OpenSSL's `-crl_check_all` uses them).
 *
 * Supported: full CRLs issued by the certificate's issuer and signed with its key; issuingDistributionPoint
 * scope (only user / only CA certificates). Not supported, hence never used to decide: delta CRLs, indirect
 * CRLs, CRLs partitioned by reason (onlySomeReasons); a certificate covered only by those is `crl-missing`.
 */
import type { KeyObject } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { canonicalName, type CanonicalName } from "./distinguished-name.js";
import { readChildren, readElement } from "./der.js";
import { KEY_USAGE_BIT, serialHex, type ParsedCert } from "./parsed-cert.js";
import { looksLikePem, parsePemBlocks } from "./pem.js";
import { verifySignature } from "./signature.js";

/** RFC 5280 §5.3.1 CRLReason names. */
export const CRL_REASONS: Readonly<Record<number, string>> = {
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  6: "certificateHold",
  8: "removeFromCRL",
  9: "privilegeWithdrawn",
  10: "aACompromise",
};

export interface RevokedEntry {
  readonly serialHex: string;
  readonly revocationDate: Date;
  readonly reason: string;
  /** OIDs of critical entry extensions we do not process (RFC 5280 §5.3). */
  readonly unhandledCritical: readonly string[];
}

export interface Crl {
  readonly source: string;
  readonly issuer: CanonicalName;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Revoked certificates by serial number (hex, no leading zero octets). */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  /** OIDs of critical CRL extensions we do not process. */
  readonly unhandledCritical: readonly string[];
  readonly scope: CrlScope;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: pkijs.AlgorithmIdentifier;
  readonly signature: Uint8Array;
}

export interface CrlScope {
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  /** URIs of the issuingDistributionPoint fullName: the CRL covers only certificates that point at one. */
  readonly distributionPoints?: readonly string[];
  /** Delta, indirect, attribute-only or reason-partitioned: not usable by this implementation. */
  readonly unsupported?: string;
}

export class CrlParseError extends Error {
  override readonly name = "CrlParseError";
  readonly code = "bad-crl";
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** Upper bound on the size of one CRL file, so a hostile file cannot exhaust memory. */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;

const CRL_EXT = {
  authorityKeyIdentifier: "2.5.29.35",
  crlNumber: "2.5.29.20",
  issuerAltName: "2.5.29.18",
  issuingDistributionPoint: "2.5.29.28",
  deltaCrlIndicator: "2.5.29.27",
  freshestCrl: "2.5.29.46",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
} as const;
const ENTRY_EXT = { reasonCode: "2.5.29.21", invalidityDate: "2.5.29.24" } as const;
const HANDLED_CRL_EXTENSIONS = new Set<string>(Object.values(CRL_EXT));
const HANDLED_ENTRY_EXTENSIONS = new Set<string>(Object.values(ENTRY_EXT));

/** Parses every CRL of a PEM file (label X509 CRL) or one DER CRL. Throws CrlParseError. */
export function parseCrls(data: Buffer | string, source: string): Crl[] {
  if (data.length > MAX_CRL_BYTES) throw new CrlParseError(source, `larger than ${MAX_CRL_BYTES} bytes`);
  const text = typeof data === "string" ? data : data.toString("latin1");
  if (!looksLikePem(text))
    return [decodeCrl(typeof data === "string" ? Buffer.from(data, "latin1") : data, source)];
  let blocks;
  try {
    blocks = parsePemBlocks(text).filter((b) => b.label === "X509 CRL");
  } catch (err) {
    throw new CrlParseError(source, (err as Error).message);
  }
  if (blocks.length === 0) throw new CrlParseError(source, "no X509 CRL PEM block");
  return blocks.map((b) => decodeCrl(b.der, `${source}#${b.index}`));
}

/** Parses exactly one CRL (PEM or DER). Throws CrlParseError. */
export function parseCrl(data: Buffer | string, source: string): Crl {
  const all = parseCrls(data, source);
  if (all.length !== 1) throw new CrlParseError(source, `expected one CRL, found ${all.length}`);
  return all[0] as Crl;
}

function decodeCrl(der: Buffer, source: string): Crl {
  try {
    return buildCrl(pkijs.CertificateRevocationList.fromBER(der), source);
  } catch (err) {
    throw new CrlParseError(source, `not a DER CertificateList: ${(err as Error).message}`);
  }
}

function buildCrl(crl: pkijs.CertificateRevocationList, source: string): Crl {
  const extensions = crl.crlExtensions?.extensions ?? [];
  return {
    source,
    issuer: canonicalName(issuerDer(crl.tbsView)),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    revoked: revokedEntries(crl.revokedCertificates ?? []),
    unhandledCritical: extensions
      .filter((e) => e.critical && !HANDLED_CRL_EXTENSIONS.has(e.extnID))
      .map((e) => e.extnID),
    scope: crlScope(extensions),
    tbs: crl.tbsView,
    signatureAlgorithm: crl.signatureAlgorithm,
    signature: crl.signatureValue.valueBlock.valueHexView,
  };
}

// TBSCertList: version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name, ... (RFC 5280 §5.1)
function issuerDer(tbs: Uint8Array): Buffer {
  const fields = readChildren(readElement(Buffer.from(tbs)).value);
  const issuer = fields[fields[0]?.tag === 0x02 ? 2 : 1];
  if (issuer?.tag !== 0x30) throw new Error("TBSCertList has no issuer Name");
  return issuer.whole;
}

function revokedEntries(list: readonly pkijs.RevokedCertificate[]): Map<string, RevokedEntry> {
  const map = new Map<string, RevokedEntry>();
  for (const entry of list) {
    const extensions = entry.crlEntryExtensions?.extensions ?? [];
    const serial = serialHex(entry.userCertificate.valueBlock.valueHexView);
    map.set(serial, {
      serialHex: serial,
      revocationDate: entry.revocationDate.value,
      reason: reasonOf(extensions.find((e) => e.extnID === ENTRY_EXT.reasonCode)),
      unhandledCritical: extensions
        .filter((e) => e.critical && !HANDLED_ENTRY_EXTENSIONS.has(e.extnID))
        .map((e) => e.extnID),
    });
  }
  return map;
}

// RFC 5280 §5.3.1: reasonCode is an ENUMERATED; absent means unspecified.
function reasonOf(ext: pkijs.Extension | undefined): string {
  if (!ext) return "unspecified";
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Enumerated)) return "unspecified";
  const code = parsed.result.valueBlock.valueDec;
  return CRL_REASONS[code] ?? `reason-${code}`;
}

function crlScope(extensions: readonly pkijs.Extension[]): CrlScope {
  if (extensions.some((e) => e.extnID === CRL_EXT.deltaCrlIndicator)) {
    return { onlyUserCerts: false, onlyCaCerts: false, unsupported: "delta CRL" };
  }
  const idpExt = extensions.find((e) => e.extnID === CRL_EXT.issuingDistributionPoint);
  if (!idpExt) return { onlyUserCerts: false, onlyCaCerts: false };
  const idp: unknown = idpExt.parsedValue;
  if (!(idp instanceof pkijs.IssuingDistributionPoint)) {
    return { onlyUserCerts: false, onlyCaCerts: false, unsupported: "malformed issuingDistributionPoint" };
  }
  const scope = {
    onlyUserCerts: idp.onlyContainsUserCerts,
    onlyCaCerts: idp.onlyContainsCACerts,
    ...distributionPointUris(idp.distributionPoint),
  };
  if (scope.unsupported) return scope;
  if (idp.indirectCRL) return { ...scope, unsupported: "indirect CRL" };
  if (idp.onlySomeReasons !== undefined) return { ...scope, unsupported: "CRL partitioned by reason" };
  if (idp.onlyContainsAttributeCerts) return { ...scope, unsupported: "attribute-certificate CRL" };
  return scope;
}

// RFC 5280 §5.2.5: a CRL whose issuingDistributionPoint names a distribution point covers only the
// certificates whose cRLDistributionPoints name the same point (a partition). Only fullName URIs are compared.
function distributionPointUris(name: pkijs.IssuingDistributionPoint["distributionPoint"]): {
  distributionPoints?: string[];
  unsupported?: string;
} {
  if (name === undefined) return {};
  if (!Array.isArray(name)) return { unsupported: "distribution point named relative to the CRL issuer" };
  const uris = name.filter((n) => n.type === 6).map((n) => String(n.value));
  return uris.length > 0 ? { distributionPoints: uris } : { unsupported: "distribution point without a URI" };
}

/** The key (and, for certificate issuers, the keyUsage) that must have signed the CRL. */
export interface CrlIssuer {
  readonly publicKey: KeyObject;
  readonly keyUsage?: ReadonlySet<number>;
}

export type RevocationVerdict =
  | { ok: true; crl: Crl }
  | {
      ok: false;
      code:
        | "revoked"
        | "crl-missing"
        | "crl-bad-signature"
        | "crl-expired"
        | "crl-not-yet-valid"
        | "key-usage"
        | "unhandled-critical-extension";
      detail: string;
      /** For `revoked`: the CRLReason name. */
      reason?: string;
    };

/**
 * RFC 5280 §6.3 for one certificate: find a complete CRL from its issuer, check the CRL's signature and
 * validity period at `at`, then look the serial number up.
 */
export function checkRevocation(
  cert: ParsedCert,
  isCa: boolean,
  issuer: CrlIssuer,
  crls: readonly Crl[],
  at: Date,
): RevocationVerdict {
  const inScope = crls.filter((c) => c.issuer.key === cert.issuer.key && covers(c.scope, cert, isCa));
  if (inScope.length === 0) {
    return { ok: false, code: "crl-missing", detail: `no usable CRL from ${cert.issuer.text}` };
  }
  // RFC 5280 §4.2.1.3: a key that signs CRLs must have cRLSign when keyUsage is present.
  if (issuer.keyUsage && !issuer.keyUsage.has(KEY_USAGE_BIT.cRLSign)) {
    return { ok: false, code: "key-usage", detail: `issuer ${cert.issuer.text} is not allowed to sign CRLs` };
  }
  const signed = inScope.filter(
    (c) => verifySignature(c.tbs, c.signatureAlgorithm, c.signature, issuer.publicKey).ok,
  );
  const crl = newest(signed);
  if (!crl) {
    return {
      ok: false,
      code: "crl-bad-signature",
      detail: `CRL from ${cert.issuer.text} is not signed by the issuer's key (${inScope.map((c) => c.source).join(", ")})`,
    };
  }
  return checkCrlContents(cert, crl, at);
}

function covers(scope: CrlScope, cert: ParsedCert, isCa: boolean): boolean {
  if (scope.unsupported) return false;
  if (scope.onlyCaCerts && !isCa) return false;
  if (scope.onlyUserCerts && isCa) return false;
  if (scope.distributionPoints) {
    return scope.distributionPoints.some((uri) => cert.crlDistributionPointUris.includes(uri));
  }
  return true;
}

function newest(crls: readonly Crl[]): Crl | undefined {
  return [...crls].sort((a, b) => b.thisUpdate.getTime() - a.thisUpdate.getTime())[0];
}

function checkCrlContents(cert: ParsedCert, crl: Crl, at: Date): RevocationVerdict {
  // RFC 5280 §6.3.3 (a)(2): the CRL must be current; a CRL from the future is not yet valid.
  if (crl.thisUpdate.getTime() > at.getTime()) {
    return {
      ok: false,
      code: "crl-not-yet-valid",
      detail: `${crl.source}: thisUpdate ${iso(crl.thisUpdate)}`,
    };
  }
  if (crl.nextUpdate && crl.nextUpdate.getTime() < at.getTime()) {
    return {
      ok: false,
      code: "crl-expired",
      detail: `${crl.source}: nextUpdate ${iso(crl.nextUpdate)} has passed`,
    };
  }
  // RFC 5280 §5.2: a CRL with an unrecognised critical extension must not be used to decide.
  if (crl.unhandledCritical.length > 0) {
    return {
      ok: false,
      code: "unhandled-critical-extension",
      detail: `${crl.source}: unhandled critical CRL extension ${crl.unhandledCritical.join(", ")}`,
    };
  }
  return checkEntry(cert, crl);
}

function checkEntry(cert: ParsedCert, crl: Crl): RevocationVerdict {
  const entry = crl.revoked.get(cert.serialHex);
  // RFC 5280 §5.3.1: removeFromCRL only appears in delta CRLs and means "no longer revoked".
  if (!entry || entry.reason === "removeFromCRL") return { ok: true, crl };
  if (entry.unhandledCritical.length > 0) {
    return {
      ok: false,
      code: "unhandled-critical-extension",
      detail: `${crl.source}: unhandled critical CRL entry extension ${entry.unhandledCritical.join(", ")}`,
    };
  }
  return {
    ok: false,
    code: "revoked",
    reason: entry.reason,
    detail: `serial ${cert.serialHex} revoked on ${iso(entry.revocationDate)} (${entry.reason}) by ${crl.source}`,
  };
}

function iso(date: Date): string {
  return date.toISOString();
}
