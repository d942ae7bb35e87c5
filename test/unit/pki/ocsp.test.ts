// OCSP request building and response validation (RFC 6960) against responses made by the real
// `openssl ocsp` responder (fixtures/ocsp/generate.ts). Validation times are derived from each response.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import {
  OcspRequestError,
  buildOcspRequest,
  computeCertId,
  encodeOcspAuthorityInfoAccess,
  ocspResponderUrls,
  parseOcspResponse,
  validateOcspResponse,
  type OcspValidation,
} from "../../../src/pki/ocsp.js";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "ocsp");
const cert = (name: string) => new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
const resp = (name: string) => readFileSync(join(dir, `${name}.resp.der`));
const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { nonceHex: string };
const NONCE = Buffer.from(meta.nonceHex, "hex");

const ca = cert("ca");
const good = cert("good");
const revoked = cert("revoked");
const unknown = cert("unknown");
const MIN = 60_000;

function thisUpdateOf(der: Buffer): Date {
  const parsed = parseOcspResponse(der);
  const single = parsed.basic?.responses[0];
  assert.ok(single, "fixture has a single response");
  return single.thisUpdate;
}

function validate(
  name: string,
  subject: X509Certificate,
  offsetMs = MIN,
  extra: { nonce?: Buffer; requireNonce?: boolean } = {},
) {
  const der = resp(name);
  const at = new Date(thisUpdateOf(der).getTime() + offsetMs);
  return validateOcspResponse({ response: der, cert: subject, issuer: ca, at, ...extra });
}

function code(v: OcspValidation): string {
  return v.code;
}

test("parses an openssl response: responder by name, CertID SHA-1, times, embedded signer", () => {
  const parsed = parseOcspResponse(resp("good"));
  assert.equal(parsed.status, "successful");
  const basic = parsed.basic;
  assert.ok(basic);
  assert.ok("byName" in basic.responderId);
  assert.equal(basic.certs.length, 1);
  assert.equal(basic.certs[0]?.subject, "CN=siptrust OCSP fixture responder");
  const single = basic.responses[0];
  assert.equal(single?.status, "good");
  assert.equal(single?.certId?.hash, "sha1");
  assert.ok(
    single?.nextUpdate && single.nextUpdate.getTime() - single.thisUpdate.getTime() === 24 * 3600_000,
  );
  assert.ok(basic.nonce, "openssl echoes the request nonce");
});

test("good, delegated responder (RSA signature), nonce echoed", () => {
  const v = validate("good", good, MIN, { nonce: NONCE });
  assert.equal(v.ok, true, JSON.stringify(v));
  if (!v.ok) return;
  assert.equal(v.code, "ocsp-good");
  assert.equal(v.status, "good");
  assert.equal(v.signer, "delegated");
  assert.equal(v.responderCertificate?.subject, "CN=siptrust OCSP fixture responder");
});

test("good, signed by the issuer itself (ECDSA), responder by key hash, CertID SHA-256", () => {
  const v = validate("good-sha256-by-issuer", good);
  assert.equal(v.ok, true, JSON.stringify(v));
  if (v.ok) {
    assert.equal(v.signer, "issuer");
    assert.equal(v.status, "good");
  }
});

test("revoked carries time and reason", () => {
  const v = validate("revoked", revoked);
  assert.equal(v.code, "ocsp-revoked");
  if (!v.ok) return;
  assert.equal(v.status, "revoked");
  assert.equal(v.revocationReason, "keyCompromise");
  assert.ok(v.revocationTime && v.revocationTime.getTime() < v.thisUpdate.getTime());
});

test("unknown is a valid answer with status unknown", () => {
  const v = validate("unknown", unknown);
  assert.equal(v.ok, true);
  assert.equal(code(v), "ocsp-unknown");
});

test("response for another certificate → ocsp-certid-mismatch", () => {
  assert.equal(code(validate("good", revoked)), "ocsp-certid-mismatch");
  assert.equal(code(validate("revoked", good)), "ocsp-certid-mismatch");
});

test("nonce: a different echo → ocsp-nonce-mismatch; none echoed → accepted unless requireNonce", () => {
  assert.equal(
    code(validate("good", good, MIN, { nonce: Buffer.from("ffff", "hex") })),
    "ocsp-nonce-mismatch",
  );
  assert.equal(code(validate("revoked", revoked, MIN, { nonce: NONCE })), "ocsp-revoked");
  assert.equal(
    code(validate("revoked", revoked, MIN, { nonce: NONCE, requireNonce: true })),
    "ocsp-nonce-mismatch",
  );
  assert.equal(code(validate("good", good, MIN, { nonce: NONCE, requireNonce: true })), "ocsp-good");
  assert.equal(code(validate("good", good)), "ocsp-good");
});

