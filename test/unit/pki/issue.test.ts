// The certificate generator: what other tests and `siptrust pki` rely on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCa, createSelfSigned, issueCertificate } from "../../../src/pki/issue.js";
import { readExtensions } from "../../../src/pki/extensions.js";
import { readSubjectAltNames } from "../../../src/pki/san.js";
import { readExtendedKeyUsage } from "../../../src/pki/eku.js";
import { parseCertificates, parsePrivateKey, checkKeyMatchesCertificate } from "../../../src/pki/load.js";

const ca = createCa();

function extensionValue(der: Buffer, oid: string) {
  return readExtensions(der).find((e) => e.oid === oid);
}

describe("createCa", () => {
  it("is a self-signed CA with a critical basicConstraints and keyCertSign", () => {
    assert.equal(ca.certificate.ca, true);
    assert.equal(ca.certificate.checkIssued(ca.certificate), true);
    assert.equal(ca.certificate.verify(ca.certificate.publicKey), true);
    const bc = extensionValue(ca.certificate.raw, "2.5.29.19");
    assert.equal(bc?.critical, true);
    // keyUsage BIT STRING: digitalSignature(0), keyCertSign(5), cRLSign(6) → 0x86, 1 unused bit
    assert.deepEqual(
      extensionValue(ca.certificate.raw, "2.5.29.15")?.value,
      Buffer.from([0x03, 0x02, 0x01, 0x86]),
    );
  });

  it("writes a PEM pair that the loader reads back and that matches", () => {
    const [cert] = parseCertificates(ca.certificatePem, "ca.pem");
    const key = parsePrivateKey(ca.privateKeyPem, "ca-key.pem");
    assert.ok(cert);
    checkKeyMatchesCertificate(key, cert, "ca-key.pem");
  });
});

describe("issueCertificate", () => {
  it("is signed by the CA and names it as issuer", () => {
    const leaf = issueCertificate(ca, { cn: "leaf.example" });
    assert.equal(leaf.certificate.verify(ca.certificate.publicKey), true);
    assert.equal(leaf.certificate.checkIssued(ca.certificate), true);
    assert.equal(leaf.certificate.ca, false);
    assert.equal(leaf.certificate.issuer, ca.certificate.subject);
  });

  it("honours the validity window, serial and subject", () => {
    const notBefore = new Date("2020-01-02T03:04:05Z");
    const notAfter = new Date("2060-06-07T08:09:10Z"); // beyond 2049: GeneralizedTime
    const leaf = issueCertificate(ca, {
      subject: [
        ["CN", "a, b+c"],
        ["O", "Org"],
      ],
      notBefore,
      notAfter,
      serialNumber: "00ff01",
    }).certificate;
    assert.equal(new Date(leaf.validFrom).toISOString(), notBefore.toISOString());
    assert.equal(new Date(leaf.validTo).toISOString(), notAfter.toISOString());
    assert.equal(leaf.serialNumber, "FF01"); // the INTEGER carries a sign octet, OpenSSL prints the value
    assert.match(leaf.subject, /CN=a\\, b\\\+c|CN=a, b\+c/);
  });

  it("writes SAN entries of every kind", () => {
    const leaf = issueCertificate(ca, {
      san: {
        uri: ["sip:example.com"],
        dns: ["a.example"],
        email: ["x@example.com"],
        ip: ["192.0.2.1", "2001:db8::1"],
      },
    }).certificate;
    const san = readSubjectAltNames(leaf.raw);
    assert.deepEqual(
      [san.uri, san.dns, san.email, san.ip],
      [["sip:example.com"], ["a.example"], ["x@example.com"], ["192.0.2.1", "2001:db8::1"]],
    );
    assert.match(leaf.subjectAltName ?? "", /URI:sip:example.com/); // OpenSSL reads it the same way
    // RFC 5280 §4.2.1.6: SAN is critical when the subject is empty
    assert.equal(extensionValue(leaf.raw, "2.5.29.17")?.critical, true);
  });

  it("writes EKU names and raw OIDs", () => {
    const leaf = issueCertificate(ca, { cn: "x", eku: ["sipDomain", "1.3.6.1.5.5.7.3.2"] }).certificate;
    assert.deepEqual(readExtendedKeyUsage(leaf), ["1.3.6.1.5.5.7.3.20", "1.3.6.1.5.5.7.3.2"]);
    assert.throws(
      () => issueCertificate(ca, { cn: "x", eku: ["noSuchPurpose"] }),
      /unknown extended key usage/,
    );
  });

  it("omits basicConstraints and keyUsage on request", () => {
    const leaf = issueCertificate(ca, { cn: "x", basicConstraints: null, keyUsage: null }).certificate;
    assert.equal(extensionValue(leaf.raw, "2.5.29.19"), undefined);
    assert.equal(extensionValue(leaf.raw, "2.5.29.15"), undefined);
  });

  it("encodes keyUsage bits without trailing zero bits (X.690 §11.2.2)", () => {
    const leaf = issueCertificate(ca, { cn: "x", keyUsage: ["decipherOnly"] }).certificate;
    assert.deepEqual(
      extensionValue(leaf.raw, "2.5.29.15")?.value,
      Buffer.from([0x03, 0x03, 0x07, 0x00, 0x80]),
    );
  });

  it("issues an intermediate CA with pathLength whose leaves chain to it", () => {
    const inter = issueCertificate(ca, {
      cn: "intermediate",
      basicConstraints: { ca: true, pathLength: 0 },
      keyUsage: ["keyCertSign", "cRLSign"],
    });
    assert.equal(inter.certificate.ca, true);
    assert.deepEqual(
      extensionValue(inter.certificate.raw, "2.5.29.19")?.value,
      Buffer.from([0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]),
    );
    const leaf = issueCertificate(inter, { cn: "leaf" });
    assert.equal(leaf.certificate.verify(inter.certificate.publicKey), true);
    assert.equal(leaf.certificate.checkIssued(inter.certificate), true);
  });

  it("signs with RSA, P-384 and Ed25519 CAs", () => {
    for (const alg of ["rsa-2048", "ec-p384", "ed25519"] as const) {
      const otherCa = createCa({ keyAlgorithm: alg });
      const leaf = issueCertificate(otherCa, { cn: `leaf-${alg}` });
      assert.equal(leaf.certificate.verify(otherCa.certificate.publicKey), true, alg);
    }
  });

  it("tamperSignature yields a certificate that does not verify", () => {
    const leaf = issueCertificate(ca, { cn: "x", tamperSignature: true });
    assert.equal(leaf.certificate.verify(ca.certificate.publicKey), false);
  });

  it("reuses a given key", () => {
    const first = issueCertificate(ca, { cn: "x" });
    const second = issueCertificate(ca, { cn: "x", privateKey: first.privateKey });
    assert.equal(second.certificate.checkPrivateKey(first.privateKey), true);
  });

  it("createSelfSigned adds no CA defaults", () => {
    const ee = createSelfSigned({ cn: "ee.example" });
    assert.equal(ee.certificate.ca, false);
    assert.equal(extensionValue(ee.certificate.raw, "2.5.29.19"), undefined);
  });
});
