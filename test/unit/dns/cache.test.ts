import { test } from "node:test";
import assert from "node:assert/strict";
import type { DnsAnswer } from "../../../src/dns/answer.js";
import { DnsCache, negativeTtl, positiveTtl } from "../../../src/dns/cache.js";
import type { WireRecord } from "../../../src/dns/wire.js";

const rec = (type: string, ttl: number, data: unknown = "192.0.2.1"): WireRecord => ({
  name: "x.example",
  type,
  typeCode: 1,
  ttl,
  data,
  rdata: Buffer.alloc(0),
});
const soa = (ttl: number, minimum: number) =>
  rec("SOA", ttl, { mname: "ns", rname: "h", serial: 1, refresh: 1, retry: 1, expire: 1, minimum });

function answer(over: Partial<DnsAnswer>): DnsAnswer {
  return {
    name: "x.example",
    type: "A",
    status: "secure",
    code: "answer",
    detail: "",
    rcode: 0,
    ad: true,
    adUntrusted: false,
    ede: [],
    canonicalName: "x.example",
    cnames: [],
    records: [],
    authorities: [],
    ttl: 0,
    transport: "udp",
    fromCache: false,
    resolver: "127.0.0.1:53",
    ...over,
  };
}

test("positive TTL is the smallest record TTL, CNAMEs included", () => {
  assert.equal(positiveTtl({ records: [rec("A", 300), rec("A", 120)], cnames: [rec("CNAME", 600)] }), 120);
  assert.equal(positiveTtl({ records: [rec("A", 300)], cnames: [rec("CNAME", 60)] }), 60);
});

test("negative TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §5); no SOA → 0 (not cached)", () => {
  assert.equal(negativeTtl({ authorities: [soa(3600, 300)], cnames: [] }), 300);
  assert.equal(negativeTtl({ authorities: [soa(90, 300)], cnames: [] }), 90);
  assert.equal(negativeTtl({ authorities: [], cnames: [] }), 0);
});

test("entries expire with the injected clock and TTLs count down", () => {
  let now = 1_000_000;
  const cache = new DnsCache({ now: () => now });
  cache.put(answer({ records: [rec("A", 100)], ttl: 100 }));
  assert.equal(cache.get("X.Example.", "A")?.ttl, 100);
  now += 40_000;
  const hit = cache.get("x.example", "A");
  assert.deepEqual([hit?.ttl, hit?.fromCache], [60, true]);
  assert.equal(cache.get("x.example", "AAAA"), undefined, "keyed by type too");
  now += 60_000;
  assert.equal(cache.get("x.example", "A"), undefined);
  assert.equal(cache.size, 0, "expired entries are dropped");
});

test("negative answers are cached for their negative TTL, capped", () => {
  let now = 0;
  const cache = new DnsCache({ now: () => now, maxNegativeTtl: 50 });
  cache.put(answer({ code: "nxdomain", status: "insecure", ttl: 30, authorities: [soa(30, 30)] }));
  cache.put(answer({ name: "y.example", code: "nodata", ttl: 500, authorities: [soa(500, 500)] }));
  now += 29_000;
  assert.equal(cache.get("x.example", "A")?.code, "nxdomain");
  now += 2_000;
  assert.equal(cache.get("x.example", "A"), undefined);
  now += 18_000;
  assert.equal(cache.get("y.example", "A")?.code, "nodata");
  now += 2_000;
  assert.equal(cache.get("y.example", "A"), undefined, "capped at maxNegativeTtl");
});

test("failures, bogus answers and zero TTLs are not cached; positive TTLs are capped", () => {
  let now = 0;
  const cache = new DnsCache({ now: () => now, maxTtl: 10 });
  cache.put(answer({ name: "b.example", status: "bogus", code: "servfail", ttl: 100 }));
  cache.put(answer({ name: "e.example", status: "error", code: "timeout", ttl: 100 }));
  cache.put(answer({ name: "z.example", ttl: 0 }));
  assert.equal(cache.size, 0);
  cache.put(answer({ ttl: 1000 }));
  now += 11_000;
  assert.equal(cache.get("x.example", "A"), undefined);
});

test("bounded size with least-recently-used eviction", () => {
  const cache = new DnsCache({ maxEntries: 2, now: () => 0 });
  cache.put(answer({ name: "a.example", ttl: 60 }));
  cache.put(answer({ name: "b.example", ttl: 60 }));
  assert.ok(cache.get("a.example", "A"), "touch a: b becomes least recent");
  cache.put(answer({ name: "c.example", ttl: 60 }));
  assert.equal(cache.size, 2);
  assert.ok(cache.get("a.example", "A"));
  assert.equal(cache.get("b.example", "A"), undefined);
  assert.ok(cache.get("c.example", "A"));
});
