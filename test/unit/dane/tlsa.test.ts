/** TLSA record usability (RFC 6698 §4.1, RFC 7671 §4.1): what is ignored, and why. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  classifyRecord,
  classifyRecords,
  describeRecord,
  MAX_TLSA_RECORDS,
  type TlsaRecord,
} from "../../../src/dane/tlsa.js";
import { subjectPublicKeyInfoDer } from "../../../src/pki/der.js";
import { testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

test("every usage 0–3 × selector 0–1 × matching type 0–2 with well-formed data is usable", () => {
  for (const usage of [0, 1, 2, 3]) {
    for (const selector of [0, 1] as const) {
      for (const matchingType of [0, 1, 2] as const) {
        const verdict = classifyRecord(tlsaFor(usage, selector, matchingType, pki.issuer.certificate), 0);
        assert.ok(!("reason" in verdict), `${usage} ${selector} ${matchingType} should be usable`);
        assert.equal(verdict.usage, usage);
      }
    }
  }
});

test("unknown usage, selector or matching type makes a record unusable", () => {
  const good = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const cases = [
    { record: { ...good, usage: 4 }, reason: "unknown-usage" },
    { record: { ...good, usage: 255 }, reason: "unknown-usage" },
    { record: { ...good, selector: 2 }, reason: "unknown-selector" },
    { record: { ...good, selector: 255 }, reason: "unknown-selector" },
    { record: { ...good, matchingType: 3 }, reason: "unknown-matching-type" },
    { record: { ...good, matchingType: 255 }, reason: "unknown-matching-type" },
  ];
  for (const { record, reason } of cases) {
    const verdict = classifyRecord(record, 7);
    assert.ok("reason" in verdict);
    assert.equal(verdict.reason, reason);
    assert.equal(verdict.index, 7);
  }
});

test("a digest of the wrong length is unusable, not merely non-matching", () => {
  const cases: Array<[matchingType: number, length: number]> = [
    [1, 0],
    [1, 31],
    [1, 33],
    [1, 64],
    [2, 32],
    [2, 63],
    [2, 65],
  ];
  for (const [matchingType, length] of cases) {
    const verdict = classifyRecord(
      { usage: 3, selector: 1, matchingType, data: Buffer.alloc(length, 0xab) },
      0,
    );
    assert.ok("reason" in verdict, `matching type ${matchingType} with ${length} octets`);
    assert.equal(verdict.reason, "bad-digest-length");
  }
});

test("Full(0) data must be exactly one certificate or one SubjectPublicKeyInfo", () => {
  const certDer = pki.leaf.certificate.raw;
  const spkiDer = subjectPublicKeyInfoDer(certDer);
  const cases = [
    {
      record: { usage: 2, selector: 0, matchingType: 0, data: Buffer.from("not a certificate") },
      reason: "bad-certificate",
    },
    {
      record: { usage: 2, selector: 0, matchingType: 0, data: Buffer.concat([certDer, Buffer.from([0])]) },
      reason: "bad-certificate",
    },
    {
      record: { usage: 3, selector: 0, matchingType: 0, data: Buffer.from(pki.leaf.certificatePem) },
      reason: "bad-certificate",
    },
    {
      record: { usage: 2, selector: 1, matchingType: 0, data: Buffer.from([0x30, 0x03, 1, 2, 3]) },
      reason: "bad-public-key",
    },
    {
      record: { usage: 2, selector: 1, matchingType: 0, data: Buffer.concat([spkiDer, Buffer.from([0])]) },
      reason: "bad-public-key",
    },
    { record: { usage: 2, selector: 1, matchingType: 0, data: Buffer.alloc(0) }, reason: "bad-public-key" },
  ];
  for (const { record, reason } of cases) {
    const verdict = classifyRecord(record, 0);
    assert.ok("reason" in verdict, reason);
    assert.equal(verdict.reason, reason);
  }
});

test("Full(0) records carry the parsed certificate or key for use as a DANE-TA anchor", () => {
  const asCert = classifyRecord(tlsaFor(2, 0, 0, pki.issuer.certificate), 0);
  const asKey = classifyRecord(tlsaFor(2, 1, 0, pki.issuer.certificate), 0);
  assert.ok(!("reason" in asCert) && !("reason" in asKey));
  assert.ok(asCert.cert?.raw.equals(pki.issuer.certificate.raw));
  assert.ok(asKey.publicKey?.equals(pki.issuer.certificate.publicKey));
});

test("classifyRecords keeps positions and splits the RRset", () => {
  const good = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const { usable, unusable } = classifyRecords([
    { ...good, usage: 9 },
    good,
    { ...good, data: Buffer.alloc(5) },
  ]);
  assert.deepEqual(
    usable.map((u) => u.index),
    [1],
  );
  assert.deepEqual(
    unusable.map((u) => [u.index, u.reason]),
    [
      [0, "unknown-usage"],
      [2, "bad-digest-length"],
    ],
  );
});

test("an oversized RRset is cut at MAX_TLSA_RECORDS", () => {
  const good = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const { usable } = classifyRecords(Array.from({ length: MAX_TLSA_RECORDS + 50 }, () => good));
  assert.equal(usable.length, MAX_TLSA_RECORDS);
});

test("describeRecord names the usage and shortens the data", () => {
  const text = describeRecord({ usage: 2, selector: 0, matchingType: 1, data: Buffer.alloc(32, 0xab) });
  assert.equal(text, "2 0 1 abababababababab… (DANE-TA)");
});

test("a record whose data is not bytes is unusable, not a crash", () => {
  for (const data of [undefined, null, "abcd", 42, {}]) {
    const verdict = classifyRecord(
      { usage: 3, selector: 1, matchingType: 1, data } as unknown as TlsaRecord,
      0,
    );
    assert.ok("reason" in verdict);
    assert.equal(verdict.reason, "bad-data");
  }
});
