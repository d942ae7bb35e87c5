import { test } from "node:test";
import assert from "node:assert/strict";
import type { Answer } from "dns-packet";
import { DnsClient } from "../../../src/dns/client.js";
import { locate, type LocateInput, type LocateOptions, type LocateResult } from "../../../src/dns/locator.js";
import { orderSrv } from "../../../src/dns/srv-order.js";
import { seeded, startFakeDns, zoneHandler, type FakeDns, type FakeZone } from "./fake-dns.js";

const naptr = (
  name: string,
  order: number,
  preference: number,
  services: string,
  replacement: string,
): Answer => ({
  type: "NAPTR",
  name,
  ttl: 300,
  data: { order, preference, flags: "s", services, regexp: "", replacement },
});
const srv = (name: string, priority: number, weight: number, port: number, target: string): Answer => ({
  type: "SRV",
  name,
  ttl: 600,
  data: { priority, weight, port, target },
});
const a = (name: string, ip: string): Answer => ({ type: "A", name, ttl: 900, data: ip });
const aaaa = (name: string, ip: string): Answer => ({ type: "AAAA", name, ttl: 900, data: ip });
const cname = (name: string, target: string): Answer => ({ type: "CNAME", name, ttl: 120, data: target });

const SECURE = [".secure.example", ".other-signed.example"];

interface Lab {
  server: FakeDns;
  run(
    input: LocateInput,
    options?: LocateOptions,
    clientOptions?: { trusted?: boolean; untrusted?: boolean },
  ): Promise<LocateResult>;
}

async function lab(
  t: { after: (fn: () => Promise<void>) => void },
  zone: Partial<FakeZone> & { records: Answer[] },
): Promise<Lab> {
  const server = await startFakeDns(zoneHandler({ secure: SECURE, ...zone }));
  t.after(() => server.close());
  return {
    server,
    run: (input, options = {}, clientOptions = {}) => {
      const client = new DnsClient({ resolver: server.address, timeoutMs: 500, retries: 0, cache: false });
      const querier = clientOptions.untrusted
        ? new DnsClient({
            resolver: { ...client.endpoint, adTrusted: false, trustReason: "untrusted" },
            timeoutMs: 500,
            retries: 0,
            cache: false,
          })
        : client;
      return locate(querier, input, { random: seeded(1), ...options });
    },
  };
}

const sips = (host: string, extra: Partial<LocateInput> = {}): LocateInput => ({
  scheme: "sips",
  host,
  ...extra,
});
const hosts = (r: LocateResult) => r.targets.map((t) => `${t.host}:${t.port}/${t.transport}`);
const queries = (l: Lab) => l.server.log.map((q) => `${q.type} ${q.name}`);

const securePath = [
  naptr("secure.example", 10, 10, "SIPS+D2T", "_sips._tcp.secure.example"),
  srv("_sips._tcp.secure.example", 10, 60, 5061, "sip1.secure.example"),
  srv("_sips._tcp.secure.example", 10, 40, 5062, "sip2.secure.example"),
  srv("_sips._tcp.secure.example", 20, 0, 5063, "backup.other-signed.example"),
  a("sip1.secure.example", "192.0.2.1"),
  a("sip2.secure.example", "192.0.2.2"),
  aaaa("sip2.secure.example", "2001:db8::2"),
  a("backup.other-signed.example", "192.0.2.3"),
];