test("unauthorized responders: no EKU, other CA's responder with the same name, signer not included", () => {
  for (const name of ["no-eku", "other-ca", "good-no-certs"]) {
    const v = validate(name, good);
    assert.equal(v.code, "ocsp-unauthorized-responder", `${name}: ${JSON.stringify(v)}`);
  }
  const noEku = validate("no-eku", good);
  assert.match(noEku.ok ? "" : noEku.detail, /id-kp-OCSPSigning/);
  const other = validate("other-ca", good);
  assert.match(other.ok ? "" : other.detail, /not issued by the issuer/);
});

test("time window: nextUpdate passed beyond the skew → ocsp-stale; within the skew → accepted", () => {
  const day = 24 * 3600_000;
  assert.equal(code(validate("good", good, day + 4 * MIN)), "ocsp-good");
  assert.equal(code(validate("good", good, day + 6 * MIN)), "ocsp-stale");
  const tight = validateOcspResponse({
    response: resp("good"),
    cert: good,
    issuer: ca,
    at: new Date(thisUpdateOf(resp("good")).getTime() + day + 2 * MIN),
    clockSkewMs: MIN,
  });
  assert.equal(tight.code, "ocsp-stale");
});

test("time window: thisUpdate in the future beyond the skew → ocsp-not-yet-valid", () => {
  assert.equal(code(validate("good-sha256-by-issuer", good, -4 * MIN)), "ocsp-good");
  assert.equal(code(validate("good-sha256-by-issuer", good, -6 * MIN)), "ocsp-not-yet-valid");
});

test("no nextUpdate: accepted while younger than maxAgeMs, stale after", () => {
  assert.equal(code(validate("good-no-next-update", good, 30 * MIN)), "ocsp-good");
  assert.equal(code(validate("good-no-next-update", good, 70 * MIN)), "ocsp-stale");
  const der = resp("good-no-next-update");
  const at = new Date(thisUpdateOf(der).getTime() + 30 * MIN);
  const strict = validateOcspResponse({ response: der, cert: good, issuer: ca, at, maxAgeMs: 10 * MIN });
  assert.equal(strict.code, "ocsp-stale");
});

test("a flipped bit in the signature or in the signed data → ocsp-bad-signature", () => {
  const der = Buffer.from(resp("good-sha256-by-issuer"));
  const basic = parseOcspResponse(der).basic;
  assert.ok(basic);
  const sigAt = der.indexOf(basic.signature);
  const badSig = Buffer.from(der);
  badSig[sigAt + 10] = (badSig[sigAt + 10] ?? 0) ^ 0x01;
  const at = new Date(thisUpdateOf(der).getTime() + MIN);
  assert.equal(
    validateOcspResponse({ response: badSig, cert: good, issuer: ca, at }).code,
    "ocsp-bad-signature",
  );
  // change a digit of producedAt (inside ResponseData): still decodable, no longer signed
  const produced = der.indexOf(Buffer.from([0x18, 0x0f]), der.indexOf(basic.tbsResponseData)) + 2 + 11;
  const badTbs = Buffer.from(der);
  badTbs[produced] = badTbs[produced] === 0x30 ? 0x31 : 0x30;
  const v = validateOcspResponse({ response: badTbs, cert: good, issuer: ca, at });
  assert.equal(v.code, "ocsp-bad-signature", JSON.stringify(v));
});

test("non-successful responseStatus → ocsp-responder-error naming the status", () => {
  for (const [status, name] of [
    [1, "malformedRequest"],
    [2, "internalError"],
    [3, "tryLater"],
    [6, "unauthorized"],
  ] as const) {
    const v = validateOcspResponse({
      response: Buffer.from([0x30, 3, 0x0a, 1, status]),
      cert: good,
      issuer: ca,
    });
    assert.equal(v.code, "ocsp-responder-error");
    assert.match(v.ok ? "" : v.detail, new RegExp(name));
  }
});

