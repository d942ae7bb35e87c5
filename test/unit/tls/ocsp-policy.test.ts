// The OCSP policy (ocsp-policy.ts) on openssl-made fixture responses with a stub transport: the
// outcome × policy table, staple-before-responder order, and how each failure is classified.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseOcspResponse } from "../../../src/pki/ocsp.js";
import { checkOcsp, type OcspCheckInput, type OcspPolicyMode } from "../../../src/tls/ocsp-policy.js";
import type { OcspFetchCode, OcspFetcher, OcspFetchResult } from "../../../src/tls/ocsp-fetch.js";

type Spy = OcspFetcher & { calls: number };

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "pki", "fixtures", "ocsp");
const cert = (name: string) => new X509Certificate(readFileSync(join(dir, `${name}.pem`)));
const resp = (name: string) => readFileSync(join(dir, `${name}.resp.der`));
const ca = cert("ca");
const AT = new Date(
  (parseOcspResponse(resp("good")).basic?.responses[0]?.thisUpdate.getTime() ?? 0) + 60_000,
);
const URL = "http://127.0.0.1:9/ocsp";

function answering(result: { ok: false; code: OcspFetchCode; detail: string } | Buffer): Spy {
  const f = Object.assign(
    async (r: { url: string }): Promise<OcspFetchResult> => {
      f.calls++;
      return Buffer.isBuffer(result) ? { ok: true, body: result, url: r.url } : { ...result, url: r.url };
    },
    { calls: 0 },
  );
  return f;
}

function input(
  leaf: string,
  mode: OcspPolicyMode,
  fetch: OcspFetcher,
  extra: Partial<OcspCheckInput> = {},
): OcspCheckInput {
  return { cert: cert(leaf), issuer: ca, mode, fetch, responderUrl: URL, at: AT, useNonce: false, ...extra };
}

const OUTCOMES: Record<string, { leaf: string; fetch: () => Spy; modes: Record<OcspPolicyMode, string> }> = {
  good: {
    leaf: "good",
    fetch: () => answering(resp("good-sha256-by-issuer")),
    modes: { off: "ocsp-off", "soft-fail": "ocsp-good", "hard-fail": "ocsp-good" },
  },
  revoked: {
    leaf: "revoked",
    fetch: () => answering(resp("revoked")),
    modes: { off: "ocsp-off", "soft-fail": "!ocsp-revoked", "hard-fail": "!ocsp-revoked" },
  },
  unknown: {
    leaf: "unknown",
    fetch: () => answering(resp("unknown")),
    modes: { off: "ocsp-off", "soft-fail": "!ocsp-unknown", "hard-fail": "!ocsp-unknown" },
  },
  unreachable: {
    leaf: "good",
    fetch: () => answering({ ok: false, code: "ocsp-unreachable", detail: "ECONNREFUSED" }),
    modes: { off: "ocsp-off", "soft-fail": "ocsp-soft-fail", "hard-fail": "!ocsp-unreachable" },
  },
  "tryLater (responder error)": {
    leaf: "good",
    fetch: () => answering(Buffer.from([0x30, 3, 0x0a, 1, 3])),
    modes: { off: "ocsp-off", "soft-fail": "ocsp-soft-fail", "hard-fail": "!ocsp-responder-error" },
  },
  "invalid (unauthorised responder)": {
    leaf: "good",
    fetch: () => answering(resp("no-eku")),
    modes: { off: "ocsp-off", "soft-fail": "ocsp-soft-fail", "hard-fail": "!ocsp-unauthorized-responder" },
  },
};

for (const [name, c] of Object.entries(OUTCOMES)) {
  for (const [mode, expected] of Object.entries(c.modes) as Array<[OcspPolicyMode, string]>) {
    test(`${name} under ${mode} → ${expected}`, async () => {
      const fetch = c.fetch();
      const r = await checkOcsp(input(c.leaf, mode, fetch));
      const wantOk = !expected.startsWith("!");
      assert.equal(r.ok, wantOk, JSON.stringify(r));
      assert.equal(r.code, expected.replace("!", ""));
      assert.equal(fetch.calls, mode === "off" ? 0 : 1);
    });
  }
}

