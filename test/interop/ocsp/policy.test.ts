// OCSP peer checking (ocsp-policy.ts) against a real OpenSSL responder on loopback: every outcome under
// every policy, with expectations written out here (not derived from the implementation's table).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkOcsp, OcspResponseCache, type OcspPolicyMode } from "../../../src/tls/ocsp-policy.js";
import { fetchOcspResponse } from "../../../src/tls/ocsp-fetch.js";
import { buildOcspRequest } from "../../../src/pki/ocsp.js";
import { startOcspLab, type LeafName } from "./ocsp-lab.js";

type Expect = { ok: boolean; code: string; cause?: string };

const EXPECTED: Record<string, Record<OcspPolicyMode, Expect>> = {
  good: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: true, code: "ocsp-good" },
    "hard-fail": { ok: true, code: "ocsp-good" },
  },
  revoked: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: false, code: "ocsp-revoked" },
    "hard-fail": { ok: false, code: "ocsp-revoked" },
  },
  unknown: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: false, code: "ocsp-unknown" },
    "hard-fail": { ok: false, code: "ocsp-unknown" },
  },
  unreachable: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: true, code: "ocsp-soft-fail", cause: "ocsp-unreachable" },
    "hard-fail": { ok: false, code: "ocsp-unreachable" },
  },
  invalid: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: true, code: "ocsp-soft-fail", cause: "ocsp-unauthorized-responder" },
    "hard-fail": { ok: false, code: "ocsp-unauthorized-responder" },
  },
  slow: {
    off: { ok: true, code: "ocsp-off" },
    "soft-fail": { ok: true, code: "ocsp-soft-fail", cause: "ocsp-timeout" },
    "hard-fail": { ok: false, code: "ocsp-timeout" },
  },
};

test("OCSP policy × outcome against a real openssl responder", { timeout: 60_000 }, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  for (const [leafName, byMode] of Object.entries(EXPECTED)) {
    for (const [mode, expected] of Object.entries(byMode) as Array<[OcspPolicyMode, Expect]>) {
      await t.test(`${leafName} / ${mode}`, async () => {
        const before = lab.main.requests;
        const result = await checkOcsp({
          cert: lab.leaves[leafName as LeafName].certificate,
          issuer: lab.ca.certificate,
          mode,
          // only the hanging responder should time out; openssl start-up under load can take a while
          timeoutMs: leafName === "slow" ? 500 : 8000,
        });
        assert.equal(result.ok, expected.ok, JSON.stringify(result));
        assert.equal(result.code, expected.code, JSON.stringify(result));
        if (expected.cause) assert.equal(result.ok && result.cause, expected.cause);
        if (mode === "off") assert.equal(lab.main.requests, before, "off must not contact the responder");
        if (result.ok && result.code === "ocsp-good") assert.equal(result.source, "responder");
      });
    }
  }
  await t.test("revoked carries the reason the responder gave", async () => {
    const r = await checkOcsp({
      cert: lab.leaves.revoked.certificate,
      issuer: lab.ca.certificate,
      mode: "soft-fail",
    });
    assert.equal(r.code, "ocsp-revoked");
    assert.match(r.detail, /keyCompromise/);
    assert.equal(r.validation?.revocationReason, "keyCompromise");
  });
});

test(
  "responder problems: HTTP 500, responder down, no issuer, no AIA; SHA-256 CertID; cache",
  { timeout: 60_000 },
  async (t) => {
    const lab = await startOcspLab();
    t.after(() => lab.stop());
    const good = lab.leaves.good.certificate;
    const ca = lab.ca.certificate;

    await t.test("SHA-256 CertID is answered and validated", async () => {
      const r = await checkOcsp({ cert: good, issuer: ca, mode: "hard-fail", hash: "sha256" });
      assert.equal(r.code, "ocsp-good", JSON.stringify(r));
    });
    await t.test("HTTP 500 → ocsp-http-error (unreachable class)", async () => {
      lab.main.mode = "http-500";
      try {
        const hard = await checkOcsp({ cert: good, issuer: ca, mode: "hard-fail" });
        assert.deepEqual(
          [hard.ok, hard.code, hard.ok ? "" : hard.outcome],
          [false, "ocsp-http-error", "unreachable"],
        );
        const soft = await checkOcsp({ cert: good, issuer: ca, mode: "soft-fail" });
        assert.equal(soft.ok && soft.cause, "ocsp-http-error");
      } finally {
        lab.main.mode = "serve";
      }
    });
    await t.test("no issuer certificate → ocsp-no-issuer", async () => {
      const r = await checkOcsp({ cert: good, issuer: undefined, mode: "hard-fail" });
      assert.equal(r.code, "ocsp-no-issuer");
    });
    await t.test("no AIA → ocsp-no-responder; an operator-configured URL is used instead", async () => {
      const r = await checkOcsp({ cert: lab.ca.certificate, issuer: ca, mode: "hard-fail" });
      assert.equal(r.code, "ocsp-no-responder");
      const viaConfig = await checkOcsp({
        cert: lab.leaves.unreachable.certificate,
        issuer: ca,
        mode: "hard-fail",
        responderUrl: lab.main.url,
      });
      assert.equal(viaConfig.code, "ocsp-good", JSON.stringify(viaConfig));
    });
    await t.test("cache: second check answered without the responder", async () => {
      const cache = new OcspResponseCache();
      const first = await checkOcsp({ cert: good, issuer: ca, mode: "hard-fail", cache });
      assert.equal(first.ok && first.source, "responder");
      const before = lab.main.requests;
      const second = await checkOcsp({ cert: good, issuer: ca, mode: "hard-fail", cache });
      assert.equal(second.ok && second.source, "cache");
      assert.equal(lab.main.requests, before);
      // stale at a later time: dropped and fetched again (openssl -nmin 10 → nextUpdate in 10 minutes)
      const later = new Date(Date.now() + 20 * 60_000);
      const third = await checkOcsp({ cert: good, issuer: ca, mode: "hard-fail", cache, at: later });
      assert.equal(third.code, "ocsp-stale", "a fresh answer is still stale 20 minutes from now");
      assert.equal(lab.main.requests, before + 1);
    });
    await t.test("fetch limits: oversize body refused, bad URL refused", async () => {
      const body = buildOcspRequest({ cert: good, issuer: ca }).der;
      const full = await fetchOcspResponse({ url: lab.main.url, body });
      assert.equal(full.ok, true);
      const tiny = await fetchOcspResponse({ url: lab.main.url, body, maxBytes: 100 });
      assert.equal(tiny.ok ? "" : tiny.code, "ocsp-too-large");
      const ftp = await fetchOcspResponse({ url: "ftp://127.0.0.1/", body: Buffer.alloc(1) });
      assert.equal(ftp.ok ? "" : ftp.code, "ocsp-bad-url");
    });
  },
);
