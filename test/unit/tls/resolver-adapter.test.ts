// DnsOutboundResolver: the real locator and TLSA lookup behind verifyOutbound's OutboundResolver, fed by an
// in-memory querier. Checks that statuses, TTLs, per-target delegation, failures and the untrusted-AD warning
// survive the reshaping into what `check` shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { DnsAnswer, DnssecStatus } from "../../../src/dns/answer.js";
import type { DnsQuerier } from "../../../src/dns/client.js";
import type { QueryType, WireRecord } from "../../../src/dns/wire.js";
import { DnsOutboundResolver } from "../../../src/tls/resolver-adapter.js";

interface Entry {
  readonly status: DnssecStatus;
  readonly records?: readonly WireRecord[];
  readonly code?: DnsAnswer["code"];
  readonly adUntrusted?: boolean;
  readonly detail?: string;
}

const record = (
  name: string,
  type: string,
  ttl: number,
  data: unknown,
  rdata = Buffer.alloc(0),
): WireRecord => ({
  name,
  type,
  typeCode: 0,
  ttl,
  data,
  rdata,
});

/** Answers from a table keyed "name TYPE"; anything else is a secure NXDOMAIN. */
function querier(table: Record<string, Entry>): DnsQuerier {
  return {
    query(name: string, type: QueryType): Promise<DnsAnswer> {
      const entry = table[`${name} ${type}`] ?? { status: "secure", code: "nxdomain" };
      const records = entry.records ?? [];
      return Promise.resolve({
        name,
        type,
        status: entry.status,
        code: entry.code ?? (records.length > 0 ? "answer" : "nodata"),
        detail: entry.detail ?? (entry.status === "secure" ? "AD=1" : "AD=0"),
        rcode: 0,
        ad: entry.status === "secure" || entry.adUntrusted === true,
        adUntrusted: entry.adUntrusted === true,
        ede: [],
        canonicalName: name,
        cnames: [],
        records,
        authorities: [],
        // answer TTL = smallest record TTL; a negative answer gets a 60 s negative TTL (RFC 2308 §5)
        ttl: records.length > 0 ? Math.min(...records.map((r) => r.ttl)) : 60,
        transport: "udp",
        fromCache: false,
        resolver: "127.0.0.1:53",
      });
    },
  };
}

const srv = (owner: string, priority: number, port: number, target: string) =>
  record(owner, "SRV", 600, { priority, weight: 0, port, target });

test("each target keeps its own delegation: an SRV target in an unsigned zone is insecure", async () => {
  const resolver = new DnsOutboundResolver(
    querier({
      "_sips._tcp.example.com SRV": {
        status: "secure",
        records: [
          srv("_sips._tcp.example.com", 10, 5061, "a.example.com"),
          srv("_sips._tcp.example.com", 20, 5062, "b.unsigned.net"),
        ],
      },
      "a.example.com A": { status: "secure", records: [record("a.example.com", "A", 300, "127.0.0.11")] },
      "b.unsigned.net A": { status: "insecure", records: [record("b.unsigned.net", "A", 300, "127.0.0.12")] },
    }),
  );
  const location = await resolver.locate({ scheme: "sips", host: "example.com" });
  assert.deepEqual(
    location.targets.map((t) => [t.address, t.port, t.srvHost, t.delegation]),
    [
      ["127.0.0.11", 5061, "a.example.com", "secure"],
      ["127.0.0.12", 5062, "b.unsigned.net", "insecure"],
    ],
  );
  assert.equal(location.delegation, "insecure", "the whole location is secure only when every target is");
  const srvStep = location.steps.find((s) => s.type === "SRV");
  assert.deepEqual([srvStep?.status, srvStep?.ttl, srvStep?.answers.length], ["secure", 600, 2]);
  assert.deepEqual(location.warnings, []);
});

test("a bogus answer becomes a bogus location with its code and no targets", async () => {
  const resolver = new DnsOutboundResolver(
    querier({
      "example.com NAPTR": { status: "bogus", code: "servfail", detail: "DNSSEC validation failed (EDE 6)" },
    }),
  );
  const location = await resolver.locate({ scheme: "sips", host: "example.com" });
  assert.deepEqual([location.delegation, location.code, location.targets.length], ["bogus", "dns-bogus", 0]);
  assert.equal(location.steps[0]?.detail, "DNSSEC validation failed (EDE 6)");
});

test("an AD bit that is not believed is reported as a warning naming the resolver", async () => {
  const resolver = new DnsOutboundResolver(
    querier({
      "example.com A": {
        status: "insecure",
        adUntrusted: true,
        records: [record("example.com", "A", 300, "127.0.0.9")],
      },
    }),
    { resolverLabel: "192.0.2.53:53" },
  );
  const location = await resolver.locate({ scheme: "sips", host: "example.com", port: 5061 });
  assert.equal(location.delegation, "insecure");
  assert.equal(location.warnings?.length, 1);
  assert.match(location.warnings?.[0] ?? "", /192\.0\.2\.53:53.*not on loopback/);
});

test("TLSA lookups keep status, decoded records and the query step", async () => {
  const rdata = Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(32, 7)]);
  const resolver = new DnsOutboundResolver(
    querier({
      "_5061._tcp.a.example.com TLSA": {
        status: "secure",
        records: [record("_5061._tcp.a.example.com", "TLSA", 120, null, rdata)],
      },
    }),
  );
  const found = await resolver.lookupTlsa(5061, "a.example.com");
  assert.equal(found.status, "secure");
  assert.deepEqual(
    found.records.map((r) => [r.usage, r.selector, r.matchingType, Buffer.from(r.data).toString("hex")]),
    [[3, 1, 1, "07".repeat(32)]],
  );
  assert.deepEqual(
    found.steps.map((s) => [s.name, s.type, s.status, s.ttl]),
    [["_5061._tcp.a.example.com", "TLSA", "secure", 120]],
  );
  const absent = await resolver.lookupTlsa(5061, "b.example.com");
  assert.deepEqual([absent.status, absent.records.length], ["secure", 0]);
});

test("a resolver whose AD bit is never believed is named even when it sent no AD bit", async () => {
  const table = {
    "example.com A": { status: "insecure" as const, records: [record("example.com", "A", 300, "127.0.0.9")] },
  };
  const untrusted = new DnsOutboundResolver(querier(table), {
    resolverLabel: "192.0.2.53:53",
    adTrusted: false,
  });
  const warned = await untrusted.locate({ scheme: "sips", host: "example.com", port: 5061 });
  assert.match(warned.warnings?.[0] ?? "", /^resolver 192\.0\.2\.53:53 is not on loopback/);
  const trusted = new DnsOutboundResolver(querier(table), { resolverLabel: "127.0.0.1:53", adTrusted: true });
  assert.deepEqual((await trusted.locate({ scheme: "sips", host: "example.com", port: 5061 })).warnings, []);
});
