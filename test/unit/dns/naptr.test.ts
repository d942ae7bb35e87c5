import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultPort, selectSipNaptr, srvPrefix } from "../../../src/dns/naptr.js";
import type { WireRecord } from "../../../src/dns/wire.js";

const naptr = (
  order: number,
  preference: number,
  services: string,
  replacement: string,
  flags = "s",
  regexp = "",
): WireRecord => ({
  name: "example.com",
  type: "NAPTR",
  typeCode: 35,
  ttl: 60,
  data: { order, preference, flags, services, regexp, replacement },
  rdata: Buffer.alloc(0),
});

const records = [
  naptr(20, 10, "SIP+D2U", "_sip._udp.example.com"),
  naptr(10, 20, "SIPS+D2T", "_sips._tcp.b.example.com"),
  naptr(10, 10, "SIPS+D2T", "_sips._tcp.a.example.com"),
  naptr(5, 5, "SIP+D2T", "_sip._tcp.example.com"),
  naptr(1, 1, "E2U+sip", "!^.*$!sip:x@example.com!", "u"),
  naptr(1, 1, "SIPS+D2T", "_sips._tcp.regexp.example.com", "s", "!x!y!"),
  naptr(1, 1, "SIPS+D2T", "host.example.com", "a"),
];

test("sips: keeps only SIPS+D2T with flag S and empty regexp, ordered by ORDER then PREFERENCE", () => {
  const got = selectSipNaptr(records, "sips", ["tls", "tcp", "udp"]);
  assert.deepEqual(
    got.map((n) => n.replacement),
    ["_sips._tcp.a.example.com", "_sips._tcp.b.example.com"],
  );
});

test("sip: with TLS only (the edge default) keeps SIPS+D2T; plain transports are dropped", () => {
  const got = selectSipNaptr(records, "sip", ["tls"]);
  assert.deepEqual(
    got.map((n) => n.service),
    ["SIPS+D2T", "SIPS+D2T"],
  );
});

test("sip: with several transports prefers the caller's transport order over NAPTR ORDER", () => {
  const got = selectSipNaptr(records, "sip", ["tls", "tcp", "udp"]);
  assert.deepEqual(
    got.map((n) => [n.transport, n.order, n.preference]),
    [
      ["tls", 10, 10],
      ["tls", 10, 20],
      ["tcp", 5, 5],
      ["udp", 20, 10],
    ],
  );
  const tcpFirst = selectSipNaptr(records, "sip", ["tcp", "tls"]);
  assert.equal(tcpFirst[0]?.service, "SIP+D2T");
  assert.equal(
    tcpFirst.some((n) => n.transport === "udp"),
    false,
    "transport filter",
  );
});

test("service names and flags compare case-insensitively", () => {
  const got = selectSipNaptr([naptr(1, 1, "sips+d2t", "_sips._tcp.Example.COM.", "S")], "sips", ["tls"]);
  assert.deepEqual(
    got.map((n) => n.replacement),
    ["_sips._tcp.example.com"],
  );
});

test("SRV prefixes and default ports (RFC 3263 §4.1, §4.2)", () => {
  assert.equal(srvPrefix("sips", "tls"), "_sips._tcp");
  assert.equal(srvPrefix("sip", "tls"), "_sips._tcp");
  assert.equal(srvPrefix("sip", "tcp"), "_sip._tcp");
  assert.equal(srvPrefix("sip", "udp"), "_sip._udp");
  assert.deepEqual([defaultPort("tls"), defaultPort("tcp"), defaultPort("udp")], [5061, 5060, 5060]);
});

test("RFC 3403 §4.1: within one transport, a lower ORDER wins even against a better PREFERENCE", () => {
  // ORDER is compared first; PREFERENCE only breaks ties inside one ORDER.
  const got = selectSipNaptr(
    [
      naptr(20, 1, "SIPS+D2T", "_sips._tcp.later.example.com"),
      naptr(10, 90, "SIPS+D2T", "_sips._tcp.first.example.com"),
      naptr(10, 50, "SIPS+D2T", "_sips._tcp.zeroth.example.com"),
      naptr(30, 0, "SIPS+D2T", "_sips._tcp.last.example.com"),
    ],
    "sips",
    ["tls"],
  );
  assert.deepEqual(
    got.map((n) => [n.order, n.preference, n.replacement]),
    [
      [10, 50, "_sips._tcp.zeroth.example.com"],
      [10, 90, "_sips._tcp.first.example.com"],
      [20, 1, "_sips._tcp.later.example.com"],
      [30, 0, "_sips._tcp.last.example.com"],
    ],
  );
});
