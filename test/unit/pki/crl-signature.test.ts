// Synchronous SIGNED{} verification used for CRLs (src/pki/signature.ts): each supported algorithm family,
// a wrong key, a tampered message and an unknown algorithm.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { verifySignature } from "../../../src/pki/signature.js";

const message = Buffer.from("TBSCertList stand-in");

function algorithm(oid: string, params?: asn1js.AsnType): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({ algorithmId: oid, ...(params ? { algorithmParams: params } : {}) });
}

// RFC 4055 §3.1 RSASSA-PSS-params with SHA-256, MGF1-SHA-256, salt 32.
function pssParams(): asn1js.AsnType {
  const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: "2.16.840.1.101.3.4.2.1" });
  const mgf1 = new pkijs.AlgorithmIdentifier({
    algorithmId: "1.2.840.113549.1.1.8",
    algorithmParams: sha256.toSchema(),
  });
  return new pkijs.RSASSAPSSParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: mgf1,
    saltLength: 32,
  }).toSchema();
}

interface Case {
  name: string;
  keys: () => { privateKey: KeyObject; publicKey: KeyObject };
  sign: (key: KeyObject, data: Buffer) => Buffer;
  alg: () => pkijs.AlgorithmIdentifier;
}

const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
const cases: Case[] = [
  {
    name: "ecdsa-with-SHA256",
    keys: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
    sign: (k, d) => sign("sha256", d, k),
    alg: () => algorithm("1.2.840.10045.4.3.2"),
  },
  {
    name: "ecdsa-with-SHA384 (P-384)",
    keys: () => generateKeyPairSync("ec", { namedCurve: "P-384" }),
    sign: (k, d) => sign("sha384", d, k),
    alg: () => algorithm("1.2.840.10045.4.3.3"),
  },
  {
    name: "sha256WithRSAEncryption",
    keys: rsa,
    sign: (k, d) => sign("sha256", d, k),
    alg: () => algorithm("1.2.840.113549.1.1.11", new asn1js.Null()),
  },
  {
    name: "RSASSA-PSS SHA-256",
    keys: rsa,
    sign: (k, d) => sign("sha256", d, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
    alg: () => algorithm("1.2.840.113549.1.1.10", pssParams()),
  },
  {
    name: "Ed25519",
    keys: () => generateKeyPairSync("ed25519"),
    sign: (k, d) => sign(null, d, k),
    alg: () => algorithm("1.3.101.112"),
  },
];

describe("verifySignature", () => {
  for (const c of cases) {
    it(`${c.name}: good signature verifies; wrong key and changed message do not`, () => {
      const { privateKey, publicKey } = c.keys();
      const signature = c.sign(privateKey, message);
      assert.deepEqual(verifySignature(message, c.alg(), signature, publicKey), { ok: true });
      assert.equal(verifySignature(message, c.alg(), signature, c.keys().publicKey).ok, false);
      assert.equal(verifySignature(Buffer.from("other"), c.alg(), signature, publicKey).ok, false);
    });
  }

  it("an unknown algorithm or a key of the wrong type is a failure with a detail, never an exception", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signature = sign("sha256", message, privateKey);
    const unknown = verifySignature(message, algorithm("1.2.840.113549.1.1.4"), signature, publicKey); // md5WithRSA
    assert.equal(unknown.ok, false);
    assert.match(unknown.ok ? "" : unknown.detail, /unsupported/);
    const wrongType = verifySignature(message, algorithm("1.3.101.112"), signature, publicKey);
    assert.equal(wrongType.ok, false);
  });
});
