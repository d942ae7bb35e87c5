// The project's stub client and RFC 3263 locator against real Knot + Unbound: DNSSEC status per answer
// (RFC 4035 §3.2.3 AD bit, RFC 8914 EDE), TC → TCP, NAPTR → SRV → A ordering, and the secure-delegation
// verdict across sideways jumps (RFC 7673 §3.1, draft-johansson-dispatch-dane-sip).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DnsClient, locate, lookupTlsa, type LocateResult } from "../../../src/dns/index.js";
import { startDnsLab, type DnsLab } from "../lab/dns-lab.js";
import { a, aaaa, cname, naptr, srv, tlsa, txt } from "../lab/records.js";

const EE_A = "a1".repeat(32);
const EE_EDGE = "e0".repeat(32);

/** Ports differ per zone so a test sees which SRV record a target came from. */
const zones = [
  {
    name: "sip.test.",
    records: [
      naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.sip.test."),
      naptr("@", 20, 50, "s", "SIP+D2U", "_sip._udp.sip.test."),
      // priority order must win over record order and weight (RFC 2782)
      srv("_sips._tcp", 20, 90, 5062, "b.sip.test."),
      srv("_sips._tcp", 10, 10, 5061, "a.sip.test."),
      a("a", "127.0.0.11"),
      aaaa("a", "::1"),
      a("b", "127.0.0.12"),
      a("c", "127.0.0.13"),
      tlsa("_5061._tcp.a", 3, 1, 1, EE_A),
      cname("alias", "a.sip.test."),
      ...Array.from({ length: 40 }, (_, i) => txt("big", `filler record ${i} ${"x".repeat(40)}`)),
    ],
  },
  {
    name: "hosted.test.",
    records: [
      naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.hosted.test."),
      srv("_sips._tcp", 10, 0, 5071, "edge.provider.test."),
    ],
  },
  { name: "provider.test.", records: [a("edge", "127.0.0.31"), tlsa("_5071._tcp.edge", 3, 1, 1, EE_EDGE)] },
  { name: "legacy.test.", records: [srv("_sips._tcp", 10, 0, 5081, "sip.plain.test.")] },
  {
    name: "plain.test.",
    security: "unsigned" as const,
    records: [
      srv("_sips._tcp", 10, 0, 5091, "sip.plain.test."),
      a("sip", "127.0.0.41"),
      tlsa("_5091._tcp.sip", 3, 1, 1, EE_A),
    ],
  },
  {
    name: "bogus.test.",
    security: "bogus" as const,
    records: [srv("_sips._tcp", 10, 0, 5061, "sip.bogus.test."), a("sip", "127.0.0.51")],
  },
  {
    // secure SRV whose target lies in a bogus zone: the jump itself fails validation
    name: "tobogus.test.",
    records: [srv("_sips._tcp", 10, 0, 5061, "sip.bogus.test.")],
  },
];

function located(r: LocateResult): Extract<LocateResult, { ok: true }> {
  assert.ok(r.ok, `expected located, got ${r.code}: ${"detail" in r ? r.detail : ""}`);
  return r;
}

