// decideServerTrust (DESIGN.md "Outbound" rules 2–3) with generated certificates and hand-made TLSA evidence:
// which method decides, and that a failed or unknowable DANE verdict never falls back to RFC 5922.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { X509Certificate } from "node:crypto";
import {
  createCa,
  createSelfSigned,
  issueCertificate,
  type GeneratedCertificate,
} from "../../../src/pki/issue.js";
import { tlsaAssociationData, type TlsaMatching, type TlsaSelector } from "../../../src/pki/tlsa-data.js";
import type { TlsaRecord } from "../../../src/dane/tlsa.js";
import {
  decideServerTrust,
  type ServerTrustInput,
  type TlsaEvidence,
} from "../../../src/tls/server-trust.js";

const DOMAIN = "example.com";
const SRV_HOST = "sip1.example.net";

const ca = createCa({ cn: "server-trust test CA" });
const otherCa = createCa({ cn: "unrelated CA" });
/** A proper RFC 5922 server certificate for the SIP domain (SAN URI sip:example.com, EKU sipDomain). */
const good = issueCertificate(ca, {
  cn: "sip1",
  san: { uri: [`sip:${DOMAIN}`], dns: [SRV_HOST] },
  eku: ["sipDomain"],
});

function record(
  usage: number,
  selector: TlsaSelector,
  matching: TlsaMatching,
  cert: X509Certificate,
): TlsaRecord {
  return { usage, selector, matchingType: matching, data: tlsaAssociationData(cert, selector, matching) };
}

function secure(...records: TlsaRecord[]): TlsaEvidence {
  return { status: "secure", records };
}

function decide(leaf: GeneratedCertificate, extra: Partial<ServerTrustInput> = {}) {
  return decideServerTrust({
    chain: [leaf.certificate, ca.certificate],
    sipDomain: DOMAIN,
    srvHost: SRV_HOST,
    delegation: "secure",
    anchors: [{ cert: ca.certificate }],
    ...extra,
  });
}

/** 32 bytes that are no certificate's SHA-256. */
const WRONG_DIGEST: TlsaRecord = { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 0xab) };

test("DANE-EE 3 1 1 on the leaf decides alone: no CA, no names, expired is fine (RFC 7671 §5.1)", () => {
  const expired = createSelfSigned({
    cn: "nobody",
    notBefore: new Date("2020-01-01T00:00:00Z"),
    notAfter: new Date("2020-02-01T00:00:00Z"),
  });
  const result = decideServerTrust({
    chain: [expired.certificate],
    sipDomain: DOMAIN,
    srvHost: SRV_HOST,
    delegation: "secure",
    tlsa: secure(WRONG_DIGEST, record(3, 1, 1, expired.certificate)),
    anchors: [],
  });
  assert.equal(result.ok, true, result.detail);
  assert.equal(result.method, "dane-ee");
  assert.ok(result.ok && result.matchedTlsa?.index === 1, "the second record matched");
});

test("a failed DANE match is final even though RFC 5922 would accept the certificate", () => {
  // Sanity: the same chain passes RFC 5922 when no TLSA exists.
  assert.equal(decide(good, { tlsa: secure() }).ok, true);
  const result = decide(good, { tlsa: secure(WRONG_DIGEST) });
  assert.equal(result.ok, false);
  assert.notEqual(result.method, "rfc5922");
  assert.equal(result.code, "dane-no-match");
});

test("bogus or failed TLSA lookups refuse the fallback to RFC 5922 (RFC 7671 §4)", () => {
  const bogus = decide(good, { tlsa: { status: "bogus", records: [] } });
  assert.deepEqual([bogus.ok, bogus.code], [false, "tlsa-bogus"]);
  const failed = decide(good, { tlsa: { status: "error", records: [] } });
  assert.deepEqual([failed.ok, failed.code], [false, "tlsa-lookup-failed"]);
});

