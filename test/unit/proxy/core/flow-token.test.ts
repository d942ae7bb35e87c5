import { test } from "node:test";
import assert from "node:assert/strict";
import { FlowTokens } from "../../../../src/proxy/core/flow-token.js";
import { isSipUri, parseUri } from "../../../../src/sip/index.js";

test("flow tokens round-trip, fit in a URI user part and verify only with the key", () => {
  const a = new FlowTokens(Buffer.alloc(32, 1));
  const b = new FlowTokens(Buffer.alloc(32, 2));
  for (const id of ["in:tls-main:1", "in:x:99999", "in:ü:-_.~"]) {
    const token = a.encode(id);
    assert.deepEqual(a.decode(token), { ok: true, flowId: id });
    const r = parseUri(`sip:${token}@edge.example.com;lr`);
    assert.ok(r.ok && isSipUri(r.uri) && r.uri.user === token, "token is a valid user part");
    assert.equal(b.decode(token).ok, false, "another key does not verify it");
  }
});

test("tampered or foreign user parts are refused with a reason", () => {
  const t = new FlowTokens(Buffer.alloc(32, 1));
  const token = t.encode("in:l:1");
  const other = t.encode("in:l:2");
  const swapped = `${token.split(".")[0]!}.${other.split(".")[1]!}`;
  assert.deepEqual(t.decode(swapped).ok, false);
  assert.equal((t.decode("alice") as { code: string }).code, "not-a-token");
  assert.equal((t.decode("ft-abc") as { code: string }).code, "bad-token");
  assert.equal((t.decode(`ft-${"A".repeat(600)}.x`) as { code: string }).code, "not-a-token");
  assert.equal(FlowTokens.looksLike(token), true);
  assert.equal(FlowTokens.looksLike(undefined), false);
});