describe("stub client + locator against Knot/Unbound", { timeout: 60_000 }, () => {
  let lab: DnsLab | undefined;
  let resolver = "";
  const client = (): DnsClient => new DnsClient({ resolver, timeoutMs: 2000, retries: 1 });

  before(async () => {
    lab = await startDnsLab({ zones });
    resolver = `${lab.resolver.host}:${lab.resolver.port}`;
  });
  after(() => lab?.stop());

  test("DNSSEC status per answer: secure, insecure, bogus (with EDE), securely absent", async () => {
    const c = client();
    const secure = await c.query("a.sip.test", "A");
    assert.equal(secure.status, "secure");
    assert.equal(secure.code, "answer");
    assert.equal(secure.records.length, 1);

    const insecure = await c.query("sip.plain.test", "A");
    assert.equal(insecure.status, "insecure");
    assert.equal(insecure.records.length, 1);

    const bogus = await c.query("sip.bogus.test", "A");
    assert.equal(bogus.status, "bogus");
    assert.deepEqual(bogus.records, [], "no data from a bogus answer");
    assert.ok(
      bogus.ede.some((e) => e.dnssecFailure && (e.infoCode === 9 || e.infoCode === 6)),
      bogus.detail,
    );

    const absent = await c.query("_5061._tcp.c.sip.test", "TLSA");
    assert.equal(absent.status, "secure");
    assert.equal(absent.code, "nxdomain");
  });

  test("a CNAME inside a signed zone stays secure and names its target", async () => {
    const r = await client().query("alias.sip.test", "A");
    assert.equal(r.status, "secure");
    assert.equal(r.canonicalName, "a.sip.test");
    assert.equal(r.cnames.length, 1);
  });

  test("an answer too large for UDP is fetched again over TCP", async () => {
    const c = client();
    const r = await c.query("big.sip.test", "TXT");
    assert.equal(r.status, "secure");
    assert.equal(r.transport, "tcp");
    assert.equal(r.records.length, 40);
    assert.equal(c.counters.tcpFallbacks, 1);
  });

  test("NAPTR → SRV → A/AAAA: targets in SRV priority order, secure delegation, SNI = SRV target", async () => {
    const r = located(await locate(client(), { scheme: "sips", host: "sip.test" }));
    assert.equal(r.delegation, "secure");
    const tls = r.targets.filter((t) => t.transport === "tls");
    assert.deepEqual(
      tls.map((t) => [t.srvHost, t.host, t.port]),
      [
        ["a.sip.test", "127.0.0.11", 5061],
        ["a.sip.test", "::1", 5061], // AAAA after A (IPv4 first by default), same SRV record
        ["b.sip.test", "127.0.0.12", 5062],
      ],
    );
    assert.ok(tls.every((t) => t.delegation === "secure" && t.sniHost === t.srvHost));
    const types = r.steps.map((s) => s.type);
    assert.ok(types.indexOf("NAPTR") < types.indexOf("SRV") && types.indexOf("SRV") < types.indexOf("A"));
    assert.ok(
      r.steps.every((s) => s.status === "secure"),
      JSON.stringify(r.steps.map((s) => [s.name, s.status])),
    );
  });

  test("secure sideways jump into another signed zone keeps the delegation secure; TLSA found there", async () => {
    const c = client();
    const r = located(await locate(c, { scheme: "sips", host: "hosted.test" }));
    assert.equal(r.delegation, "secure");
    const [first] = r.targets;
    assert.equal(first?.srvHost, "edge.provider.test");
    assert.equal(first?.host, "127.0.0.31");
    const t = await lookupTlsa(c, 5071, "edge.provider.test");
    assert.equal(t.status, "secure");
    assert.deepEqual(
      t.records.map((x) => [x.usage, x.selector, x.matchingType, Buffer.from(x.data).toString("hex")]),
      [[3, 1, 1, EE_EDGE]],
    );
  });

  test("a jump into an unsigned zone makes the delegation insecure: SNI falls back to the SIP domain", async () => {
    const r = located(await locate(client(), { scheme: "sips", host: "legacy.test" }));
    assert.equal(r.delegation, "insecure");
    const [first] = r.targets;
    assert.equal(first?.srvHost, "sip.plain.test");
    assert.equal(first?.delegation, "insecure");
    assert.equal(first?.sniHost, "legacy.test");
  });

  test("an unsigned domain is insecure, and its TLSA is insecure (unusable for DANE)", async () => {
    const c = client();
    const r = located(await locate(c, { scheme: "sips", host: "plain.test" }));
    assert.equal(r.delegation, "insecure");
    const t = await lookupTlsa(c, 5091, "sip.plain.test");
    assert.equal(t.status, "insecure");
  });

  test("bogus zone, or a secure SRV jumping into one: hard failure, no targets", async () => {
    for (const host of ["bogus.test", "tobogus.test"]) {
      const r = await locate(client(), { scheme: "sips", host });
      assert.equal(r.ok, false, host);
      assert.equal(r.code, "dns-bogus", host);
      assert.equal(r.delegation, "bogus", host);
      assert.deepEqual(r.targets, []);
    }
  });

  test("securely absent TLSA on a secure target: secure, no records", async () => {
    const t = await lookupTlsa(client(), 5061, "c.sip.test");
    assert.equal(t.status, "secure");
    assert.equal(t.code, "nxdomain");
    assert.deepEqual(t.records, []);
  });
});
