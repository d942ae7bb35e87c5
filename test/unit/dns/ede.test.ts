import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEde, encodeEde, extractEde } from "../../../src/dns/ede.js";
import { classifyResponse, worstStatus } from "../../../src/dns/status.js";

test("EDE option bodies decode to info-code, name, text and the DNSSEC-failure class (RFC 8914 §2, §4)", () => {
  const table: [number, string, boolean][] = [
    [0, "Other Error", false],
    [1, "Unsupported DNSKEY Algorithm", true],
    [2, "Unsupported DS Digest Type", true],
    [3, "Stale Answer", false],
    [4, "Forged Answer", false],
    [5, "DNSSEC Indeterminate", true],
    [6, "DNSSEC Bogus", true],
    [7, "Signature Expired", true],
    [8, "Signature Not Yet Valid", true],
    [9, "DNSKEY Missing", true],
    [10, "RRSIGs Missing", true],
    [11, "No Zone Key Bit Set", true],
    [12, "NSEC Missing", true],
    [13, "Cached Error", false],
    [18, "Prohibited", false],
    [22, "No Reachable Authority", false],
    [25, "Signature Expired before Valid", true],
    [4000, "Unknown", false],
  ];
  for (const [code, name, failure] of table) {
    const ede = decodeEde(encodeEde(code, "why"));
    assert.deepEqual(ede, { infoCode: code, name, text: "why", dnssecFailure: failure }, String(code));
  }
});

test("EXTRA-TEXT is optional, NUL/control characters are stripped, and length is bounded", () => {
  assert.equal(decodeEde(encodeEde(6))?.text, "");
  assert.equal(decodeEde(encodeEde(6, "bad\u0000sig\n"))?.text, "badsig");
  assert.equal(decodeEde(encodeEde(6, "x".repeat(5000)))?.text.length, 200);
  assert.equal(decodeEde(Buffer.from([6])), undefined, "fewer than two octets is not an EDE");
});

test("extractEde keeps every EDE option, in order, and ignores other options", () => {
  const got = extractEde([
    { code: 10, data: Buffer.from("cookie") },
    { code: 15, data: encodeEde(22) },
    { code: 15, data: Buffer.from([1]) },
    { code: 15, data: encodeEde(6, "x") },
  ]);
  assert.deepEqual(
    got.map((e) => e.infoCode),
    [22, 6],
  );
});

test("classifyResponse: SERVFAIL is bogus only with a DNSSEC EDE, even among other EDEs", () => {
  const e = (code: number) => decodeEde(encodeEde(code))!;
  const base = { ad: false, adTrusted: true, hasRecords: false };
  assert.equal(classifyResponse({ ...base, rcode: 2, ede: [e(22), e(9)] }).status, "bogus");
  assert.equal(classifyResponse({ ...base, rcode: 2, ede: [e(22)] }).status, "error");
  assert.equal(classifyResponse({ ...base, rcode: 2, ede: [] }).status, "error");
  // an EDE on a NOERROR answer is informational and changes nothing (RFC 8914 §3)
  assert.equal(
    classifyResponse({ ...base, rcode: 0, ad: true, ede: [e(1)], hasRecords: true }).status,
    "secure",
  );
  assert.equal(classifyResponse({ ...base, rcode: 4, ede: [] }).code, "rcode");
});

test("worstStatus orders bogus > error > insecure > secure", () => {
  assert.equal(worstStatus([]), "secure");
  assert.equal(worstStatus(["secure", "insecure"]), "insecure");
  assert.equal(worstStatus(["insecure", "error", "secure"]), "error");
  assert.equal(worstStatus(["error", "bogus", "insecure"]), "bogus");
});
