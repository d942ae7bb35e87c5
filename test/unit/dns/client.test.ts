import { test } from "node:test";
import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import { DnsClient } from "../../../src/dns/client.js";
import { DnsCache } from "../../../src/dns/cache.js";
import { parseResolverAddress } from "../../../src/dns/resolver-config.js";
import { frame, respond, startFakeDns, zoneHandler, type Handler, type FakeDns } from "./fake-dns.js";

const A = (name: string, ip: string, ttl = 300) => ({ type: "A" as const, name, ttl, data: ip });

async function withServer(
  t: { after: (fn: () => Promise<void>) => void },
  handler: Handler,
  host?: string,
): Promise<FakeDns> {
  const server = await startFakeDns(handler, host);
  t.after(() => server.close());
  return server;
}

function client(server: FakeDns, extra: Partial<ConstructorParameters<typeof DnsClient>[0]> = {}): DnsClient {
  return new DnsClient({ resolver: server.address, timeoutMs: 300, retries: 0, cache: false, ...extra });
}

test("query carries EDNS0 with DO=1, AD=1, a 1232-octet payload, and the ID we chose", async (t) => {
  let payload = 0;
  const server = await withServer(t, ({ query }) => {
    const opt = query.additionals?.find((a) => a.type === "OPT") as { udpPayloadSize: number } | undefined;
    payload = opt?.udpPayloadSize ?? 0;
    return { packet: respond(query, { answers: [A("sip.example", "192.0.2.1")], ad: true }) };
  });
  const c = client(server, { randomId: () => 4242 });
  const answer = await c.query("SIP.example.", "A");
  assert.equal(payload, 1232);
  assert.deepEqual(
    server.log.map((l) => [l.transport, l.name, l.type, l.id, l.doBit, l.ad]),
    [["udp", "sip.example", "A", 4242, true, true]],
  );
  assert.equal(answer.status, "secure");
  assert.equal(answer.code, "answer");
  assert.deepEqual(
    answer.records.map((r) => r.data),
    ["192.0.2.1"],
  );
  assert.equal(answer.ttl, 300);
});

test("query IDs are random per query", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    packet: respond(query, { answers: [A("x.example", "192.0.2.1")] }),
  }));
  const c = client(server);
  for (let i = 0; i < 8; i++) await c.query("x.example", "A");
  assert.ok(new Set(server.log.map((l) => l.id)).size >= 6, "8 queries should not share IDs");
});

test("status: AD=1 from loopback is secure; AD=0 insecure; AD=1 from an untrusted resolver is insecure + adUntrusted", async (t) => {
  const server = await withServer(t, ({ query }) => {
    const secure = query.questions?.[0]?.name === "signed.example";
    return {
      packet: respond(query, { answers: [A(query.questions?.[0]?.name ?? "", "192.0.2.1")], ad: secure }),
    };
  });
  const trusted = client(server);
  assert.equal((await trusted.query("signed.example", "A")).status, "secure");
  const unsigned = await trusted.query("unsigned.example", "A");
  assert.deepEqual([unsigned.status, unsigned.adUntrusted], ["insecure", false]);
  const untrustedEndpoint = { ...trusted.endpoint, adTrusted: false, trustReason: "untrusted" as const };
  const untrusted = new DnsClient({ resolver: untrustedEndpoint, timeoutMs: 300, retries: 0, cache: false });
  const a = await untrusted.query("signed.example", "A");
  assert.deepEqual([a.status, a.ad, a.adUntrusted], ["insecure", true, true]);
  assert.deepEqual(untrusted.counters.insecure, 1);
});

test("TC=1 over UDP is retried over TCP with length framing", async (t) => {
  const server = await withServer(t, ({ query, transport }) =>
    transport === "udp"
      ? { packet: respond(query, { tc: true }) }
      : { packet: respond(query, { answers: [A("big.example", "192.0.2.7")], ad: true }) },
  );
  const c = client(server);
  const answer = await c.query("big.example", "A");
  assert.deepEqual([answer.status, answer.transport, answer.records.length], ["secure", "tcp", 1]);
  assert.deepEqual(
    server.log.map((l) => l.transport),
    ["udp", "tcp"],
  );
  assert.equal(c.counters.tcpFallbacks, 1);
});

