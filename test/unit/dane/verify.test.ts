/** verifyDane as a whole: inputs it refuses, unusable RRsets, and that hostile input never throws. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import fc from "fast-check";
import { verifyDane } from "../../../src/dane/verify.js";
import { NOW, REFERENCE, chainOf, testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

test("an empty presented chain is refused", () => {
  const result = verifyDane({
    chain: [],
    records: [tlsaFor(3, 1, 1, pki.leaf.certificate)],
    reference: REFERENCE,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "empty-chain");
});

test("an RRset of unusable records → dane-no-usable-records, each record's reason listed", () => {
  const good = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const result = verifyDane({
    chain: chainOf(pki.leaf),
    records: [
      { ...good, usage: 4 },
      { ...good, data: Buffer.alloc(20) },
    ],
    reference: REFERENCE,
    at: NOW,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-usable-records");
  assert.deepEqual(
    result.ignored.map((u) => u.reason),
    ["unknown-usage", "bad-digest-length"],
  );
  assert.match(result.detail, /#0 .*#1 /);
});

test("an empty RRset → dane-no-usable-records", () => {
  const result = verifyDane({ chain: chainOf(pki.leaf), records: [], reference: REFERENCE });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-usable-records");
});

test("unknown usage is ignored, not fatal: a usable record next to it still decides", () => {
  const good = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const result = verifyDane({
    chain: chainOf(pki.leaf),
    records: [{ ...good, usage: 7 }, good],
    reference: REFERENCE,
    at: NOW,
  });
  assert.ok(result.ok);
  assert.equal(result.matched.recordIndex, 1);
  assert.equal(result.ignored.length, 1);
});

test("a wrong-length digest that would otherwise 'match' a prefix is ignored", () => {
  const full = tlsaFor(3, 1, 1, pki.leaf.certificate);
  const truncated = { ...full, data: Buffer.from(full.data).subarray(0, 16) };
  const result = verifyDane({
    chain: chainOf(pki.leaf),
    records: [truncated],
    reference: REFERENCE,
    at: NOW,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-usable-records");
});

test("usable records that match nothing → dane-no-match (never a fallback to PKIX)", () => {
  const result = verifyDane({
    chain: chainOf(pki.leaf, pki.issuer, pki.root),
    records: [tlsaFor(3, 1, 1, pki.strangerLeaf.certificate)],
    reference: REFERENCE,
    pkixAnchors: [{ cert: pki.root.certificate }],
    at: NOW,
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
  assert.equal(result.matched, undefined);
});

test("random records and random certificate bytes never throw and always give a coded result", () => {
  const chain = chainOf(pki.leaf, pki.issuer);
  const record = fc.record({
    usage: fc.integer({ min: 0, max: 255 }),
    selector: fc.integer({ min: 0, max: 3 }),
    matchingType: fc.integer({ min: 0, max: 3 }),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.constant(pki.issuer.certificate.raw),
      fc.constant(pki.root.certificate.raw),
    ),
  });
  fc.assert(
    fc.property(fc.array(record, { maxLength: 8 }), (records) => {
      const result = verifyDane({ chain, records, reference: REFERENCE, at: NOW });
      assert.equal(typeof result.code, "string");
      if (!result.ok) assert.equal(typeof result.detail, "string");
    }),
    { numRuns: 300 },
  );
});