test("secure NAPTR → SRV → A/AAAA: secure delegation, SRV order by priority then seeded weight, SNI = SRV target", async (t) => {
  const l = await lab(t, { records: securePath });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok, r.ok ? "" : r.detail);
  assert.equal(r.delegation, "secure");
  const expected = orderSrv(
    [
      { priority: 10, weight: 60, target: "sip1.secure.example" },
      { priority: 10, weight: 40, target: "sip2.secure.example" },
    ],
    seeded(1),
  ).map((s) => s.target);
  const names = [...new Set(r.targets.map((x) => x.srvHost))];
  assert.deepEqual(names, [...expected, "backup.other-signed.example"]);
  const sip2 = r.targets.filter((x) => x.srvHost === "sip2.secure.example");
  assert.deepEqual(
    sip2.map((x) => `${x.host}:${x.port}`),
    ["192.0.2.2:5062", "2001:db8::2:5062"],
    "IPv4 first by default",
  );
  for (const target of r.targets) {
    assert.deepEqual(
      [target.delegation, target.transport, target.sniHost, target.source],
      ["secure", "tls", target.srvHost, "srv"],
    );
    assert.deepEqual(
      target.steps.slice(0, 2).map((s) => s.type),
      ["NAPTR", "SRV"],
    );
    assert.ok(target.steps.every((s) => s.status === "secure"));
  }
  const naptrStep = r.steps[0];
  assert.deepEqual([naptrStep?.type, naptrStep?.status, naptrStep?.ttl], ["NAPTR", "secure", 300]);
  assert.match(
    naptrStep?.answers[0] ?? "",
    /^secure\.example\. 300 IN NAPTR 10 10 "s" "SIPS\+D2T" "" _sips\._tcp\.secure\.example\.$/,
  );
});

test("ipv6-first address order is honoured", async (t) => {
  const l = await lab(t, { records: securePath });
  const r = await l.run(sips("secure.example"), { addressOrder: "ipv6-first" });
  const sip2 = r.targets.filter((x) => x.srvHost === "sip2.secure.example").map((x) => x.host);
  assert.deepEqual(sip2, ["2001:db8::2", "192.0.2.2"]);
});