test("a silent server times out within the bound, after the configured retries", async (t) => {
  const server = await withServer(t, () => "silent");
  const c = client(server, { timeoutMs: 150, retries: 2 });
  const started = Date.now();
  const answer = await c.query("silent.example", "A");
  const elapsed = Date.now() - started;
  assert.deepEqual([answer.status, answer.code], ["error", "timeout"]);
  assert.ok(elapsed >= 400 && elapsed < 4000, `elapsed ${elapsed} ms`);
  assert.equal(server.log.length, 3);
  assert.deepEqual(
    [c.counters.udpAttempts, c.counters.retries, c.counters.timeouts, c.counters.error],
    [3, 2, 3, 1],
  );
});

test("garbage datagrams are discarded and counted; a later valid answer is still accepted", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    datagrams: [
      Buffer.from("not dns at all"),
      dnsPacket.encode(respond(query, { answers: [A("g.example", "192.0.2.9")] })),
    ],
  }));
  const c = client(server);
  const answer = await c.query("g.example", "A");
  assert.deepEqual([answer.status, answer.records.length], ["insecure", 1]);
  assert.equal(c.counters.garbage, 1);
});

test("only garbage → typed error `garbage`, never a crash", async (t) => {
  const bodies = [
    Buffer.alloc(0),
    Buffer.from([1, 2, 3]),
    // header claiming 65535 answers in 12 octets
    Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0xff, 0xff, 0, 0, 0, 0]),
  ];
  let i = 0;
  const server = await withServer(t, ({ query }) => {
    const body = Buffer.from(bodies[i++ % bodies.length] ?? []);
    if (body.length >= 2) body.writeUInt16BE(query.id ?? 0, 0);
    return { raw: body };
  });
  const c = client(server, { timeoutMs: 100 });
  for (let k = 0; k < bodies.length; k++) {
    const answer = await c.query(`h${k}.example`, "A");
    assert.deepEqual([answer.status, answer.code], ["error", "garbage"]);
  }
  assert.equal(c.counters.garbage, bodies.length);
});

test("responses with a foreign ID or question are discarded and counted", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    datagrams: [
      dnsPacket.encode(
        respond(query, { id: ((query.id ?? 0) + 1) & 0xffff, answers: [A("m.example", "6.6.6.6")] }),
      ),
      dnsPacket.encode(
        respond(query, { questionName: "evil.example", answers: [A("evil.example", "6.6.6.6")] }),
      ),
      dnsPacket.encode(respond(query, { answers: [A("m.example", "192.0.2.3")] })),
    ],
  }));
  const c = client(server);
  const answer = await c.query("m.example", "A");
  assert.deepEqual(
    answer.records.map((r) => r.data),
    ["192.0.2.3"],
  );
  assert.equal(c.counters.mismatched, 2);
});

test("only mismatched answers → typed error `mismatched`", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    packet: respond(query, { id: ((query.id ?? 0) + 7) & 0xffff }),
  }));
  const c = client(server, { timeoutMs: 100 });
  const answer = await c.query("m.example", "A");
  assert.deepEqual([answer.status, answer.code], ["error", "mismatched"]);
  assert.equal(c.counters.mismatched, 1);
});

test("truncated TCP stream → tcp-truncated; oversize TCP length → too-large before buffering", async (t) => {
  let mode: "short" | "huge" = "short";
  const server = await withServer(t, ({ query, transport }) => {
    if (transport === "udp") return { packet: respond(query, { tc: true }) };
    const full = frame(dnsPacket.encode(respond(query, { answers: [A("t.example", "192.0.2.1")] })));
    if (mode === "short") return { tcpRaw: full.subarray(0, full.length - 5) };
    const huge = Buffer.alloc(2);
    huge.writeUInt16BE(60_000, 0);
    return { tcpRaw: Buffer.concat([huge, Buffer.alloc(100)]) };
  });
  const c = client(server, { maxResponseBytes: 4096 });
  const short = await c.query("t.example", "A");
  assert.deepEqual([short.status, short.code, short.transport], ["error", "tcp-truncated", "tcp"]);
  assert.equal(c.counters.tcpTruncated, 1);
  mode = "huge";
  const huge = await c.query("t2.example", "A");
  assert.deepEqual([huge.status, huge.code], ["error", "too-large"]);
  assert.equal(c.counters.oversize, 1);
});

