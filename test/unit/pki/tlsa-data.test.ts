// RFC 6698 §2.1 association data: selectors 0/1 and matching types 0/1/2.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createCa, issueCertificate, type KeyAlgorithm } from "../../../src/pki/issue.js";
import { formatTlsaRdata, tlsaAssociationData, tlsaSelectedContent } from "../../../src/pki/tlsa-data.js";

const ca = createCa();

describe("tlsaAssociationData", () => {
  for (const alg of ["ec-p256", "ec-p384", "rsa-2048", "ed25519"] as KeyAlgorithm[]) {
    const cert = issueCertificate(ca, { cn: "tlsa.example", keyAlgorithm: alg }).certificate;
    it(`${alg}: selector 1 is the certificate's SubjectPublicKeyInfo`, () => {
      const spki = cert.publicKey.export({ type: "spki", format: "der" });
      assert.deepEqual(tlsaSelectedContent(cert, 1), spki);
      assert.deepEqual(tlsaAssociationData(cert, 1, 0), spki);
    });
    it(`${alg}: selector 0 is the whole DER; SHA-256 equals the certificate fingerprint`, () => {
      assert.deepEqual(tlsaAssociationData(cert, 0, 0), cert.raw);
      const hex = tlsaAssociationData(cert, 0, 1).toString("hex");
      assert.equal(hex, cert.fingerprint256.replace(/:/g, "").toLowerCase());
    });
  }

  it("matching 1 and 2 are SHA-256 and SHA-512 of the selected content", () => {
    const cert = issueCertificate(ca, { cn: "tlsa.example" }).certificate;
    const spki = tlsaSelectedContent(cert, 1);
    assert.deepEqual(tlsaAssociationData(cert, 1, 1), createHash("sha256").update(spki).digest());
    assert.deepEqual(tlsaAssociationData(cert, 1, 2), createHash("sha512").update(spki).digest());
    assert.equal(tlsaAssociationData(cert, 0, 2).length, 64);
  });

  it("different keys give different 3 1 1 data", () => {
    const a = issueCertificate(ca, { cn: "a.example" }).certificate;
    const b = issueCertificate(ca, { cn: "a.example" }).certificate;
    assert.notDeepEqual(tlsaAssociationData(a, 1, 1), tlsaAssociationData(b, 1, 1));
  });

  it("formats presentation form", () => {
    assert.equal(formatTlsaRdata(3, 1, 1, Buffer.from([0xab, 0x01])), "3 1 1 ab01");
  });
});
