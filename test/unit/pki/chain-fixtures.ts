/**
 * Test PKI for the path-validation tests: certificates from src/pki/issue.ts, plus CRLs and name-constraint
 * extensions encoded here (DER built with asn1js/pkijs, signed with node:crypto), all synchronous.
 */
import { sign, X509Certificate, type KeyObject } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import {
  createCa,
  issueCertificate,
  type CertificateOptions,
  type GeneratedCertificate,
} from "../../../src/pki/issue.js";

export const DAY = 86_400_000;
export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY);

export const CA_KEY_USAGE: CertificateOptions["keyUsage"] = ["keyCertSign", "cRLSign"];

/** root → int → leaf, the shape most tests start from. */
export function threeLevels(
  options: { root?: CertificateOptions; int?: CertificateOptions; leaf?: CertificateOptions } = {},
) {
  const root = createCa({ cn: "Test Root", ...options.root });
  const int = issueCertificate(root, {
    cn: "Test Int",
    basicConstraints: { ca: true, critical: true },
    keyUsage: CA_KEY_USAGE,
    ...options.int,
  });
  const leaf = issueCertificate(int, {
    cn: "sip.example.com",
    san: { dns: ["sip.example.com"] },
    ...options.leaf,
  });
  return { root, int, leaf };
}

/** A CA certificate issued by `issuer`. */
export function intermediate(issuer: GeneratedCertificate, cn: string, options: CertificateOptions = {}) {
  return issueCertificate(issuer, {
    cn,
    basicConstraints: { ca: true, critical: true },
    keyUsage: CA_KEY_USAGE,
    ...options,
  });
}

export type NameForm = "dns" | "uri" | "email" | "ip" | "dn";

/** GeneralName for a subtree base: dns/uri/email as text, ip as "a.b.c.d/m.m.m.m", dn as [[type, value]]. */
export function generalName(form: NameForm, value: string | Array<[string, string]>): pkijs.GeneralName {
  switch (form) {
    case "dns":
      return new pkijs.GeneralName({ type: 2, value: String(value) });
    case "uri":
      return new pkijs.GeneralName({ type: 6, value: String(value) });
    case "email":
      return new pkijs.GeneralName({ type: 1, value: String(value) });
    case "ip": {
      const [addr = "", mask = ""] = String(value).split("/");
      const bytes = [...addr.split("."), ...mask.split(".")].map(Number);
      return new pkijs.GeneralName({
        type: 7,
        value: new asn1js.OctetString({ valueHex: new Uint8Array(bytes).buffer }),
      });
    }
    case "dn": {
      const rdn = new pkijs.RelativeDistinguishedNames({
        typesAndValues: (value as Array<[string, string]>).map(
          ([type, v]) =>
            new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value: v }) }),
        ),
      });
      return new pkijs.GeneralName({ type: 4, value: rdn });
    }
  }
}

/** The nameConstraints extension (RFC 5280 §4.2.1.10), critical as the RFC requires. */
export function nameConstraints(
  permitted: pkijs.GeneralName[],
  excluded: pkijs.GeneralName[] = [],
  subtree: { minimum?: number; maximum?: number } = {},
) {
  const wrap = (base: pkijs.GeneralName) => new pkijs.GeneralSubtree({ base, ...subtree });
  const nc = new pkijs.NameConstraints({
    ...(permitted.length ? { permittedSubtrees: permitted.map(wrap) } : {}),
    ...(excluded.length ? { excludedSubtrees: excluded.map(wrap) } : {}),
  });
  return { oid: "2.5.29.30", critical: true, value: Buffer.from(nc.toSchema().toBER()) };
}

export interface CrlOptions {
  thisUpdate?: Date;
  /** null → no nextUpdate field. */
  nextUpdate?: Date | null;
  revoked?: Array<{ serialHex: string; reason?: number; date?: Date; criticalEntryExtension?: string }>;
  /** CRL extensions as [oid, critical, DER value]. */
  extensions?: Array<[string, boolean, Buffer]>;
  /** Sign with this key instead of the issuer's (a forged CRL). */
  signer?: KeyObject;
}

