/**
 * The OCSP test world: a CA, a delegated responder certificate (id-kp-OCSPSigning), a rogue responder
 * certificate without that EKU, and leaf certificates whose AIA points at loopback responders:
 *
 * | leaf          | AIA responder            | responder's answer                       |
 * | ------------- | ------------------------ | ---------------------------------------- |
 * | good          | main                     | good                                     |
 * | revoked       | main                     | revoked (keyCompromise)                  |
 * | unknown       | main                     | unknown (serial not in the index)        |
 * | unreachable   | closed loopback port     | connection refused                       |
 * | invalid       | rogue                    | good, signed by a non-authorised key     |
 * | slow          | slow (mode "hang")       | never answers                            |
 * | serverGood    | main                     | good (server certificate for stapling)   |
 * | serverRevoked | main                     | revoked (server certificate for stapling)|
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { encodeOcspAuthorityInfoAccess } from "../../../src/pki/ocsp.js";
import { closedPort, startLoopbackResponder, type LoopbackResponder } from "./openssl-responder.js";

export type LeafName =
  "good" | "revoked" | "unknown" | "unreachable" | "invalid" | "slow" | "serverGood" | "serverRevoked";

export interface OcspLab {
  readonly dir: string;
  readonly ca: GeneratedCertificate;
  readonly leaves: Readonly<Record<LeafName, GeneratedCertificate>>;
  readonly main: LoopbackResponder;
  readonly rogue: LoopbackResponder;
  readonly slow: LoopbackResponder;
  stop(): Promise<void>;
}

export async function startOcspLab(): Promise<OcspLab> {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-ocsp-lab-"));
  const responders: LoopbackResponder[] = [];
  const stop = async () => {
    await Promise.all(responders.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const main = await startLoopbackResponder(dir, "main");
    responders.push(main);
    const rogue = await startLoopbackResponder(dir, "rogue");
    responders.push(rogue);
    const slow = await startLoopbackResponder(dir, "slow");
    responders.push(slow);
    slow.mode = "hang";
    const deadUrl = `http://127.0.0.1:${await closedPort()}/`;

    const ca = createCa({ cn: "siptrust OCSP lab CA" });
    const responderCert = issueCertificate(ca, { cn: "siptrust OCSP lab responder", eku: ["OCSPSigning"] });
    const rogueCert = issueCertificate(ca, { cn: "siptrust OCSP lab rogue", eku: ["serverAuth"] });
    const leaf = (cn: string, url: string) =>
      issueCertificate(ca, {
        cn,
        san: { uri: [`sip:${cn}`], dns: [cn] },
        eku: ["sipDomain", "serverAuth", "clientAuth"],
        extensions: [{ oid: "1.3.6.1.5.5.7.1.1", value: encodeOcspAuthorityInfoAccess([url]) }],
      });
    const leaves: Record<LeafName, GeneratedCertificate> = {
      good: leaf("good.example.com", main.url),
      revoked: leaf("revoked.example.com", main.url),
      unknown: leaf("unknown.example.com", main.url),
      unreachable: leaf("unreachable.example.com", deadUrl),
      invalid: leaf("invalid.example.com", rogue.url),
      slow: leaf("slow.example.com", slow.url),
      serverGood: leaf("server-good.example.com", main.url),
      serverRevoked: leaf("server-revoked.example.com", main.url),
    };
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    };
    const index = write("index.txt", indexFile(leaves));
    const caPem = write("ca.pem", ca.certificatePem);
    main.configure({
      index,
      caPem,
      signerPem: write("responder.pem", responderCert.certificatePem),
      signerKey: write("responder.key", responderCert.privateKeyPem),
    });
    rogue.configure({
      index,
      caPem,
      signerPem: write("rogue.pem", rogueCert.certificatePem),
      signerKey: write("rogue.key", rogueCert.privateKeyPem),
    });
    return { dir, ca, leaves, main, rogue, slow, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// openssl ca index.txt: status, expiry, revocation[,reason], serial (hex), file, subject — tab-separated.
function indexFile(leaves: Record<LeafName, GeneratedCertificate>): string {
  const revokedAt = yymmdd(new Date(Date.now() - 3_600_000));
  return (Object.entries(leaves) as Array<[LeafName, GeneratedCertificate]>)
    .filter(([name]) => name !== "unknown")
    .map(([name, g]) => {
      const cert = g.certificate;
      const expiry = yymmdd(new Date(cert.validTo));
      const revoked = name === "revoked" || name === "serverRevoked";
      const cn = cert.subject.replace(/^CN=/, "");
      return revoked
        ? `R\t${expiry}\t${revokedAt},keyCompromise\t${cert.serialNumber}\tunknown\t/CN=${cn}\n`
        : `V\t${expiry}\t\t${cert.serialNumber}\tunknown\t/CN=${cn}\n`;
    })
    .join("");
}

function yymmdd(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
}
