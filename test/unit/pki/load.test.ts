// Loading certificates and keys from PEM/DER, and the typed errors for every kind of bad input.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { createCa, createSelfSigned, issueCertificate } from "../../../src/pki/issue.js";
import {
  CertificateLoadError,
  checkKeyMatchesCertificate,
  loadCertificateAndKey,
  parseCertificates,
  parsePrivateKey,
} from "../../../src/pki/load.js";
import {
  bitString,
  contextTag,
  integer,
  octetString,
  oid,
  sequence,
  time,
} from "../../../src/pki/der-writer.js";

const ca = createCa();
const leaf = issueCertificate(ca, { cn: "leaf.example" });
const other = issueCertificate(ca, { cn: "other.example" });

function expectLoadError(fn: () => unknown, code: string, source = "input.pem"): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CertificateLoadError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.source, source);
    assert.ok(err.message.startsWith(`${source}: `), err.message);
    return true;
  });
}

describe("parseCertificates", () => {
  it("reads every block of a PEM bundle in order", () => {
    const certs = parseCertificates(leaf.certificatePem + ca.certificatePem, "bundle.pem");
    assert.deepEqual(
      certs.map((c) => c.subject),
      ["CN=leaf.example", "CN=siptrust development CA"],
    );
  });

  it("tolerates explanatory text before, between and after blocks (RFC 7468 §2)", () => {
    const text = `Bag Attributes\n    friendlyName: leaf\nsubject=CN = leaf.example\n${leaf.certificatePem}some text\n${ca.certificatePem}trailer`;
    assert.equal(parseCertificates(text, "x.pem").length, 2);
  });

  it("accepts CRLF line endings and a Buffer", () => {
    const certs = parseCertificates(Buffer.from(leaf.certificatePem.replace(/\n/g, "\r\n")), "crlf.pem");
    assert.equal(certs[0]?.subject, "CN=leaf.example");
  });

  it("reads a DER certificate", () => {
    const certs = parseCertificates(leaf.certificate.raw, "leaf.der");
    assert.equal(certs[0]?.fingerprint256, leaf.certificate.fingerprint256);
  });

  it("reads OpenSSL's TRUSTED CERTIFICATE form and drops the trust settings", () => {
    // X509_CERT_AUX: SEQUENCE { trust SEQUENCE OF OID } appended after the certificate
    const aux = sequence(sequence(oid("1.3.6.1.5.5.7.3.1")));
    const body = Buffer.concat([leaf.certificate.raw, aux]).toString("base64");
    const pem = `-----BEGIN TRUSTED CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join("\n")}\n-----END TRUSTED CERTIFICATE-----\n`;
    assert.equal(parseCertificates(pem, "trusted.pem")[0]?.fingerprint256, leaf.certificate.fingerprint256);
  });

  it("skips non-certificate blocks in a combined file", () => {
    const certs = parseCertificates(leaf.privateKeyPem + leaf.certificatePem, "combined.pem");
    assert.equal(certs.length, 1);
  });

  const bad: Array<[string, string | Buffer, string]> = [
    ["empty input", "", "empty"],
    ["garbage text", "hello, this is not a certificate", "not-pem-or-der"],
    ["garbage bytes", Buffer.from([0x30, 0x03, 0x01, 0x02, 0x03]), "not-pem-or-der"],
    ["random binary", Buffer.from([0xde, 0xad, 0xbe, 0xef]), "not-pem-or-der"],
    ["only a key", leaf.privateKeyPem, "no-certificate"],
    ["unterminated block", "-----BEGIN CERTIFICATE-----\nMIIB\n", "bad-pem"],
    ["non-base64 body", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "bad-pem"],
    ["truncated base64", "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n", "bad-pem"],
    [
      "valid base64, not a certificate",
      "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
      "bad-certificate",
    ],
  ];
  for (const [name, input, code] of bad) {
    it(`rejects ${name} with ${code}`, () =>
      expectLoadError(() => parseCertificates(input, "input.pem"), code));
  }

  it("names the failing block of a bundle", () => {
    const broken = `${leaf.certificatePem}-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n`;
    assert.throws(() => parseCertificates(broken, "b.pem"), /PEM block 2/);
  });

  it("rejects a certificate whose public key algorithm is unknown", () => {
    const tbs = sequence(
      contextTag(0, integer(2), true),
      integer(7),
      sequence(oid("1.2.840.10045.4.3.2")),
      sequence(),
      sequence(time(new Date()), time(new Date(Date.now() + 86_400_000))),
      sequence(),
      sequence(sequence(oid("1.2.3.4.5")), bitString(Buffer.from([1, 2, 3]))),
    );
    const der = sequence(
      tbs,
      sequence(oid("1.2.840.10045.4.3.2")),
      bitString(sign("sha256", tbs, ca.privateKey)),
    );
    expectLoadError(() => parseCertificates(der, "input.pem"), "unsupported-algorithm");
  });

  it("refuses oversized input before parsing", () => {
    expectLoadError(() => parseCertificates(Buffer.alloc(5 * 1024 * 1024, 0x41), "input.pem"), "too-large");
  });
});

