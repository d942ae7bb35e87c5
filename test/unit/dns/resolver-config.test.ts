import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isLoopbackAddress,
  parseResolvConf,
  parseResolverAddress,
  systemResolver,
} from "../../../src/dns/resolver-config.js";

test("resolver addresses: host, host:port, bracketed and bare IPv6", () => {
  const table: [string, string, number, 4 | 6][] = [
    ["127.0.0.1", "127.0.0.1", 53, 4],
    ["127.0.0.1:5353", "127.0.0.1", 5353, 4],
    ["::1", "::1", 53, 6],
    ["[::1]:5300", "::1", 5300, 6],
    ["[2001:db8::53]", "2001:db8::53", 53, 6],
    ["2001:db8::53", "2001:db8::53", 53, 6],
  ];
  for (const [text, host, port, family] of table) {
    const e = parseResolverAddress(text);
    assert.deepEqual([e.host, e.port, e.family], [host, port, family], text);
  }
  for (const bad of ["", "resolver.example", "127.0.0.1:99999", "127.0.0.1:x", "[::1]:0", "1.2.3"]) {
    assert.throws(() => parseResolverAddress(bad), { code: "bad-resolver-address" }, bad);
  }
});

test("AD trust: loopback always, others only when configured trusted (RFC 6840 §5.8)", () => {
  assert.deepEqual(pick(parseResolverAddress("127.0.0.53")), [true, "loopback"]);
  assert.deepEqual(pick(parseResolverAddress("[::1]:53")), [true, "loopback"]);
  assert.deepEqual(pick(parseResolverAddress("192.0.2.53")), [false, "untrusted"]);
  assert.deepEqual(pick(parseResolverAddress("192.0.2.53", { trusted: true })), [true, "configured"]);
  assert.equal(isLoopbackAddress("::ffff:127.0.0.1"), true);
  assert.equal(isLoopbackAddress("128.0.0.1"), false);
});

function pick(e: { adTrusted: boolean; trustReason: string }): [boolean, string] {
  return [e.adTrusted, e.trustReason];
}

test("resolv.conf: the first nameserver wins; comments ignored; none → 127.0.0.1", () => {
  assert.equal(
    parseResolvConf("# x\nsearch example\nnameserver 10.0.0.1 \nnameserver 10.0.0.2\n"),
    "10.0.0.1",
  );
  assert.equal(parseResolvConf("; nameserver 9.9.9.9\noptions edns0\n"), "127.0.0.1");
  assert.equal(parseResolvConf("nameserver ::1"), "::1");
});

test("systemResolver reads the file, keeps an IPv6 zone, and falls back when unreadable", () => {
  const read = (text: string) => () => text;
  assert.equal(systemResolver({ readFile: read("nameserver 10.1.2.3\n") }).host, "10.1.2.3");
  const zoned = systemResolver({ readFile: read("nameserver fe80::1%eth0\n") });
  assert.deepEqual([zoned.host, zoned.family, zoned.adTrusted], ["fe80::1%eth0", 6, false]);
  const missing = systemResolver({
    readFile: () => {
      throw new Error("ENOENT");
    },
  });
  assert.deepEqual([missing.host, missing.adTrusted], ["127.0.0.1", true]);
});
