/** Reference-identifier checks used under DANE-TA and the PKIX usages (names.ts). */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { checkNames, referenceNames } from "../../../src/dane/names.js";
import { issueCertificate } from "../../../src/pki/issue.js";
import { REFERENCE, testPki, type TestPki } from "./fixtures.js";

let pki: TestPki;
before(async () => {
  pki = await testPki();
});

test("reference names are normalized: case, trailing dot, U-labels to A-labels; IP literals dropped", () => {
  assert.deepEqual(referenceNames({ targetHost: "SIP.Example.NET.", sipDomain: "bücher.example" }), [
    "sip.example.net",
    "xn--bcher-kva.example",
  ]);
  assert.deepEqual(referenceNames({ targetHost: "192.0.2.1", sipDomain: "example.com" }), ["example.com"]);
  assert.deepEqual(referenceNames({ targetHost: "example.com", sipDomain: "EXAMPLE.com" }), ["example.com"]);
});

test("DNS-ID comparison is case-insensitive and whole-name", () => {
  assert.ok(checkNames(pki.leaf.certificate, { targetHost: "SIP.EXAMPLE.NET" }).ok);
  assert.equal(checkNames(pki.leaf.certificate, { targetHost: "example.net" }).ok, false);
  assert.equal(checkNames(pki.leaf.certificate, { targetHost: "x.sip.example.net" }).ok, false);
});

test("an internationalized reference matches the A-label DNS-ID", async () => {
  const idn = await issueCertificate(pki.issuer, { cn: "x", san: { dns: ["xn--bcher-kva.example"] } });
  const result = checkNames(idn.certificate, { targetHost: "bücher.example" });
  assert.ok(result.ok);
  assert.equal(result.reference, "xn--bcher-kva.example");
});

test("the subject CN counts only when the certificate has no dNSName", async () => {
  const cnOnly = await issueCertificate(pki.issuer, { cn: "sip.example.net" });
  assert.ok(checkNames(cnOnly.certificate, REFERENCE).ok);
  const cnAndOtherSan = await issueCertificate(pki.issuer, {
    cn: "sip.example.net",
    san: { dns: ["other.example"] },
  });
  assert.equal(checkNames(cnAndOtherSan.certificate, REFERENCE).ok, false);
});

test("a sip: URI with a user part is not a domain identity", async () => {
  const userUri = await issueCertificate(pki.issuer, { cn: "x", san: { uri: ["sip:alice@example.com"] } });
  const result = checkNames(userUri.certificate, REFERENCE);
  assert.equal(result.ok, false);
  assert.equal(result.code, "hostname-mismatch");
});

test("with no valid reference identifier nothing matches, and the detail says so", () => {
  const result = checkNames(pki.leaf.certificate, { targetHost: "[2001:db8::1]" });
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.detail, /no valid reference identifier/);
});
