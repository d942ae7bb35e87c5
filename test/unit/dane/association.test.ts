/**
 * Association data against vectors produced by OpenSSL: danetest.in's header lists, for the example.com leaf,
 * every selector/matching-type combination (lines 22–28). The leaf is taken from test 11's chain.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { AssociationCache, recordMatches } from "../../../src/dane/association.js";
import { tlsaAssociationData, tlsaSelectedContent } from "../../../src/pki/tlsa-data.js";
import { classifyRecord, type UsableTlsaRecord } from "../../../src/dane/tlsa.js";
import { parseDaneCorpus } from "./openssl-dane-corpus.js";

const corpusDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "shared",
  "corpora",
  "dane",
);
const cases = parseDaneCorpus(readFileSync(resolve(corpusDir, "danetest.in"), "utf8"), "danetest.in");
const leaf = cases[10]?.chain[0];

// From the comment block at the top of danetest.in ("subject= CN = example.com").
const OPENSSL_VECTORS: Array<[selector: 0 | 1, matchingType: 0 | 1 | 2, hexPrefix: string]> = [
  [0, 1, "BEDC04764CECAE80AEE454D332758F50847DCA424216466E4012E0DEAE1F2E5F"],
  [
    0,
    2,
    "F756CCD61F3CA50D017653911701CA0052AF0B29E273DD263DD23643D86D4369D03686BD1369EF54BB2DC2DAE3CE4F05AF39D54648F94D54AA86B259AEAD9923",
  ],
  [
    1,
    0,
    "3059301306072A8648CE3D020106082A8648CE3D03010703420004664995F47BDE35E7B4DE48B258E9E8A07ADEBBDB863B3D06F481A1946C83DA9F56CFF4D9389B855D2F364B1585B0C734FCFA263026964FF5A4308B3FC879BDB8",
  ],
  [1, 1, "3111668338043DE264D0256A702248696C9484B6221A42740F920187B4C61838"],
  [
    1,
    2,
    "CB861AF6DDED185EE04472A9092052CCC735120C34785E72C996C94B122EBA6F329BE630B1B4C6E2756E7A75392C21E253C6AEACC31FD45FF4595DED375FAF62",
  ],
];

test("the corpus leaf is the example.com certificate", () => {
  assert.ok(leaf);
  assert.match(leaf.subject, /CN=example\.com/);
});

test("selector/matching-type association data equals OpenSSL's", () => {
  assert.ok(leaf);
  for (const [selector, matchingType, hex] of OPENSSL_VECTORS) {
    assert.equal(tlsaAssociationData(leaf, selector, matchingType).toString("hex").toUpperCase(), hex);
  }
});

test("selector 0 is the whole DER certificate, selector 1 a prefix-free SPKI inside it", () => {
  assert.ok(leaf);
  assert.ok(tlsaSelectedContent(leaf, 0).equals(leaf.raw));
  const spki = tlsaSelectedContent(leaf, 1);
  assert.ok(leaf.raw.includes(spki));
  assert.ok(spki.equals(leaf.publicKey.export({ type: "spki", format: "der" })));
});

test("recordMatches compares the full association data and caches per certificate", () => {
  assert.ok(leaf);
  const cache = new AssociationCache();
  const rec = classifyRecord(
    { usage: 3, selector: 1, matchingType: 1, data: tlsaAssociationData(leaf, 1, 1) },
    0,
  );
  assert.ok(!("reason" in rec));
  assert.equal(recordMatches(rec, leaf, cache), true);
  const other = cases[10]?.chain[1];
  assert.ok(other);
  assert.equal(recordMatches(rec, other, cache), false);
  const flipped = Buffer.from(rec.data);
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  const wrong: UsableTlsaRecord = { ...rec, data: flipped };
  assert.equal(recordMatches(wrong, leaf, cache), false);
});