test("an insecure delegation ignores TLSA entirely and uses RFC 5922", () => {
  const result = decide(good, { delegation: "insecure", tlsa: secure(WRONG_DIGEST) });
  assert.equal(result.ok, true, result.detail);
  assert.equal(result.method, "rfc5922");
  assert.equal(result.code, "rfc5922-match");
});

test("no usable TLSA record, a secure denial, or an insecure TLSA answer → RFC 5922 (RFC 7671 §4.1)", () => {
  const unusable: TlsaRecord[] = [
    { usage: 4, selector: 1, matchingType: 1, data: Buffer.alloc(32) }, // unknown usage
    { usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(20) }, // SHA-256 of the wrong length
    { usage: 3, selector: 2, matchingType: 1, data: Buffer.alloc(32) }, // unknown selector
  ];
  const cases: Array<[string, TlsaEvidence]> = [
    ["unusable records", secure(...unusable)],
    ["secure denial", secure()],
    ["insecure TLSA answer", { status: "insecure", records: [WRONG_DIGEST] }],
  ];
  for (const [name, tlsa] of cases) {
    const result = decide(good, { tlsa });
    assert.equal(result.method, "rfc5922", name);
    assert.equal(result.ok, true, `${name}: ${result.detail}`);
  }
});

test("RFC 5924 §4: EKU with id-kp-sipDomain only is accepted; clientAuth only is refused", () => {
  const sipOnly = issueCertificate(ca, { cn: "x", san: { uri: [`sip:${DOMAIN}`] }, eku: ["sipDomain"] });
  assert.equal(decide(sipOnly, { delegation: "insecure" }).ok, true);
  const clientOnly = issueCertificate(ca, { cn: "x", san: { uri: [`sip:${DOMAIN}`] }, eku: ["clientAuth"] });
  const refused = decide(clientOnly, { delegation: "insecure" });
  assert.equal(refused.ok, false);
  assert.match(refused.code, /^eku-/);
});

test("RFC 5922 §7.2: a certificate for another domain gives rfc5922-no-match", () => {
  const other = issueCertificate(ca, { cn: "x", san: { uri: ["sip:example.org"] }, eku: ["sipDomain"] });
  const result = decide(other, { delegation: "insecure" });
  assert.deepEqual([result.ok, result.code, result.method], [false, "rfc5922-no-match", "rfc5922"]);
  assert.deepEqual(
    result.identities.map((i) => i.value),
    ["example.org"],
  );
});

test("RFC 5922 path: a chain to an unconfigured CA fails before identities are trusted", () => {
  const result = decide(good, { delegation: "insecure", anchors: [{ cert: otherCa.certificate }] });
  assert.deepEqual([result.ok, result.code], [false, "unknown-issuer"]);
});

test("DANE-TA 2 0 1 / 2 1 1 on the CA: names are checked against the SRV host or the SIP domain", () => {
  for (const selector of [0, 1] as const) {
    const ta = record(2, selector, 1, ca.certificate);
    const result = decide(good, { tlsa: secure(ta), anchors: [] });
    assert.equal(result.ok, true, result.detail);
    assert.equal(result.method, "dane-ta");
    const srvOnly = issueCertificate(ca, { cn: "x", san: { dns: [SRV_HOST] } });
    assert.equal(decide(srvOnly, { tlsa: secure(ta), anchors: [] }).ok, true, "SRV host as dNSName");
    const unnamed = issueCertificate(ca, { cn: "x", san: { dns: ["elsewhere.example"] } });
    const mismatch = decide(unnamed, { tlsa: secure(ta), anchors: [] });
    assert.deepEqual([mismatch.ok, mismatch.code, mismatch.method], [false, "hostname-mismatch", "dane-ta"]);
  }
});

test("no certificate at all is a failure with a reason, not a crash", () => {
  const result = decideServerTrust({ chain: [], sipDomain: DOMAIN, delegation: "insecure", anchors: [] });
  assert.deepEqual([result.ok, result.code], [false, "no-certificate"]);
});