test("soft-fail names the tolerated failure in cause; outcome says which row of the table applied", async () => {
  const r = await checkOcsp(input("good", "soft-fail", answering(resp("no-eku"))));
  assert.ok(r.ok && r.code === "ocsp-soft-fail");
  assert.equal(r.cause, "ocsp-unauthorized-responder");
  assert.equal(r.outcome, "invalid");
  const u = await checkOcsp(input("good", "soft-fail", answering(Buffer.from([0x30, 3, 0x0a, 1, 3]))));
  assert.equal(u.outcome, "unreachable");
});

test("a valid staple decides without the responder; a revoked staple rejects", async () => {
  const spy = answering({ ok: false, code: "ocsp-unreachable", detail: "not to be called" });
  const good = await checkOcsp(input("good", "hard-fail", spy, { stapled: resp("good") }));
  assert.deepEqual([good.code, good.source], ["ocsp-good", "staple"]);
  const revoked = await checkOcsp(input("revoked", "soft-fail", spy, { stapled: resp("revoked") }));
  assert.deepEqual([revoked.ok, revoked.code, revoked.source], [false, "ocsp-revoked", "staple"]);
  assert.equal(spy.calls, 0);
});

test("a staple for another certificate or a stale staple falls back to the responder", async () => {
  const fetch = answering(resp("good-sha256-by-issuer"));
  const wrong = await checkOcsp(input("good", "hard-fail", fetch, { stapled: resp("revoked") }));
  assert.deepEqual([wrong.code, wrong.source], ["ocsp-good", "responder"]);
  const down = answering({ ok: false, code: "ocsp-timeout", detail: "no answer" });
  const staleAt = new Date(AT.getTime() + 2 * 24 * 3600_000);
  const stale = await checkOcsp(input("good", "hard-fail", down, { stapled: resp("good"), at: staleAt }));
  assert.equal(stale.code, "ocsp-timeout");
  assert.match(stale.detail, /stapled response rejected: ocsp-stale/);
  const noResponder = await checkOcsp(
    input("good", "hard-fail", down, { stapled: resp("revoked"), useResponder: false }),
  );
  assert.equal(noResponder.code, "ocsp-certid-mismatch");
});

test("nonce: sent by default; a response echoing a different nonce is invalid", async () => {
  // the fixture echoes the generator's fixed nonce, never the random one sent here
  const r = await checkOcsp(input("good", "hard-fail", answering(resp("good")), { useNonce: true }));
  assert.equal(r.code, "ocsp-nonce-mismatch");
  const lenient = await checkOcsp(
    input("good", "hard-fail", answering(resp("good-sha256-by-issuer")), { useNonce: true }),
  );
  assert.equal(lenient.code, "ocsp-good", "a responder that ignores nonces is accepted by default");
  const strict = await checkOcsp(
    input("good", "hard-fail", answering(resp("good-sha256-by-issuer")), {
      useNonce: true,
      requireNonce: true,
    }),
  );
  assert.equal(strict.code, "ocsp-nonce-mismatch");
});

test("no issuer and no responder URL are 'unreachable', not crashes", async () => {
  const spy = answering(resp("good"));
  const noIssuer = await checkOcsp({ cert: cert("good"), issuer: undefined, mode: "hard-fail", fetch: spy });
  assert.equal(noIssuer.code, "ocsp-no-issuer");
  const noAia = await checkOcsp({ cert: cert("good"), issuer: ca, mode: "soft-fail", fetch: spy, at: AT });
  assert.ok(noAia.ok && noAia.cause === "ocsp-no-responder");
  assert.equal(spy.calls, 0);
});
