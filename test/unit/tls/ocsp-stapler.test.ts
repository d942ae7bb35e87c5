// The stapler's bookkeeping with a stub transport and a controlled clock: what is served when, when the
// next refresh is planned, and the registration errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseOcspResponse } from "../../../src/pki/ocsp.js";
import { OcspStapler, OcspStaplerError } from "../../../src/tls/ocsp-stapler.js";
import type { OcspFetcher } from "../../../src/tls/ocsp-fetch.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "pki", "fixtures", "ocsp");
const pem = (name: string) => readFileSync(join(dir, `${name}.pem`), "utf8");
const ca = new X509Certificate(pem("ca"));
const good = new X509Certificate(pem("good"));
const RESPONSE = readFileSync(join(dir, "good-sha256-by-issuer.resp.der"));
const single = parseOcspResponse(RESPONSE).basic?.responses[0];
const THIS_UPDATE = single?.thisUpdate.getTime() ?? 0;
const NEXT_UPDATE = single?.nextUpdate?.getTime() ?? 0;
const HOUR = 3_600_000;

function stub(body: Buffer | undefined): OcspFetcher & { urls: string[] } {
  const urls: string[] = [];
  const f = async (r: { url: string }) => {
    urls.push(r.url);
    return body
      ? { ok: true as const, body, url: r.url }
      : { ok: false as const, code: "ocsp-unreachable" as const, detail: "refused", url: r.url };
  };
  return Object.assign(f, { urls });
}

test("serves a validated response until nextUpdate and plans the refresh at half the window", async (t) => {
  let now = THIS_UPDATE + 60_000;
  const fetch = stub(RESPONSE);
  const stapler = new OcspStapler({ fetch, now: () => new Date(now) });
  t.after(() => stapler.stop());
  stapler.add(good, ca, "http://127.0.0.1:9/");
  const [state] = await stapler.start();
  assert.equal(state?.status, "good");
  assert.deepEqual(fetch.urls, ["http://127.0.0.1:9/"]);
  assert.equal(state?.nextRefresh?.getTime(), THIS_UPDATE + (NEXT_UPDATE - THIS_UPDATE) / 2);
  assert.ok(stapler.responseFor(good.raw)?.equals(RESPONSE));
  assert.equal(stapler.responseFor(ca.raw), undefined, "nothing for a certificate not registered");
  now = NEXT_UPDATE + 1;
  assert.equal(stapler.responseFor(good.raw), undefined, "a stale response is never stapled");
});

test("a response that does not validate is not stapled; the failure is recorded and retried", async (t) => {
  const now = THIS_UPDATE + 60_000;
  const wrong = readFileSync(join(dir, "revoked.resp.der")); // for another certificate
  const stapler = new OcspStapler({ fetch: stub(wrong), now: () => new Date(now), retryMs: 30_000 });
  t.after(() => stapler.stop());
  stapler.add(good, ca, "http://127.0.0.1:9/");
  const [state] = await stapler.start();
  assert.equal(state?.status, undefined);
  assert.equal(state?.lastError?.code, "ocsp-certid-mismatch");
  assert.equal(state?.nextRefresh?.getTime(), now + 30_000);
  assert.equal(stapler.responseFor(good.raw), undefined);
});

test("unreachable responder: backoff doubles per failure", async (t) => {
  const now = THIS_UPDATE;
  const stapler = new OcspStapler({ fetch: stub(undefined), now: () => new Date(now), retryMs: 1000 });
  t.after(() => stapler.stop());
  stapler.add(good, ca, "http://127.0.0.1:9/");
  const [s1] = await stapler.start();
  assert.equal(s1?.lastError?.code, "ocsp-unreachable");
  assert.equal(s1?.nextRefresh?.getTime(), now + 10_000, "never more often than minRefreshMs (10 s)");
  const [s2] = await stapler.start();
  const [s3] = await stapler.start();
  assert.ok(s2 && s3);
  assert.equal(s3.nextRefresh?.getTime(), now + 10_000);
  const slow = new OcspStapler({ fetch: stub(undefined), now: () => new Date(now), retryMs: 60_000 });
  t.after(() => slow.stop());
  slow.add(good, ca, "http://127.0.0.1:9/");
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) delays.push(((await slow.start())[0]?.nextRefresh?.getTime() ?? 0) - now);
  assert.deepEqual(delays, [60_000, 120_000, 240_000]);
  assert.ok(delays.every((d) => d <= HOUR));
});

test("registration: no AIA and no URL → no-responder; chain without the issuer → no-issuer", () => {
  const stapler = new OcspStapler({ fetch: stub(undefined) });
  assert.throws(
    () => stapler.add(good, ca),
    (e) => e instanceof OcspStaplerError && e.code === "no-responder",
  );
  assert.throws(
    () => stapler.addCredential({ certificate: good, contextOptions: { cert: pem("good") } }),
    (e) => e instanceof OcspStaplerError && e.code === "no-issuer",
  );
  // with the CA in the chain the issuer is found; then only the missing AIA is reported
  assert.throws(
    () => stapler.addCredential({ certificate: good, contextOptions: { cert: pem("good") + pem("ca") } }),
    (e) => e instanceof OcspStaplerError && e.code === "no-responder",
  );
});
