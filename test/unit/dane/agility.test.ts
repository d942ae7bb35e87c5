/** Digest algorithm agility, RFC 7671 §9: per (usage, selector), only the strongest digest present counts. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { applyDigestAgility } from "../../../src/dane/agility.js";
import { classifyRecords, type TlsaRecord } from "../../../src/dane/tlsa.js";
import { verifyDane } from "../../../src/dane/verify.js";
import { NOW, REFERENCE, chainOf, corrupt, testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

function daneEe(records: TlsaRecord[], options = {}) {
  return verifyDane({
    chain: chainOf(pki.leaf, pki.issuer),
    records,
    reference: REFERENCE,
    at: NOW,
    options,
  });
}

test("SHA-512 present and mismatching while SHA-256 matches: the SHA-256 record is ignored → no match", () => {
  const leaf = pki.leaf.certificate;
  const result = daneEe([tlsaFor(3, 1, 1, leaf), corrupt(tlsaFor(3, 1, 2, leaf))]);
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("SHA-512 present and matching alongside a wrong SHA-256: ok, matched by the SHA-512 record", () => {
  const leaf = pki.leaf.certificate;
  const result = daneEe([corrupt(tlsaFor(3, 1, 1, leaf)), tlsaFor(3, 1, 2, leaf)]);
  assert.ok(result.ok);
  assert.equal(result.matched.recordIndex, 1);
});

test("Full(0) is not a digest: it is used even when a stronger digest is present", () => {
  const leaf = pki.leaf.certificate;
  // RFC 7671 §9's example: "3 1 0" and "3 1 2" are acceptable, "3 1 1" alone is not.
  const result = daneEe([
    tlsaFor(3, 1, 0, leaf),
    corrupt(tlsaFor(3, 1, 1, leaf)),
    corrupt(tlsaFor(3, 1, 2, leaf)),
  ]);
  assert.ok(result.ok);
  assert.equal(result.matched.recordIndex, 0);
});

test("agility is per usage and selector: a SHA-512 under another selector does not hide SHA-256", () => {
  const leaf = pki.leaf.certificate;
  const result = daneEe([tlsaFor(3, 1, 1, leaf), corrupt(tlsaFor(3, 0, 2, leaf))]);
  assert.ok(result.ok);
  assert.equal(result.matched.recordIndex, 0);
});

test("agility is per usage: a DANE-TA SHA-512 does not hide a DANE-EE SHA-256", () => {
  const result = daneEe([
    tlsaFor(3, 1, 1, pki.leaf.certificate),
    corrupt(tlsaFor(2, 1, 2, pki.issuer.certificate)),
  ]);
  assert.ok(result.ok);
  assert.equal(result.method, "dane-ee");
});

test("a digest missing from the preference list is unsupported: only SHA-256 supported → SHA-256 decides", () => {
  const leaf = pki.leaf.certificate;
  const records = [tlsaFor(3, 1, 1, leaf), corrupt(tlsaFor(3, 1, 2, leaf))];
  const result = daneEe(records, { digestPreference: [1] });
  assert.ok(result.ok);
  const onlySha512 = daneEe([tlsaFor(3, 1, 2, leaf)], { digestPreference: [1] });
  assert.equal(onlySha512.ok, false);
  assert.equal(onlySha512.code, "dane-no-usable-records");
});

test("applyDigestAgility keeps Full(0) and the strongest digest, in input order", () => {
  const leaf = pki.leaf.certificate;
  const { usable } = classifyRecords([
    tlsaFor(3, 1, 1, leaf),
    tlsaFor(3, 1, 0, leaf),
    tlsaFor(3, 1, 2, leaf),
    tlsaFor(2, 0, 1, pki.issuer.certificate),
  ]);
  const kept = applyDigestAgility(usable).map((r) => `${r.usage}${r.selector}${r.matchingType}`);
  assert.deepEqual(kept, ["310", "312", "201"]);
});