test("garbage, truncation, trailing bytes and single-byte corruptions: typed result, never a throw", () => {
  const der = resp("good");
  const at = new Date(thisUpdateOf(der).getTime() + MIN);
  const run = (bytes: Buffer) => validateOcspResponse({ response: bytes, cert: good, issuer: ca, at });
  assert.equal(run(Buffer.alloc(0)).code, "ocsp-malformed");
  assert.equal(run(Buffer.from("not an OCSP response")).code, "ocsp-malformed");
  assert.equal(run(Buffer.concat([der, Buffer.from([0])])).code, "ocsp-malformed");
  assert.equal(run(Buffer.from([0x30, 3, 0x0a, 1, 0])).code, "ocsp-malformed"); // successful without bytes
  for (let cut = 1; cut < der.length; cut += 7) assert.equal(run(der.subarray(0, cut)).ok, false);
  const accepted: number[] = [];
  // Every 3rd byte of a delegated response: the responder certificate is part of the trust decision, so
  // no byte anywhere may change without the response being refused.
  for (let i = 0; i < der.length; i += 3) {
    const copy = Buffer.from(der);
    copy[i] = (copy[i] ?? 0) ^ 0x55;
    if (run(copy).ok) accepted.push(i);
  }
  assert.deepEqual(accepted, []);
});

test("issuer-signed response: every byte up to the signature matters; the unused embedded CA copy does not", () => {
  const der = resp("good-sha256-by-issuer");
  const basic = parseOcspResponse(der).basic;
  assert.ok(basic);
  const end = der.indexOf(basic.signature) + basic.signature.length;
  const at = new Date(thisUpdateOf(der).getTime() + MIN);
  const accepted: number[] = [];
  for (let i = 0; i < end; i++) {
    const copy = Buffer.from(der);
    copy[i] = (copy[i] ?? 0) ^ 0x55;
    if (validateOcspResponse({ response: copy, cert: good, issuer: ca, at }).ok) accepted.push(i);
  }
  assert.deepEqual(accepted, []);
});

test("request: CertID fields per RFC 6960 §4.1.1, decodable by pkijs, nonce per RFC 8954", () => {
  for (const hash of ["sha1", "sha256"] as const) {
    const req = buildOcspRequest({ cert: good, issuer: ca, hash, nonce: NONCE });
    const asn = asn1js.fromBER(new Uint8Array(req.der));
    assert.notEqual(asn.offset, -1);
    const parsed = new pkijs.OCSPRequest({ schema: asn.result });
    const reqCert = parsed.tbsRequest.requestList[0]?.reqCert;
    assert.ok(reqCert);
    const expected = computeCertId(good, ca, hash);
    assert.ok(Buffer.from(reqCert.issuerNameHash.valueBlock.valueHexView).equals(expected.issuerNameHash));
    assert.ok(Buffer.from(reqCert.issuerKeyHash.valueBlock.valueHexView).equals(expected.issuerKeyHash));
    assert.equal(
      Buffer.from(reqCert.serialNumber.valueBlock.valueHexView).toString("hex").toUpperCase(),
      good.serialNumber,
    );
    assert.equal(expected.issuerNameHash.length, hash === "sha1" ? 20 : 32);
    const ext = parsed.tbsRequest.requestExtensions?.[0];
    assert.equal(ext?.extnID, "1.3.6.1.5.5.7.48.1.2");
  }
  // The requests the fixtures were answered from are byte-identical to what we build now (deterministic).
  const again = buildOcspRequest({ cert: good, issuer: ca, nonce: NONCE }).der;
  assert.ok(again.equals(readFileSync(join(dir, "good.req.der"))));
  assert.throws(() => buildOcspRequest({ cert: good, issuer: ca, nonce: Buffer.alloc(0) }), OcspRequestError);
  assert.throws(
    () => buildOcspRequest({ cert: good, issuer: ca, nonce: Buffer.alloc(33) }),
    OcspRequestError,
  );
});

test("AIA: responder URLs read back, other access methods ignored, absent → []", () => {
  const testCa = createCa();
  const caIssuers = Buffer.from(
    "300f06082b06010505073002" + "8603" + Buffer.from("x:y").toString("hex"),
    "hex",
  ); // AccessDescription id-ad-caIssuers
  const aia = encodeOcspAuthorityInfoAccess(["http://127.0.0.1:8888/ocsp", "http://ocsp.example.com"]);
  const withCaIssuers = Buffer.concat([
    Buffer.from([0x30, aia[1]! + caIssuers.length]),
    caIssuers,
    aia.subarray(2),
  ]);
  const leaf = issueCertificate(testCa, {
    cn: "aia.example.com",
    extensions: [{ oid: "1.3.6.1.5.5.7.1.1", value: withCaIssuers }],
  }).certificate;
  assert.deepEqual(ocspResponderUrls(leaf), ["http://127.0.0.1:8888/ocsp", "http://ocsp.example.com"]);
  assert.match(leaf.infoAccess ?? "", /OCSP - URI:http:\/\/127\.0\.0\.1:8888\/ocsp/);
  assert.deepEqual(ocspResponderUrls(good), []);
});