describe("parsePrivateKey", () => {
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
  const forms: Array<[string, string | Buffer]> = [
    ["PKCS#8 PEM", ec.export({ type: "pkcs8", format: "pem" }).toString()],
    ["SEC1 EC PEM", ec.export({ type: "sec1", format: "pem" }).toString()],
    ["PKCS#1 RSA PEM", rsa.export({ type: "pkcs1", format: "pem" }).toString()],
    ["PKCS#8 DER", ec.export({ type: "pkcs8", format: "der" })],
    ["SEC1 DER", ec.export({ type: "sec1", format: "der" })],
    ["PKCS#1 DER", rsa.export({ type: "pkcs1", format: "der" })],
    [
      "SEC1 PEM after EC PARAMETERS",
      `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${ec.export({ type: "sec1", format: "pem" })}`,
    ],
  ];
  for (const [name, data] of forms) {
    it(`reads ${name}`, () => {
      const key = parsePrivateKey(data, "key.pem");
      assert.equal(key.type, "private");
    });
  }

  const encrypted = ec
    .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
    .toString();
  const legacyEncrypted = rsa
    .export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
    .toString();
  const unknownAlg = sequence(integer(0), sequence(oid("1.2.3.4.5")), octetString(Buffer.from([4, 1, 1])));
  const bad: Array<[string, string | Buffer, string]> = [
    ["garbage", "not a key at all", "not-pem-or-der"],
    ["a certificate", leaf.certificatePem, "no-private-key"],
    ["two keys", leaf.privateKeyPem + other.privateKeyPem, "multiple-private-keys"],
    ["encrypted PKCS#8", encrypted, "encrypted-private-key"],
    ["legacy encrypted PEM", legacyEncrypted, "encrypted-private-key"],
    [
      "a broken PKCS#8 body",
      "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n",
      "bad-private-key",
    ],
    ["an unknown algorithm (DER)", unknownAlg, "unsupported-algorithm"],
    [
      "an unknown algorithm (PEM)",
      `-----BEGIN PRIVATE KEY-----\n${unknownAlg.toString("base64")}\n-----END PRIVATE KEY-----\n`,
      "unsupported-algorithm",
    ],
  ];
  for (const [name, data, code] of bad) {
    it(`rejects ${name} with ${code}`, () => expectLoadError(() => parsePrivateKey(data, "input.pem"), code));
  }
});

describe("checkKeyMatchesCertificate / loadCertificateAndKey", () => {
  it("accepts the matching key", () => {
    const loaded = loadCertificateAndKey(
      { data: leaf.certificatePem + ca.certificatePem, source: "chain.pem" },
      { data: leaf.privateKeyPem, source: "key.pem" },
    );
    assert.equal(loaded.chain.length, 2);
  });

  it("rejects another key of the same type, naming the key file", () => {
    expectLoadError(
      () => checkKeyMatchesCertificate(createPrivateKey(other.privateKeyPem), leaf.certificate, "key.pem"),
      "key-mismatch",
      "key.pem",
    );
  });

  it("rejects a key of another type", () => {
    const rsaCert = createSelfSigned({ cn: "rsa.example", keyAlgorithm: "rsa-2048" });
    expectLoadError(
      () => checkKeyMatchesCertificate(leaf.privateKey, rsaCert.certificate, "k.pem"),
      "key-mismatch",
      "k.pem",
    );
  });
});