test("RCODE and EDE decide bogus vs error (RFC 8914)", async (t) => {
  const cases: {
    name: string;
    rcode: number;
    ede: { code: number; text?: string }[];
    status: string;
    code: string;
  }[] = [
    {
      name: "expired.example",
      rcode: 2,
      ede: [{ code: 7, text: "RRSIG expired" }],
      status: "bogus",
      code: "servfail",
    },
    { name: "bogus.example", rcode: 2, ede: [{ code: 6 }], status: "bogus", code: "servfail" },
    { name: "nokey.example", rcode: 2, ede: [{ code: 9 }], status: "bogus", code: "servfail" },
    { name: "unreach.example", rcode: 2, ede: [{ code: 22 }], status: "error", code: "servfail" },
    { name: "stale.example", rcode: 2, ede: [{ code: 3 }], status: "error", code: "servfail" },
    { name: "plain.example", rcode: 2, ede: [], status: "error", code: "servfail" },
    { name: "refused.example", rcode: 5, ede: [], status: "error", code: "refused" },
    { name: "nx.example", rcode: 3, ede: [], status: "insecure", code: "nxdomain" },
    { name: "empty.example", rcode: 0, ede: [], status: "insecure", code: "nodata" },
  ];
  const server = await withServer(t, ({ query }) => {
    const c = cases.find((x) => x.name === query.questions?.[0]?.name);
    return { packet: respond(query, { rcode: c?.rcode ?? 0, ede: c?.ede ?? [] }) };
  });
  const c = client(server);
  for (const expected of cases) {
    const answer = await c.query(expected.name, "A");
    assert.deepEqual([answer.status, answer.code], [expected.status, expected.code], expected.name);
    assert.deepEqual(
      answer.ede.map((e) => e.infoCode),
      expected.ede.map((e) => e.code),
      expected.name,
    );
  }
  const expired = await c.query("expired.example", "A");
  assert.equal(expired.ede[0]?.name, "Signature Expired");
  assert.equal(expired.ede[0]?.text, "RRSIG expired");
  assert.match(expired.detail, /EDE 7 Signature Expired: RRSIG expired/);
  assert.equal(c.counters.bogus, 4);
});

test("in-answer CNAME chains are followed; records at the chain's end are the answer", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    packet: respond(query, {
      answers: [
        { type: "CNAME", name: "alias.example", ttl: 100, data: "mid.example" },
        { type: "CNAME", name: "mid.example", ttl: 50, data: "real.other" },
        A("real.other", "192.0.2.44", 200),
        A("unrelated.example", "6.6.6.6"),
      ],
    }),
  }));
  const answer = await client(server).query("alias.example", "A");
  assert.equal(answer.canonicalName, "real.other");
  assert.deepEqual(
    answer.records.map((r) => r.data),
    ["192.0.2.44"],
  );
  assert.equal(answer.cnames.length, 2);
  assert.equal(answer.ttl, 50);
});

test("a CNAME loop inside one answer is an error, not a hang", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    packet: respond(query, {
      answers: [
        { type: "CNAME", name: "a.example", ttl: 1, data: "b.example" },
        { type: "CNAME", name: "b.example", ttl: 1, data: "a.example" },
      ],
    }),
  }));
  const answer = await client(server).query("a.example", "A");
  assert.deepEqual([answer.status, answer.code], ["error", "cname-chain"]);
});

