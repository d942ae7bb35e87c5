/**
 * A small test PKI for the DANE unit tests, generated once per test file with the PKI layer's generator:
 * root → issuer (intermediate) → leaves for the SRV target "sip.example.net" (SIP domain "example.com"),
 * plus an unrelated hierarchy. Also a helper that builds TLSA records for a certificate.
 */
import type { X509Certificate } from "node:crypto";
import type { TlsaRecord } from "../../../src/dane/tlsa.js";
import { tlsaAssociationData, type TlsaMatching, type TlsaSelector } from "../../../src/pki/tlsa-data.js";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";

export const TARGET_HOST = "sip.example.net";
export const SIP_DOMAIN = "example.com";
export const REFERENCE = { targetHost: TARGET_HOST, sipDomain: SIP_DOMAIN } as const;
/** Inside every fixture certificate's validity except the deliberately expired one. */
export const NOW = new Date();

export interface TestPki {
  readonly root: GeneratedCertificate;
  readonly issuer: GeneratedCertificate;
  readonly leaf: GeneratedCertificate;
  readonly expiredLeaf: GeneratedCertificate;
  readonly otherNameLeaf: GeneratedCertificate;
  readonly sipUriLeaf: GeneratedCertificate;
  readonly domainLeaf: GeneratedCertificate;
  readonly wildcardLeaf: GeneratedCertificate;
  readonly strangerRoot: GeneratedCertificate;
  readonly strangerLeaf: GeneratedCertificate;
}

let cached: Promise<TestPki> | undefined;

export function testPki(): Promise<TestPki> {
  cached ??= makePki();
  return cached;
}

async function makePki(): Promise<TestPki> {
  const root = await createCa({ cn: "DANE Test Root" });
  const issuer = await issueCertificate(root, {
    cn: "DANE Test Issuer",
    days: 3650,
    basicConstraints: { ca: true, critical: true },
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const server = (dns: string[], extra: object = {}) =>
    issueCertificate(issuer, { cn: dns[0] ?? "no name", san: { dns }, eku: ["serverAuth"], ...extra });
  const strangerRoot = await createCa({ cn: "Stranger Root" });
  return {
    root,
    issuer,
    leaf: await server([TARGET_HOST]),
    expiredLeaf: await server([TARGET_HOST], {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2020-02-01T00:00:00Z"),
    }),
    otherNameLeaf: await server(["other.example.org"]),
    sipUriLeaf: await issueCertificate(issuer, {
      cn: "x",
      san: { uri: [`sip:${SIP_DOMAIN}`] },
      eku: ["serverAuth"],
    }),
    domainLeaf: await server([SIP_DOMAIN]),
    wildcardLeaf: await server(["*.example.net"]),
    strangerRoot,
    strangerLeaf: await issueCertificate(strangerRoot, {
      cn: TARGET_HOST,
      san: { dns: [TARGET_HOST] },
      eku: ["serverAuth"],
    }),
  };
}

/** The TLSA record "usage selector matchingType <data for cert>". */
export function tlsaFor(
  usage: number,
  selector: TlsaSelector,
  matchingType: TlsaMatching,
  cert: X509Certificate,
): TlsaRecord {
  return { usage, selector, matchingType, data: tlsaAssociationData(cert, selector, matchingType) };
}

/** The same record with its last octet flipped: same parameters, never matches. */
export function corrupt(record: TlsaRecord): TlsaRecord {
  const data = Buffer.from(record.data);
  data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0xff;
  return { ...record, data };
}

/** Chains and anchors in the shape verifyDane takes. */
export function chainOf(...certs: GeneratedCertificate[]): X509Certificate[] {
  return certs.map((c) => c.certificate);
}
