// The test PKI of the proxy interop suite: one CA that issues the edge's server certificate and the partners'
// client certificates. Generated once per test file (key generation is the slow part) and written into each
// lab's directory as PEM files for the edge's configuration and for stunnel.
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import type { TempDir } from "../tls/temp-dir.js";

/** The name stunnel sends as SNI and checks in the edge's certificate. */
export const EDGE_NAME = "edge.example";

export interface ProxyPki {
  readonly ca: GeneratedCertificate;
  readonly edge: GeneratedCertificate;
  /** RFC 5922 §7.1 domain identity a.example (SAN URI sip:a.example): covers From sip:*@a.example. */
  readonly partnerA: GeneratedCertificate;
  /** Domain identity b.example only: does not cover From sip:*@a.example. */
  readonly partnerB: GeneratedCertificate;
}

export interface PkiFiles {
  readonly caFile: string;
  readonly edge: { readonly cert: string; readonly key: string };
  readonly partnerA: { readonly cert: string; readonly key: string };
  readonly partnerB: { readonly cert: string; readonly key: string };
}

function partner(ca: GeneratedCertificate, domain: string): GeneratedCertificate {
  return issueCertificate(ca, {
    subject: [
      ["CN", domain],
      ["O", `Partner ${domain}`],
    ],
    san: { uri: [`sip:${domain}`], dns: [domain] },
    eku: ["clientAuth", "serverAuth"],
  });
}

export function createProxyPki(): ProxyPki {
  const ca = createCa({ cn: "siptrust proxy interop CA" });
  return {
    ca,
    edge: issueCertificate(ca, {
      cn: EDGE_NAME,
      san: { uri: [`sip:${EDGE_NAME}`], dns: [EDGE_NAME] },
      eku: ["serverAuth", "clientAuth"],
    }),
    partnerA: partner(ca, "a.example"),
    partnerB: partner(ca, "b.example"),
  };
}

export function writePkiFiles(dir: TempDir, pki: ProxyPki): PkiFiles {
  return {
    caFile: dir.write("ca.pem", pki.ca.certificatePem),
    edge: dir.writeCredential("edge", pki.edge),
    partnerA: dir.writeCredential("partner-a", pki.partnerA),
    partnerB: dir.writeCredential("partner-b", pki.partnerB),
  };
}
