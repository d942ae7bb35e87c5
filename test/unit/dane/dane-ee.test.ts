/** DANE-EE(3), RFC 7671 §5.1: the leaf's key is pinned by DNS; no chain, no dates, no names by default. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { verifyDane } from "../../../src/dane/verify.js";
import { NOW, REFERENCE, chainOf, testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

test("an expired leaf matched by DANE-EE is accepted: validity dates are not checked", () => {
  const result = verifyDane({
    chain: chainOf(pki.expiredLeaf),
    records: [tlsaFor(3, 1, 1, pki.expiredLeaf.certificate)],
    reference: REFERENCE,
    at: NOW,
  });
  assert.ok(result.ok);
  assert.equal(result.method, "dane-ee");
  assert.equal(result.matched.depth, 0);
  assert.deepEqual(result.chain, [pki.expiredLeaf.certificate]);
});

test("a leaf whose issuer is unknown and absent is accepted: no chain is built", () => {
  const result = verifyDane({
    chain: chainOf(pki.strangerLeaf),
    records: [tlsaFor(3, 0, 1, pki.strangerLeaf.certificate)],
    reference: REFERENCE,
    at: NOW,
  });
  assert.ok(result.ok);
});

test("names are ignored by default (noNameChecksForDaneEe defaults to true)", () => {
  const result = verifyDane({
    chain: chainOf(pki.otherNameLeaf, pki.issuer),
    records: [tlsaFor(3, 1, 1, pki.otherNameLeaf.certificate)],
    reference: REFERENCE,
    at: NOW,
  });
  assert.ok(result.ok);
  assert.equal(result.names, undefined);
});

test("with noNameChecksForDaneEe: false, a wrong name fails with the match still reported", () => {
  const result = verifyDane({
    chain: chainOf(pki.otherNameLeaf, pki.issuer),
    records: [tlsaFor(3, 1, 1, pki.otherNameLeaf.certificate)],
    reference: REFERENCE,
    at: NOW,
    options: { noNameChecksForDaneEe: false },
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "hostname-mismatch");
  assert.equal(result.matched?.depth, 0);
  assert.match(result.detail, /other\.example\.org/);
});

test("with noNameChecksForDaneEe: false, the right name passes and is reported", () => {
  const result = verifyDane({
    chain: chainOf(pki.leaf),
    records: [tlsaFor(3, 1, 1, pki.leaf.certificate)],
    reference: REFERENCE,
    at: NOW,
    options: { noNameChecksForDaneEe: false },
  });
  assert.ok(result.ok);
  assert.equal(result.names?.reference, "sip.example.net");
});

test("a DANE-EE record never matches a certificate above the leaf", () => {
  const result = verifyDane({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(3, 1, 1, pki.issuer.certificate)],
    reference: REFERENCE,
    at: NOW,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("DANE-EE beats a DANE-TA record that also matches (the leaf match settles it)", () => {
  const result = verifyDane({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 1, 2, pki.issuer.certificate), tlsaFor(3, 1, 2, pki.leaf.certificate)],
    reference: REFERENCE,
    at: NOW,
  });
  assert.ok(result.ok);
  assert.equal(result.method, "dane-ee");
  assert.equal(result.matched.recordIndex, 1);
});
