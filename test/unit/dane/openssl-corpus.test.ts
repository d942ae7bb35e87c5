/**
 * OpenSSL's DANE test vectors: for every block, our verdict must agree with OpenSSL's expected verify result
 * and, where OpenSSL reports one, the match depth. Verify codes map as X509_V_OK → ok,
 * 20 (UNABLE_TO_GET_ISSUER_CERT_LOCALLY) → "unknown-issuer", 62 (HOSTNAME_MISMATCH) → "hostname-mismatch",
 * 65 (DANE_NO_MATCH) → "dane-no-match".
 *
 * The driver's context is reproduced: basedomain as the only reference identifier (the SRV target host, no
 * separate SIP domain), the CAfile as the PKIX trust anchors, purpose "server", nonamechecks → our
 * noNameChecksForDaneEe. OpenSSL verifies at "now"; a fixed instant inside every certificate's validity keeps
 * the test reproducible (the leaf of tests 1–10 expired in 2015 on purpose: DANE-EE ignores dates).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { verifyDane } from "../../../src/dane/verify.js";
import type { DaneResult } from "../../../src/dane/result.js";
import { parseCertificates } from "../../../src/pki/load.js";
import { parseDaneCorpus, type DaneCorpusCase } from "./openssl-dane-corpus.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const corpusDir = resolve(repoRoot, "..", "shared", "corpora", "dane");
const AT = new Date("2025-06-01T00:00:00Z");

const OPENSSL_CODES: Readonly<Record<number, string>> = {
  0: "ok",
  20: "unknown-issuer",
  62: "hostname-mismatch",
  65: "dane-no-match",
};

interface Suite {
  readonly file: string;
  readonly caFile: string;
  readonly baseDomain: string;
  readonly blocks: number;
}

// test/recipes/80-test_dane.t: `danetest example.com danetest.pem danetest.in` and
// `danetest server.example cross-root.pem dane-cross.in`; block counts from PROVENANCE.md.
const SUITES: readonly Suite[] = [
  { file: "danetest.in", caFile: "danetest.pem", baseDomain: "example.com", blocks: 54 },
  { file: "dane-cross.in", caFile: "cross-root.pem", baseDomain: "server.example", blocks: 1 },
];

function verdictOf(result: DaneResult): string {
  return result.ok ? "ok" : result.code;
}

function runCase(c: DaneCorpusCase, suite: Suite, anchors: ReturnType<typeof parseCertificates>): DaneResult {
  return verifyDane({
    chain: c.chain,
    records: c.records,
    reference: { targetHost: suite.baseDomain },
    pkixAnchors: anchors.map((cert) => ({ cert })),
    at: AT,
    purpose: "server",
    options: { noNameChecksForDaneEe: c.noNameChecks },
  });
}

let agreed = 0;
let total = 0;

for (const suite of SUITES) {
  const text = readFileSync(resolve(corpusDir, suite.file), "utf8");
  const anchors = parseCertificates(readFileSync(resolve(corpusDir, suite.caFile)), suite.caFile);
  const cases = parseDaneCorpus(text, suite.file);

  test(`${suite.file}: ${suite.blocks} blocks, as danetest.c counts them`, () => {
    assert.equal(cases.length, suite.blocks);
    const withUndeclared = cases.filter((c) => c.undeclaredRecords.length > 0).map((c) => c.testNo);
    assert.deepEqual(withUndeclared, suite.file === "danetest.in" ? [43, 44, 45, 46] : []);
  });

  for (const c of cases) {
    const want = OPENSSL_CODES[c.wantVerifyResult];
    test(`${suite.file} #${c.testNo} (line ${c.headerLine}): OpenSSL ${c.wantVerifyResult}, depth ${c.wantMatchDepth}`, () => {
      total++;
      assert.ok(want, `unmapped OpenSSL verify code ${c.wantVerifyResult}`);
      const result = runCase(c, suite, anchors);
      assert.equal(verdictOf(result), want, result.ok ? "verified" : `${result.code}: ${result.detail}`);
      assert.equal(result.matched?.depth ?? -1, c.wantMatchDepth, "match depth (SSL_get0_dane_authority)");
      agreed++;
    });
  }
}

// Tests 43–46 list two TLSA lines under a header that declares one; OpenSSL loads only the first, so the
// "X beats Y" in their comments is not what OpenSSL checks. With both records our verdict must still be
// what the comment claims.
test("danetest.in #43–#46 with both listed records: the winner their comments name", () => {
  const text = readFileSync(resolve(corpusDir, "danetest.in"), "utf8");
  const anchors = parseCertificates(readFileSync(resolve(corpusDir, "danetest.pem")), "danetest.pem");
  const cases = parseDaneCorpus(text, "danetest.in");
  const claims: Array<[testNo: number, method: string, depth: number]> = [
    [43, "dane-ee", 0], // DANE-EE(3) beats DANE-TA(2)
    [44, "dane-ta", 1], // DANE-TA(2) depth 1 beats DANE-TA(2) depth 2
    [45, "dane-ta", 2], // DANE-TA(2) depth 2 beats PKIX-TA(0) depth 1
    [46, "dane-ta", 2], // DANE-TA(2) depth 2 beats PKIX-EE depth 0 (its second record is PKIX-TA)
  ];
  for (const [testNo, method, depth] of claims) {
    const c = cases[testNo - 1];
    assert.ok(c);
    assert.equal(c.undeclaredRecords.length, 1, `test ${testNo} has one undeclared TLSA line`);
    const suite = SUITES[0] as Suite;
    const result = runCase({ ...c, records: [...c.records, ...c.undeclaredRecords] }, suite, anchors);
    assert.ok(result.ok, `test ${testNo}`);
    assert.equal(result.method, method, `test ${testNo}`);
    assert.equal(result.matched.depth, depth, `test ${testNo}`);
  }
});

test("every corpus block agrees with OpenSSL", () => {
  console.log(`# DANE corpus agreement: ${agreed}/${total}`);
  assert.equal(
    total,
    SUITES.reduce((n, s) => n + s.blocks, 0),
  );
  assert.equal(agreed, total);
});