test("NAPTR ORDER/PREFERENCE decide which SRV set comes first", async (t) => {
  const l = await lab(t, {
    records: [
      naptr("secure.example", 10, 20, "SIPS+D2T", "_sips._tcp.b.secure.example"),
      naptr("secure.example", 10, 10, "SIPS+D2T", "_sips._tcp.a.secure.example"),
      naptr("secure.example", 5, 10, "SIP+D2U", "_sip._udp.secure.example"),
      srv("_sips._tcp.a.secure.example", 1, 1, 5061, "a.secure.example"),
      srv("_sips._tcp.b.secure.example", 1, 1, 5061, "b.secure.example"),
      srv("_sip._udp.secure.example", 1, 1, 5060, "udp.secure.example"),
      a("a.secure.example", "192.0.2.10"),
      a("b.secure.example", "192.0.2.20"),
      a("udp.secure.example", "192.0.2.30"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.deepEqual(hosts(r), ["192.0.2.10:5061/tls", "192.0.2.20:5061/tls"]);
  assert.equal(queries(l).includes("SRV _sip._udp.secure.example"), false, "sips discards SIP+D2U");
});

test("sideways jump: an SRV target in an unsigned zone makes that target insecure (SNI = SIP domain)", async (t) => {
  const l = await lab(t, {
    records: [
      srv("_sips._tcp.secure.example", 10, 0, 5061, "sip.unsigned.example"),
      srv("_sips._tcp.secure.example", 20, 0, 5061, "sip1.secure.example"),
      a("sip.unsigned.example", "192.0.2.50"),
      a("sip1.secure.example", "192.0.2.1"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok);
  assert.equal(r.delegation, "insecure", "not every target is secure");
  const [jump, home] = r.targets;
  assert.deepEqual(
    [jump?.srvHost, jump?.delegation, jump?.sniHost],
    ["sip.unsigned.example", "insecure", "secure.example"],
  );
  assert.deepEqual(
    [home?.srvHost, home?.delegation, home?.sniHost],
    ["sip1.secure.example", "secure", "sip1.secure.example"],
  );
  assert.equal(jump?.steps.find((s) => s.type === "A")?.status, "insecure");
});

test("sideways jump: a NAPTR replacement into an unsigned zone makes the delegation insecure", async (t) => {
  const l = await lab(t, {
    records: [
      naptr("secure.example", 10, 10, "SIPS+D2T", "_sips._tcp.unsigned.example"),
      srv("_sips._tcp.unsigned.example", 1, 1, 5061, "sip1.secure.example"),
      a("sip1.secure.example", "192.0.2.1"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok);
  assert.deepEqual(
    [r.delegation, r.targets[0]?.delegation, r.targets[0]?.sniHost],
    ["insecure", "insecure", "secure.example"],
  );
});

test("an unsigned domain is insecure all the way", async (t) => {
  const l = await lab(t, {
    records: [
      srv("_sips._tcp.unsigned.example", 1, 1, 5061, "sip.unsigned.example"),
      a("sip.unsigned.example", "192.0.2.9"),
    ],
  });
  const r = await l.run(sips("unsigned.example"));
  assert.ok(r.ok);
  assert.deepEqual([r.delegation, r.targets[0]?.sniHost], ["insecure", "unsigned.example"]);
  assert.ok(r.steps.every((s) => s.status === "insecure"));
});

test("bogus anywhere is a hard failure with no fallback: NAPTR, SRV, or one target's A", async (t) => {
  const cases: [string, string[]][] = [
    ["bogus NAPTR", ["secure.example"]],
    ["bogus SRV", ["_sips._tcp.secure.example"]],
    ["bogus A of the backup target", ["backup.other-signed.example"]],
  ];
  for (const [label, bogus] of cases) {
    const l = await lab(t, { records: securePath, bogus });
    const r = await l.run(sips("secure.example"));
    assert.equal(r.ok, false, label);
    assert.deepEqual([r.code, r.delegation, r.targets.length], ["dns-bogus", "bogus", 0], label);
    assert.match(r.ok ? "" : r.detail, /DNSSEC Bogus/, label);
    assert.equal(r.steps[r.steps.length - 1]?.status, "bogus", label);
  }
});

test("an SRV lookup that fails (SERVFAIL without EDE) aborts instead of falling back (RFC 7673 §3.1)", async (t) => {
  const l = await lab(t, { records: securePath, servfail: ["_sips._tcp.secure.example"] });
  const r = await l.run(sips("secure.example"));
  assert.deepEqual([r.ok, r.code, r.delegation], [false, "dns-error", "insecure"]);
  assert.equal(
    queries(l).some((q) => q.startsWith("A ")),
    false,
    "no A/AAAA fallback after a failed SRV lookup",
  );
});

test("a target whose addresses fail is skipped; when every target fails the result is dns-error", async (t) => {
  const l = await lab(t, { records: securePath, servfail: ["sip1.secure.example", "sip2.secure.example"] });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok);
  assert.deepEqual(hosts(r), ["192.0.2.3:5063/tls"]);
  const l2 = await lab(t, {
    records: securePath,
    servfail: ["sip1.secure.example", "sip2.secure.example", "backup.other-signed.example"],
  });
  const r2 = await l2.run(sips("secure.example"));
  assert.deepEqual([r2.ok, r2.code], [false, "dns-error"]);
});

test("no NAPTR → SRV _sips._tcp; for sip: with several transports, one SRV query per transport in preference order", async (t) => {
  const l = await lab(t, {
    records: [
      srv("_sips._tcp.secure.example", 1, 1, 5061, "tls.secure.example"),
      srv("_sip._udp.secure.example", 1, 1, 5060, "udp.secure.example"),
      a("tls.secure.example", "192.0.2.61"),
      a("udp.secure.example", "192.0.2.60"),
    ],
  });
  const r = await l.run({ scheme: "sip", host: "secure.example" }, { transports: ["tls", "tcp", "udp"] });
  assert.deepEqual(hosts(r), ["192.0.2.61:5061/tls", "192.0.2.60:5060/udp"]);
  assert.deepEqual(
    queries(l).filter((q) => !q.startsWith("A")),
    [
      "NAPTR secure.example",
      "SRV _sips._tcp.secure.example",
      "SRV _sip._tcp.secure.example",
      "SRV _sip._udp.secure.example",
    ],
  );
  const tlsOnly = await lab(t, {
    records: [
      srv("_sips._tcp.secure.example", 1, 1, 5061, "tls.secure.example"),
      a("tls.secure.example", "192.0.2.61"),
    ],
  });
  const r2 = await tlsOnly.run({ scheme: "sip", host: "secure.example" });
  assert.deepEqual(hosts(r2), ["192.0.2.61:5061/tls"], "default: TLS only, sip: reaches _sips._tcp");
  assert.equal(queries(tlsOnly).includes("SRV _sip._udp.secure.example"), false);
});

test("no SRV → A/AAAA of the domain on the default port (5061 TLS, 5060 otherwise); secure when the denials are", async (t) => {
  const l = await lab(t, {
    records: [a("secure.example", "192.0.2.80"), a("unsigned.example", "192.0.2.81")],
  });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok);
  assert.deepEqual(hosts(r), ["192.0.2.80:5061/tls"]);
  assert.deepEqual(
    [r.targets[0]?.source, r.delegation, r.targets[0]?.sniHost],
    ["address-fallback", "secure", "secure.example"],
  );
  assert.deepEqual(
    r.targets[0]?.steps.map((s) => `${s.type}:${s.code}`),
    ["SRV:nxdomain", "A:answer"],
  );
  const udp = await l.run({ scheme: "sip", host: "unsigned.example" }, { transports: ["udp"] });
  assert.deepEqual([hosts(udp), udp.delegation], [["192.0.2.81:5060/udp"], "insecure"]);
});

test("explicit port → A/AAAA only, port kept", async (t) => {
  const l = await lab(t, { records: [...securePath, a("secure.example", "192.0.2.99")] });
  const r = await l.run(sips("secure.example", { port: 7000 }));
  assert.deepEqual(hosts(r), ["192.0.2.99:7000/tls"]);
  assert.deepEqual(queries(l).sort(), ["A secure.example", "AAAA secure.example"]);
  assert.deepEqual([r.targets[0]?.source, r.delegation], ["explicit-port", "secure"]);
});

test("numeric hosts need no DNS; no SNI for IP literals", async (t) => {
  const l = await lab(t, { records: [] });
  const v4 = await l.run(sips("192.0.2.10"));
  assert.deepEqual(hosts(v4), ["192.0.2.10:5061/tls"]);
  const v6 = await l.run({ scheme: "sip", host: "[2001:db8::1]", port: 5070, hostKind: "ipv6" });
  assert.deepEqual(hosts(v6), ["2001:db8::1:5070/tls"]);
  const udp = await l.run(
    { scheme: "sip", host: "192.0.2.11", transport: "udp" },
    { transports: ["tls", "udp"] },
  );
  assert.deepEqual(hosts(udp), ["192.0.2.11:5060/udp"]);
  assert.equal(v4.targets[0]?.sniHost, undefined);
  assert.equal(v4.delegation, "insecure");
  assert.equal(l.server.log.length, 0);
});

test("transport parameter: SRV for that transport, no NAPTR (RFC 3263 §4.1); disallowed transports fail clearly", async (t) => {
  const l = await lab(t, {
    records: [
      srv("_sip._tcp.secure.example", 1, 1, 5060, "tcp.secure.example"),
      a("tcp.secure.example", "192.0.2.70"),
    ],
  });
  const uri = { scheme: "sip" as const, host: "secure.example", params: [["transport", "TCP"]] as const };
  const r = await l.run(uri, { transports: ["tls", "tcp"] });
  assert.deepEqual(hosts(r), ["192.0.2.70:5060/tcp"]);
  assert.equal(
    queries(l).some((q) => q.startsWith("NAPTR")),
    false,
  );
  const denied = await l.run(uri);
  assert.deepEqual([denied.ok, denied.code], [false, "transport-not-allowed"]);
  const sipsUdp = await l.run(sips("secure.example", { transport: "udp" }));
  assert.deepEqual([sipsUdp.ok, sipsUdp.code], [false, "transport-not-allowed"]);
  const sipsTcp = await l.run(sips("secure.example", { transport: "tcp" }));
  assert.equal(sipsTcp.code, "no-targets", "sips;transport=tcp means TLS: _sips._tcp, which is absent here");
  assert.ok(queries(l).includes("SRV _sips._tcp.secure.example"));
});

test("CNAME not chased by the resolver is followed as its own step, with its own status", async (t) => {
  const l = await lab(t, {
    noChase: true,
    records: [
      srv("_sips._tcp.secure.example", 1, 1, 5061, "alias.secure.example"),
      cname("alias.secure.example", "real.unsigned.example"),
      a("real.unsigned.example", "192.0.2.77"),
      srv("_sips._tcp.other-signed.example", 1, 1, 5061, "alias.other-signed.example"),
      cname("alias.other-signed.example", "real.secure.example"),
      a("real.secure.example", "192.0.2.78"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.ok(r.ok);
  assert.deepEqual(hosts(r), ["192.0.2.77:5061/tls"]);
  const aSteps = r.targets[0]?.steps.filter((s) => s.type === "A") ?? [];
  assert.deepEqual(
    aSteps.map((s) => [s.name, s.status, s.code]),
    [
      ["alias.secure.example", "secure", "nodata"],
      ["real.unsigned.example", "insecure", "answer"],
    ],
  );
  assert.equal(r.delegation, "insecure", "the CNAME jumped into an unsigned zone");
  const secureChain = await l.run(sips("other-signed.example"));
  assert.deepEqual([secureChain.delegation, secureChain.targets[0]?.host], ["secure", "192.0.2.78"]);
});

test("a CNAME chased by the resolver in one answer keeps the records and the chain", async (t) => {
  const l = await lab(t, {
    records: [
      srv("_sips._tcp.secure.example", 1, 1, 5061, "alias.secure.example"),
      cname("alias.secure.example", "real.secure.example"),
      a("real.secure.example", "192.0.2.79"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.deepEqual(hosts(r), ["192.0.2.79:5061/tls"]);
  const step = r.targets[0]?.steps.find((s) => s.type === "A");
  assert.equal(step?.answers.length, 2);
  assert.match(step?.answers[0] ?? "", /CNAME real\.secure\.example\.$/);
});

test("SRV target '.' means the service is not available: no A/AAAA fallback (RFC 2782)", async (t) => {
  const l = await lab(t, {
    records: [srv("_sips._tcp.secure.example", 0, 0, 0, "."), a("secure.example", "192.0.2.1")],
  });
  const r = await l.run(sips("secure.example"));
  assert.deepEqual([r.ok, r.code], [false, "service-unavailable"]);
});

test("an untrusted resolver's AD bit is not believed: insecure with adUntrusted", async (t) => {
  const l = await lab(t, { records: securePath });
  const r = await l.run(sips("secure.example"), {}, { untrusted: true });
  assert.ok(r.ok);
  assert.deepEqual([r.delegation, r.adUntrusted], ["insecure", true]);
  assert.equal(r.targets[0]?.sniHost, "secure.example");
});

test("bad inputs give typed failures", async (t) => {
  const l = await lab(t, { records: [] });
  assert.equal((await l.run(sips("bad host"))).code, "bad-input");
  assert.equal((await l.run(sips("x.example"), { transports: [] })).code, "bad-input");
  assert.equal((await l.run(sips("x.example"), { transports: ["udp"] })).code, "transport-not-allowed");
  assert.equal((await l.run(sips("nothing.unsigned.example"))).code, "no-targets");
});

test("a SipUri from src/sip/uri.ts is accepted as is (transport from its params, IPv6 host in brackets)", async (t) => {
  const { parseUri, isSipUri } = await import("../../../src/sip/uri.js");
  const sipUri = (text: string) => {
    const parsed = parseUri(text);
    if (!parsed.ok || !isSipUri(parsed.uri)) throw new Error(`not a SIP URI: ${text}`);
    return parsed.uri;
  };
  const l = await lab(t, {
    records: [
      srv("_sip._tcp.secure.example", 1, 1, 5060, "tcp.secure.example"),
      a("tcp.secure.example", "192.0.2.70"),
    ],
  });
  const r = await l.run(sipUri("sip:alice@SECURE.example;transport=tcp"), { transports: ["tls", "tcp"] });
  assert.deepEqual(hosts(r), ["192.0.2.70:5060/tcp"]);
  assert.deepEqual(hosts(await l.run(sipUri("sips:[2001:db8::7]:5071"))), ["2001:db8::7:5071/tls"]);
});

test("NAPTR ORDER is compared before PREFERENCE: the lower ORDER's SRV set comes first (RFC 3403 §4.1)", async (t) => {
  const l = await lab(t, {
    records: [
      naptr("secure.example", 20, 1, "SIPS+D2T", "_sips._tcp.late.secure.example"),
      naptr("secure.example", 10, 90, "SIPS+D2T", "_sips._tcp.early.secure.example"),
      srv("_sips._tcp.late.secure.example", 1, 1, 5061, "late.secure.example"),
      srv("_sips._tcp.early.secure.example", 1, 1, 5061, "early.secure.example"),
      a("late.secure.example", "192.0.2.41"),
      a("early.secure.example", "192.0.2.40"),
    ],
  });
  const r = await l.run(sips("secure.example"));
  assert.deepEqual(hosts(r), ["192.0.2.40:5061/tls", "192.0.2.41:5061/tls"]);
  assert.deepEqual(
    queries(l).filter((q) => q.startsWith("SRV")),
    ["SRV _sips._tcp.early.secure.example", "SRV _sips._tcp.late.secure.example"],
  );
});

test("sips: never leaves TLS even when UDP and plain TCP are allowed (RFC 3261 §26.2.2, RFC 3263 §4.1)", async (t) => {
  // Every route to a target offers a plain transport here; a sips: URI must take none of them.
  const l = await lab(t, {
    records: [
      naptr("secure.example", 1, 1, "SIP+D2U", "_sip._udp.secure.example"),
      naptr("secure.example", 2, 1, "SIP+D2T", "_sip._tcp.secure.example"),
      naptr("secure.example", 3, 1, "SIPS+D2T", "_sips._tcp.secure.example"),
      srv("_sip._udp.secure.example", 1, 1, 5060, "udp.secure.example"),
      srv("_sip._tcp.secure.example", 1, 1, 5060, "tcp.secure.example"),
      srv("_sips._tcp.secure.example", 1, 1, 5061, "tls.secure.example"),
      srv("_sip._udp.nonaptr.secure.example", 1, 1, 5060, "udp.secure.example"),
      srv("_sip._tcp.nonaptr.secure.example", 1, 1, 5060, "tcp.secure.example"),
      srv("_sips._tcp.nonaptr.secure.example", 1, 1, 5061, "tls.secure.example"),
      a("udp.secure.example", "192.0.2.90"),
      a("tcp.secure.example", "192.0.2.91"),
      a("tls.secure.example", "192.0.2.92"),
      a("port.secure.example", "192.0.2.93"),
    ],
  });
  const plainFirst: LocateOptions = { transports: ["udp", "tcp", "tls"] };
  const viaNaptr = await l.run(sips("secure.example"), plainFirst);
  assert.deepEqual(hosts(viaNaptr), ["192.0.2.92:5061/tls"], "NAPTR: only SIPS+D2T");
  const viaSrv = await l.run(sips("nonaptr.secure.example"), plainFirst);
  assert.deepEqual(hosts(viaSrv), ["192.0.2.92:5061/tls"], "no NAPTR: only _sips._tcp");
  const explicitPort = await l.run(sips("port.secure.example", { port: 5070 }), plainFirst);
  assert.deepEqual(hosts(explicitPort), ["192.0.2.93:5070/tls"], "explicit port: TLS");
  const numeric = await l.run(sips("192.0.2.94"), plainFirst);
  assert.deepEqual(hosts(numeric), ["192.0.2.94:5061/tls"], "numeric host: TLS");
  const tcpParam = await l.run(sips("secure.example", { transport: "tcp" }), plainFirst);
  assert.deepEqual(hosts(tcpParam), ["192.0.2.92:5061/tls"], "sips;transport=tcp is TLS over TCP");
  for (const transport of ["udp", "UDP"]) {
    const udpParam = await l.run(sips("secure.example", { transport }), plainFirst);
    assert.deepEqual(
      [udpParam.ok, udpParam.code, udpParam.targets.length],
      [false, "transport-not-allowed", 0],
      `sips;transport=${transport}`,
    );
  }
  assert.equal(
    queries(l).some((q) => q.startsWith("SRV _sip.")),
    false,
    "no plain-transport SRV set is ever asked for a sips: URI",
  );
});
