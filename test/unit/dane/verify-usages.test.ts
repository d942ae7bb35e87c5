/**
 * Every usage × selector × matching type against a three-level chain (root → issuer → leaf): the method and
 * the match depth reported, and that a record with the same parameters for an unrelated certificate does not
 * match (for 2 0 0 / 2 1 0 that is an unrelated trust anchor, which the chain does not reach).
 */
import assert from "node:assert/strict";
import type { X509Certificate } from "node:crypto";
import { before, test } from "node:test";
import type { DaneMethod } from "../../../src/dane/result.js";
import { verifyDane } from "../../../src/dane/verify.js";
import { NOW, REFERENCE, chainOf, testPki, tlsaFor, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

const METHOD: Record<number, DaneMethod> = { 0: "pkix-ta", 1: "pkix-ee", 2: "dane-ta", 3: "dane-ee" };

function subjectFor(usage: number, p: TestPki): { cert: X509Certificate; depth: number } {
  if (usage === 0 || usage === 2) return { cert: p.issuer.certificate, depth: 1 };
  return { cert: p.leaf.certificate, depth: 0 };
}

for (const usage of [0, 1, 2, 3]) {
  for (const selector of [0, 1] as const) {
    for (const matchingType of [0, 1, 2] as const) {
      test(`${usage} ${selector} ${matchingType}: matches at the expected depth; an unrelated one does not`, () => {
        const { cert, depth } = subjectFor(usage, pki);
        const input = {
          chain: chainOf(pki.leaf, pki.issuer, pki.root),
          reference: REFERENCE,
          pkixAnchors: [{ cert: pki.root.certificate }],
          at: NOW,
        };
        const record = tlsaFor(usage, selector, matchingType, cert);
        const result = verifyDane({ ...input, records: [record] });
        assert.ok(result.ok, result.ok ? "" : `${result.code}: ${result.detail}`);
        assert.equal(result.method, METHOD[usage]);
        assert.equal(result.code, `${METHOD[usage]}-match`);
        assert.equal(result.matched.depth, depth);
        assert.equal(result.matched.usage, usage);
        const unrelated = tlsaFor(usage, selector, matchingType, pki.strangerRoot.certificate);
        const bad = verifyDane({ ...input, records: [unrelated] });
        assert.equal(bad.ok, false);
        assert.equal(bad.code, "dane-no-match");
        assert.equal(bad.matched, undefined);
      });
    }
  }
}
