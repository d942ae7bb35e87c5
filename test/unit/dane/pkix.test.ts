/** PKIX-TA(0) / PKIX-EE(1): full PKIX validation to the configured anchors plus the record's constraint. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { DaneVerifyInput } from "../../../src/dane/result.js";
import { verifyDane } from "../../../src/dane/verify.js";
import { NOW, REFERENCE, chainOf, testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

function run(input: Partial<DaneVerifyInput> & Pick<DaneVerifyInput, "chain" | "records">) {
  return verifyDane({
    reference: REFERENCE,
    at: NOW,
    pkixAnchors: [{ cert: pki.root.certificate }],
    ...input,
  });
}

test("PKIX-TA may match the configured anchor that the server did not send (depth 2)", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(0, 1, 1, pki.root.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "pkix-ta");
  assert.equal(result.matched.depth, 2);
});

test("PKIX-TA must match a CA certificate: a usage-0 record of the leaf is no match", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(0, 1, 1, pki.leaf.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("PKIX-EE must match the leaf: a usage-1 record of the issuer is no match", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(1, 1, 1, pki.issuer.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("PKIX-EE on a leaf that does not chain to the configured anchors → the chain error, match reported", () => {
  const result = run({
    chain: chainOf(pki.strangerLeaf),
    records: [tlsaFor(1, 0, 1, pki.strangerLeaf.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "unknown-issuer");
  assert.equal(result.matched?.depth, 0);
  assert.equal(result.method, "pkix-ee");
});

test("no configured PKIX anchors → PKIX usages cannot succeed", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer, pki.root),
    records: [tlsaFor(1, 1, 1, pki.leaf.certificate)],
    pkixAnchors: [],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "unknown-issuer");
});

test("a missing intermediate published as PKIX-TA Full(0) completes the path (as OpenSSL)", () => {
  const result = run({
    chain: chainOf(pki.leaf),
    records: [tlsaFor(1, 1, 1, pki.leaf.certificate), tlsaFor(0, 0, 0, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "pkix-ee");
  assert.equal(result.matched.depth, 0);
  const without = run({ chain: chainOf(pki.leaf), records: [tlsaFor(1, 1, 1, pki.leaf.certificate)] });
  assert.equal(without.ok, false);
  assert.equal(without.code, "unknown-issuer");
});

test("a PKIX-TA Full(0) certificate is no trust anchor: the path must still end at a configured anchor", () => {
  const result = run({
    chain: chainOf(pki.leaf),
    records: [tlsaFor(0, 0, 0, pki.issuer.certificate)],
    pkixAnchors: [{ cert: pki.strangerRoot.certificate }],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "unknown-issuer");
});

test("names are checked under PKIX usages", () => {
  const result = run({
    chain: chainOf(pki.otherNameLeaf, pki.issuer),
    records: [tlsaFor(1, 1, 1, pki.otherNameLeaf.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "hostname-mismatch");
  assert.equal(result.matched?.depth, 0);
});

test("PKIX-EE is preferred to PKIX-TA when both match (the match nearest the leaf)", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(0, 1, 1, pki.issuer.certificate), tlsaFor(1, 1, 1, pki.leaf.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "pkix-ee");
});

test("DANE-TA whose chain fails and PKIX-TA that validates: PKIX-TA decides", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 1, 0, pki.strangerRoot.certificate), tlsaFor(0, 0, 1, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "pkix-ta");
  assert.equal(result.matched.depth, 1);
});