/** A v2 CRL (RFC 5280 §5.1) from `issuer`, DER, signed ecdsa-with-SHA256. */
export function makeCrl(issuer: GeneratedCertificate, options: CrlOptions = {}): Buffer {
  const issuerName = pkijs.Certificate.fromBER(issuer.certificate.raw).subject.toSchema();
  const algorithm = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: "1.2.840.10045.4.3.2" })],
  });
  const fields: asn1js.AsnType[] = [
    new asn1js.Integer({ value: 1 }),
    algorithm,
    issuerName,
    new asn1js.UTCTime({ valueDate: options.thisUpdate ?? daysFromNow(-1) }),
  ];
  if (options.nextUpdate !== null)
    fields.push(new asn1js.UTCTime({ valueDate: options.nextUpdate ?? daysFromNow(7) }));
  if (options.revoked?.length) fields.push(new asn1js.Sequence({ value: options.revoked.map(revokedEntry) }));
  if (options.extensions?.length) {
    fields.push(
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [
          new asn1js.Sequence({
            value: options.extensions.map(([oid, critical, value]) => extension(oid, critical, value)),
          }),
        ],
      }),
    );
  }
  const tbs = Buffer.from(new asn1js.Sequence({ value: fields }).toBER());
  const signature = sign("sha256", tbs, options.signer ?? issuer.privateKey);
  const crl = new asn1js.Sequence({
    value: [
      asn1js.fromBER(tbs).result,
      algorithm,
      new asn1js.BitString({ valueHex: new Uint8Array(signature).buffer }),
    ],
  });
  return Buffer.from(crl.toBER());
}

function revokedEntry(entry: NonNullable<CrlOptions["revoked"]>[number]): asn1js.Sequence {
  const extensions: asn1js.Sequence[] = [];
  if (entry.reason !== undefined) {
    extensions.push(
      extension("2.5.29.21", false, Buffer.from(new asn1js.Enumerated({ value: entry.reason }).toBER())),
    );
  }
  if (entry.criticalEntryExtension) {
    extensions.push(extension(entry.criticalEntryExtension, true, Buffer.from(new asn1js.Null().toBER())));
  }
  const value: asn1js.AsnType[] = [
    new asn1js.Integer({ valueHex: new Uint8Array(Buffer.from(entry.serialHex, "hex")).buffer }),
    new asn1js.UTCTime({ valueDate: entry.date ?? daysFromNow(-1) }),
  ];
  if (extensions.length) value.push(new asn1js.Sequence({ value: extensions }));
  return new asn1js.Sequence({ value });
}

function extension(oid: string, critical: boolean, value: Buffer): asn1js.Sequence {
  const parts: asn1js.AsnType[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (critical) parts.push(new asn1js.Boolean({ value: true }));
  parts.push(new asn1js.OctetString({ valueHex: new Uint8Array(value).buffer }));
  return new asn1js.Sequence({ value: parts });
}

/** DER of the IssuingDistributionPoint extension value (RFC 5280 §5.2.5). */
export function issuingDistributionPoint(flags: {
  onlyUser?: boolean;
  onlyCa?: boolean;
  indirect?: boolean;
  uri?: string;
}): Buffer {
  const value: asn1js.AsnType[] = [];
  const flag = (tag: number) =>
    new asn1js.Primitive({
      idBlock: { tagClass: 3, tagNumber: tag },
      valueHex: new Uint8Array([0xff]).buffer,
    });
  if (flags.uri) value.push(distributionPointName(flags.uri));
  if (flags.onlyUser) value.push(flag(1));
  if (flags.onlyCa) value.push(flag(2));
  if (flags.indirect) value.push(flag(4));
  return Buffer.from(new asn1js.Sequence({ value }).toBER());
}

// distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] uri } }
function distributionPointName(uri: string): asn1js.Constructed {
  const gn = new asn1js.Primitive({
    idBlock: { tagClass: 3, tagNumber: 6 },
    valueHex: new Uint8Array(Buffer.from(uri, "latin1")).buffer,
  });
  const fullName = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [gn] });
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [fullName] });
}

/** The cRLDistributionPoints certificate extension (RFC 5280 §4.2.1.13) with one fullName URI. */
export function crlDistributionPoints(uri: string) {
  const point = new asn1js.Sequence({ value: [distributionPointName(uri)] });
  return { oid: "2.5.29.31", value: Buffer.from(new asn1js.Sequence({ value: [point] }).toBER()) };
}

/** The serial number of a certificate as hex, as the CRL code compares it. */
export function serialOf(cert: X509Certificate): string {
  return cert.serialNumber.toLowerCase().replace(/^(00)+(?=..)/, "");
}