test("invalid names are refused without touching the network", async (t) => {
  const server = await withServer(t, () => "silent");
  const c = client(server);
  for (const name of [
    "",
    "a..b",
    `${"x".repeat(64)}.example`,
    "bad name.example",
    `${"a.".repeat(130)}com`,
  ]) {
    const answer = await c.query(name, "A");
    assert.deepEqual([answer.status, answer.code], ["error", "bad-name"], JSON.stringify(name));
  }
  assert.equal(server.log.length, 0);
});

test("answers are cached per (name, type): the second query does not reach the server", async (t) => {
  const server = await withServer(t, ({ query }) => ({
    packet: respond(query, { answers: [A("c.example", "192.0.2.1")], ad: true }),
  }));
  const c = new DnsClient({ resolver: server.address, timeoutMs: 300, retries: 0, cache: new DnsCache() });
  const first = await c.query("c.example", "A");
  const second = await c.query("C.EXAMPLE.", "A");
  assert.equal(first.fromCache, false);
  assert.deepEqual([second.fromCache, second.status], [true, "secure"]);
  assert.equal(server.log.length, 1);
  assert.equal(c.counters.cacheHits, 1);
});

test("IPv6 loopback resolver works and is trusted", async (t) => {
  let server: FakeDns;
  try {
    server = await startFakeDns(
      ({ query }) => ({ packet: respond(query, { answers: [A("v6.example", "192.0.2.6")], ad: true }) }),
      "::1",
    );
  } catch {
    t.skip("no IPv6 loopback on this machine");
    return;
  }
  t.after(() => server.close());
  const c = client(server);
  assert.equal(c.endpoint.trustReason, "loopback");
  const answer = await c.query("v6.example", "A");
  assert.equal(answer.status, "secure");
});

test("a closed port gives a typed error within the bound", async (t) => {
  const server = await startFakeDns(() => "silent");
  const address = server.address;
  await server.close();
  const c = new DnsClient({ resolver: address, timeoutMs: 200, retries: 1, cache: false });
  const started = Date.now();
  const answer = await c.query("closed.example", "A");
  assert.equal(answer.status, "error");
  assert.ok(["timeout", "network-error"].includes(answer.code), answer.code);
  assert.ok(Date.now() - started < 4000);
  void t;
});

test("constructor rejects bad options with typed errors", () => {
  assert.throws(() => new DnsClient({ resolver: "127.0.0.1:0" }), { code: "bad-resolver-address" });
  assert.throws(() => new DnsClient({ resolver: "resolver.example:53" }), { code: "bad-resolver-address" });
  assert.throws(() => new DnsClient({ resolver: "127.0.0.1", timeoutMs: 0 }), { code: "bad-option" });
  assert.throws(() => new DnsClient({ resolver: "127.0.0.1", retries: -1 }), { code: "bad-option" });
  assert.equal(new DnsClient({ resolver: parseResolverAddress("192.0.2.53") }).endpoint.adTrusted, false);
});

test("RFC 2308 §5: live NXDOMAIN and NODATA answers get the SOA negative TTL and are answered from the cache", async (t) => {
  const server = await withServer(
    t,
    zoneHandler({
      secure: [".example"],
      soa: { ttl: 900, minimum: 120 },
      records: [A("exists.example", "192.0.2.7")],
    }),
  );
  const c = new DnsClient({ resolver: server.address, timeoutMs: 300, retries: 0, cache: new DnsCache() });
  for (const [name, type, code] of [
    ["missing.example", "A", "nxdomain"],
    ["exists.example", "AAAA", "nodata"],
  ] as const) {
    const first = await c.query(name, type);
    assert.deepEqual(
      [first.code, first.status, first.ttl, first.fromCache],
      [code, "secure", 120, false],
      `${name}: min(SOA TTL, MINIMUM)`,
    );
    const second = await c.query(name, type);
    assert.deepEqual([second.code, second.status, second.fromCache], [code, "secure", true], name);
    assert.ok(second.ttl > 0 && second.ttl <= 120, `${name}: ttl ${second.ttl}`);
  }
  assert.deepEqual(
    server.log.map((q) => `${q.type} ${q.name}`),
    ["A missing.example", "AAAA exists.example"],
    "each denial reached the server once",
  );
  assert.equal(c.counters.cacheHits, 2);
});
