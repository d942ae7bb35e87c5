/** DANE-TA(2), RFC 7671 §5.2: a trust anchor named by DNS, the chain validated to it, names checked. */
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
  return verifyDane({ reference: REFERENCE, at: NOW, ...input });
}

test("the issuer in the presented chain as anchor: ok at depth 1", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "dane-ta");
  assert.equal(result.matched.depth, 1);
  assert.equal(result.matched.anchorSource, "presented-chain");
  assert.equal(result.names?.reference, "sip.example.net");
});

test("wrong name under DANE-TA → hostname-mismatch, with the match reported", () => {
  const result = run({
    chain: chainOf(pki.otherNameLeaf, pki.issuer),
    records: [tlsaFor(2, 1, 1, pki.issuer.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "hostname-mismatch");
  assert.equal(result.matched?.depth, 1);
  assert.equal(result.method, "dane-ta");
});

test("the SIP domain is a second reference identifier", () => {
  const result = run({
    chain: chainOf(pki.domainLeaf, pki.issuer),
    records: [tlsaFor(2, 1, 1, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.names?.reference, "example.com");
  const withoutDomain = run({
    chain: chainOf(pki.domainLeaf, pki.issuer),
    records: [tlsaFor(2, 1, 1, pki.issuer.certificate)],
    reference: { targetHost: "sip.example.net" },
  });
  assert.equal(withoutDomain.ok, false);
  assert.equal(withoutDomain.code, "hostname-mismatch");
});

test("an RFC 5922 SIP domain identity (SAN URI sip:example.com) satisfies the name check", () => {
  const result = run({
    chain: chainOf(pki.sipUriLeaf, pki.issuer),
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.names?.via, "sip-uri");
  assert.equal(result.names?.presented, "sip:example.com");
});

test("wildcard DNS-IDs match only when allowed", () => {
  const input = {
    chain: chainOf(pki.wildcardLeaf, pki.issuer),
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  };
  const strict = run(input);
  assert.equal(strict.ok, false);
  assert.equal(strict.code, "hostname-mismatch");
  const loose = run({ ...input, options: { allowWildcards: true } });
  assert.ok(loose.ok);
  assert.equal(loose.names?.presented, "*.example.net");
});

test("a TA certificate published in full (2 0 0) and not sent by the server anchors the chain", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 0, 0, pki.root.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.matched.anchorSource, "tlsa-certificate");
  assert.equal(result.matched.depth, 2); // the root's place in the validated chain, as OpenSSL reports it
  assert.ok(result.chain[2]?.raw.equals(pki.root.certificate.raw));
});

test("a bare TA key (2 1 0) not in the chain anchors it; depth is that of the certificate it signed", () => {
  const viaRoot = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 1, 0, pki.root.certificate)],
  });
  assert.ok(viaRoot.ok);
  assert.equal(viaRoot.matched.anchorSource, "tlsa-public-key");
  assert.equal(viaRoot.matched.depth, 1);
  const viaIssuer = run({ chain: chainOf(pki.leaf), records: [tlsaFor(2, 1, 0, pki.issuer.certificate)] });
  assert.ok(viaIssuer.ok);
  assert.equal(viaIssuer.matched.depth, 0);
});

test("a published TA the chain does not reach is no match", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 1, 0, pki.strangerRoot.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("a DANE-TA record for the leaf itself is no match: a TA is never the end entity", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer),
    records: [tlsaFor(2, 1, 1, pki.leaf.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "dane-no-match");
});

test("under DANE-TA the leaf's dates are checked: an expired leaf fails with the match reported", () => {
  const result = run({
    chain: chainOf(pki.expiredLeaf, pki.issuer),
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "expired");
  assert.equal(result.matched?.depth, 1);
});

test("a leaf not issued under the matched TA fails chain validation", () => {
  const result = run({
    chain: chainOf(pki.strangerLeaf, pki.issuer),
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  });
  assert.equal(result.ok, false);
  assert.equal(result.code, "unknown-issuer");
  assert.equal(result.matched?.depth, 1);
});

test("the anchor nearest the leaf wins (depth 1 over depth 2)", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer, pki.root),
    records: [tlsaFor(2, 1, 2, pki.root.certificate), tlsaFor(2, 1, 2, pki.issuer.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.matched.depth, 1);
  assert.equal(result.matched.recordIndex, 1);
});

test("DANE-TA beats PKIX-TA: no PKIX anchors needed when DANE-TA matches", () => {
  const result = run({
    chain: chainOf(pki.leaf, pki.issuer, pki.root),
    records: [tlsaFor(0, 0, 1, pki.issuer.certificate), tlsaFor(2, 0, 1, pki.root.certificate)],
  });
  assert.ok(result.ok);
  assert.equal(result.method, "dane-ta");
  assert.equal(result.matched.depth, 2);
});

test("the server's EKU is required of the leaf (purpose server)", async () => {
  const { issueCertificate } = await import("../../../src/pki/issue.js");
  const clientOnly = await issueCertificate(pki.issuer, {
    cn: "sip.example.net",
    san: { dns: ["sip.example.net"] },
    eku: ["clientAuth"],
  });
  const input = {
    chain: [clientOnly.certificate, pki.issuer.certificate],
    records: [tlsaFor(2, 0, 1, pki.issuer.certificate)],
  };
  const asServer = run(input);
  assert.equal(asServer.ok, false);
  assert.equal(asServer.code, "eku");
  assert.ok(run({ ...input, purpose: "client" }).ok);
});
