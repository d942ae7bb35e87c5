import { test } from "node:test";
import assert from "node:assert/strict";
import { checkBearerToken, isUsableToken } from "../../../../src/proxy/admin/bearer-token.js";
import { isLoopbackHost } from "../../../../src/proxy/admin/loopback.js";

test("isLoopbackHost: only literal loopback addresses and localhost", () => {
  const table: Array<[string, boolean]> = [
    ["127.0.0.1", true],
    ["127.255.3.4", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["localhost.example.com", false],
    ["127.0.0.1.nip.io", false],
    ["", false],
  ];
  for (const [host, loopback] of table) assert.equal(isLoopbackHost(host), loopback, host);
});

test("checkBearerToken: header form only, exact token", () => {
  assert.deepEqual(checkBearerToken(undefined, undefined), { ok: true, code: "no-token-configured" });
  assert.equal(checkBearerToken("abc", undefined).code, "token-missing");
  assert.equal(checkBearerToken("abc", "Bearer").code, "token-missing");
  assert.equal(checkBearerToken("abc", "Bearer abc def").code, "token-missing");
  assert.equal(checkBearerToken("abc", "Bearer abd").code, "token-wrong");
  assert.equal(checkBearerToken("abc", "Bearer ab").code, "token-wrong");
  assert.equal(checkBearerToken("abc", "Bearer abcd").code, "token-wrong");
  assert.equal(checkBearerToken("abc", "Bearer ABC").code, "token-wrong");
  assert.deepEqual(checkBearerToken("abc", "Bearer abc"), { ok: true, code: "token-accepted" });
  assert.equal(checkBearerToken("a/b+c=", "bearer a/b+c=").code, "token-accepted");
});

test("isUsableToken: visible ASCII without spaces", () => {
  assert.equal(isUsableToken("Zm9v-bar_baz.~+/="), true);
  assert.equal(isUsableToken(""), false);
  assert.equal(isUsableToken("a b"), false);
  assert.equal(isUsableToken("tab\there"), false);
  assert.equal(isUsableToken("ümlaut"), false);
});
