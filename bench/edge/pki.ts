/**
 * One set of certificates for both proxies (issue 7 §5: same certificates): a CA, the edge's server
 * certificate (sip:edge.example, DNS edge.example, as both listeners present it) and the partner's client
 * certificate (sip:partner.example, clientAuth EKU) that stunnel presents on every TLS connection. The
 * UAC's From is in partner.example, so siptrust's per-message authorization passes (RFC 5922 domain match).
 */
import { createCa, issueCertificate } from "../../src/pki/issue.js";
import type { TempDir } from "../../test/interop/tls/temp-dir.js";

export const EDGE_NAME = "edge.example";
export const PARTNER_DOMAIN = "partner.example";

export interface BenchPki {
  readonly caFile: string;
  readonly caPem: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export function writePki(dir: TempDir): BenchPki {
  const ca = createCa({ cn: "siptrust bench CA" });
  const server = issueCertificate(ca, {
    cn: EDGE_NAME,
    san: { uri: [`sip:${EDGE_NAME}`], dns: [EDGE_NAME] },
    eku: ["serverAuth", "clientAuth"],
  });
  const client = issueCertificate(ca, {
    cn: PARTNER_DOMAIN,
    san: { uri: [`sip:${PARTNER_DOMAIN}`] },
    eku: ["clientAuth"],
  });
  const serverFiles = dir.writeCredential("edge", server);
  const clientFiles = dir.writeCredential("partner", client);
  return {
    caFile: dir.write("ca.pem", ca.certificatePem),
    caPem: ca.certificatePem,
    serverCert: serverFiles.cert,
    serverKey: serverFiles.key,
    serverCertPem: server.certificatePem,
    serverKeyPem: server.privateKeyPem,
    clientCert: clientFiles.cert,
    clientKey: clientFiles.key,
  };
}
