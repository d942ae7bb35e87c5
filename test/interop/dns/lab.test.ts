// Proves the DNS lab with an independent client (kdig): the zones of issue 5 §5 are served by Knot,
// validated by Unbound against the lab's trust anchor, and each security mode comes out as a
// validator must report it (RFC 4035 §4.3, §3.2.3 AD bit; RFC 8914 EDE). Also: stop() and failed
// starts leave no process and no directory behind.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { LabStartError, startDnsLab, type DnsLab, type DnsLabSpec, type Endpoint } from "../lab/dns-lab.js";
import { probe } from "../lab/dns-probe.js";
import { kdig, type KdigResult } from "../lab/kdig.js";
import { a, aaaa, cname, naptr, srv, tlsa, tlsaAssociation, txt } from "../lab/records.js";

const run = promisify(execFile);

interface Certs {
  readonly ca: X509Certificate;
  readonly leafA: X509Certificate;
  readonly leafB: X509Certificate;
  readonly paths: Record<"ca" | "leafA" | "leafB", string>;
}

async function selfSigned(dir: string, name: string, cn: string): Promise<string> {
  const cert = join(dir, `${name}.pem`);
  await run(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"].concat([
      "-keyout",
      join(dir, `${name}.key`),
      "-out",
      cert,
      "-subj",
      `/CN=${cn}`,
    ]),
    { timeout: 10_000 },
  );
  return cert;
}

/** Certificates first, zones second: TLSA data comes from the certificates the test servers would use. */
async function makeCerts(dir: string): Promise<Certs> {
  const [ca, leafA, leafB] = await Promise.all([
    selfSigned(dir, "ca", "Lab CA"),
    selfSigned(dir, "leafA", "a.sip.test"),
    selfSigned(dir, "leafB", "b.sip.test"),
  ]);
  const load = (p: string): X509Certificate => new X509Certificate(readFileSync(p));
  return { ca: load(ca), leafA: load(leafA), leafB: load(leafB), paths: { ca, leafA, leafB } };
}

/** The zones issue 5 §5 needs, each scenario in its own zone. */
function scenarioSpec(c: Certs): DnsLabSpec {
  return {
    zones: [
      {
        // secure NAPTR → SRV (two targets, for failover) → A/AAAA + TLSA 3 1 1; c.sip.test has no TLSA
        name: "sip.test.",
        records: [
          naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.sip.test."),
          naptr("@", 20, 50, "s", "SIP+D2T", "_sip._tcp.sip.test."),
          srv("_sips._tcp", 10, 50, 5061, "a.sip.test."),
          srv("_sips._tcp", 20, 50, 5061, "b.sip.test."),
          a("a", "127.0.0.11"),
          aaaa("a", "::1"),
          a("b", "127.0.0.12"),
          a("c", "127.0.0.13"),
          tlsa("_5061._tcp.a", 3, 1, 1, tlsaAssociation(c.leafA, 1, 1)),
          tlsa("_5061._tcp.b", 3, 1, 1, tlsaAssociation(c.leafB, 1, 1)),
          cname("alias", "a.sip.test."),
          // an RRset larger than a 1232-byte UDP answer, for TC → TCP tests
          ...Array.from({ length: 40 }, (_, i) => txt("big", `filler record ${i} ${"x".repeat(40)}`)),
        ],
      },
      {
        // DANE-TA: 2 0 1 and 2 1 1 for the same trust anchor
        name: "ta.test.",
        records: [
          srv("_sips._tcp", 10, 0, 5061, "edge.ta.test."),
          a("edge", "127.0.0.21"),
          tlsa("_5061._tcp.edge", 2, 0, 1, tlsaAssociation(c.ca, 0, 1)),
          tlsa("_5061._tcp.edge", 2, 1, 1, tlsaAssociation(c.ca, 1, 1)),
        ],
      },
      {
        // secure sideways jump: SRV target in another signed zone
        name: "hosted.test.",
        records: [
          naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.hosted.test."),
          srv("_sips._tcp", 10, 0, 5061, "edge.provider.test."),
        ],
      },
      {
        name: "provider.test.",
        records: [a("edge", "127.0.0.31"), tlsa("_5061._tcp.edge", 3, 1, 1, tlsaAssociation(c.leafA, 1, 1))],
      },
      {
        // secure SRV whose target jumps into an unsigned zone → RFC 5922 path
        name: "legacy.test.",
        records: [srv("_sips._tcp", 10, 0, 5061, "sip.plain.test.")],
      },
      {
        name: "plain.test.",
        security: "unsigned",
        records: [
          srv("_sips._tcp", 10, 0, 5061, "sip.plain.test."),
          a("sip", "127.0.0.41"),
          // an insecure TLSA must never be used: it is here so tests can prove that
          tlsa("_5061._tcp.sip", 3, 1, 1, tlsaAssociation(c.leafA, 1, 1)),
        ],
      },
      {
        name: "bogus.test.",
        security: "bogus",
        records: [
          srv("_sips._tcp", 10, 0, 5061, "sip.bogus.test."),
          a("sip", "127.0.0.51"),
          tlsa("_5061._tcp.sip", 3, 1, 1, tlsaAssociation(c.leafA, 1, 1)),
        ],
      },
      { name: "stripped.test.", security: "stripped", records: [a("sip", "127.0.0.61")] },
      // an unsigned domain outside the anchor's tree, which no trust anchor covers
      { name: "example.net.", security: "unsigned", records: [a("sip", "127.0.0.71")] },
    ],
  };
}

function types(r: KdigResult): string[] {
  return r.answer.map((rr) => rr.type);
}

function dataOf(r: KdigResult, type: string): string[] {
  return r.answer
    .filter((rr) => rr.type === type)
    .map((rr) => rr.data)
    .sort();
}

/** kdig prints TLSA association data upper-case. */
function tlsaText(usage: number, selector: number, mtype: number, data: Buffer): string {
  return `${usage} ${selector} ${mtype} ${data.toString("hex").toUpperCase()}`;
}

function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // process ended while we looked
    }
  }
  return found;
}

describe("DNS lab: Knot signs, Unbound validates, kdig observes", { timeout: 60_000 }, () => {
  let lab: DnsLab | undefined;
  let certs: Certs;
  let certDir: string;
  let resolver: Endpoint;

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), "siptrust-labcerts-"));
    certs = await makeCerts(certDir);
    lab = await startDnsLab(scenarioSpec(certs));
    resolver = lab.resolver;
    const t = lab.timings;
    console.log(`# lab start: ${t.totalMs} ms (knot ${t.knotMs}, DS + unbound ${t.delegationsAndUnboundMs})`);
  });

  after(async () => {
    await lab?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test("secure names validate: AD set on NAPTR, SRV, A, AAAA, TLSA, CNAME chain, DANE-TA, sideways jump", async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["sip.test.", "NAPTR"],
      ["_sips._tcp.sip.test.", "SRV"],
      ["a.sip.test.", "A"],
      ["a.sip.test.", "AAAA"],
      ["_5061._tcp.a.sip.test.", "TLSA"],
      ["_5061._tcp.b.sip.test.", "TLSA"],
      ["_5061._tcp.edge.ta.test.", "TLSA"],
      ["_sips._tcp.hosted.test.", "SRV"],
      ["edge.provider.test.", "A"],
      ["_5061._tcp.edge.provider.test.", "TLSA"],
      ["_sips._tcp.legacy.test.", "SRV"],
    ];
    const results = await Promise.all(cases.map(([name, type]) => kdig(resolver, name, type)));
    for (const [i, [name, type]] of cases.entries()) {
      const r = results[i]!;
      assert.equal(r.status, "NOERROR", `${name} ${type}`);
      assert.ok(r.flags.has("ad"), `AD expected for ${name} ${type}: ${[...r.flags].join(" ")}`);
      assert.ok(types(r).includes(type), `${type} answer for ${name}`);
      assert.ok(types(r).includes("RRSIG"), `RRSIG for ${name} ${type}`);
    }
    const alias = await kdig(resolver, "alias.sip.test.", "A");
    assert.ok(alias.flags.has("ad"));
    assert.deepEqual(dataOf(alias, "CNAME"), ["a.sip.test."]);
    assert.deepEqual(dataOf(alias, "A"), ["127.0.0.11"]);
  });

  test("answers carry the records exactly as specified", async () => {
    const naptrs = await kdig(resolver, "sip.test.", "NAPTR");
    assert.deepEqual(dataOf(naptrs, "NAPTR"), [
      '10 50 "s" "SIPS+D2T" "" _sips._tcp.sip.test.',
      '20 50 "s" "SIP+D2T" "" _sip._tcp.sip.test.',
    ]);
    const srvs = await kdig(resolver, "_sips._tcp.sip.test.", "SRV");
    assert.deepEqual(dataOf(srvs, "SRV"), ["10 50 5061 a.sip.test.", "20 50 5061 b.sip.test."]);
    const eeA = await kdig(resolver, "_5061._tcp.a.sip.test.", "TLSA");
    assert.deepEqual(dataOf(eeA, "TLSA"), [tlsaText(3, 1, 1, tlsaAssociation(certs.leafA, 1, 1))]);
    const ta = await kdig(resolver, "_5061._tcp.edge.ta.test.", "TLSA");
    assert.deepEqual(
      dataOf(ta, "TLSA"),
      [
        tlsaText(2, 0, 1, tlsaAssociation(certs.ca, 0, 1)),
        tlsaText(2, 1, 1, tlsaAssociation(certs.ca, 1, 1)),
      ].sort(),
    );
    const sideways = await kdig(resolver, "_sips._tcp.hosted.test.", "SRV");
    assert.deepEqual(dataOf(sideways, "SRV"), ["10 0 5061 edge.provider.test."]);
  });

  test("unsigned child: answers arrive without AD (insecure delegation, no DS)", async () => {
    for (const [name, type] of [
      ["sip.plain.test.", "A"],
      ["_5061._tcp.sip.plain.test.", "TLSA"],
      ["_sips._tcp.plain.test.", "SRV"],
      ["sip.example.net.", "A"],
    ] as const) {
      const r = await kdig(resolver, name, type);
      assert.equal(r.status, "NOERROR", `${name} ${type}`);
      assert.ok(!r.flags.has("ad"), `no AD for ${name} ${type}`);
      assert.ok(types(r).includes(type), `${type} answer for ${name}`);
    }
    // the parent proves the absence of the DS: the delegation itself is securely insecure
    const ds = await kdig(resolver, "plain.test.", "DS");
    assert.equal(ds.status, "NOERROR");
    assert.ok(ds.flags.has("ad"), "DS absence is signed by the parent");
    assert.deepEqual(types(ds), []);
  });

  test("bogus child (DS does not match its key): SERVFAIL with EDE 9/6, though the data exists", async () => {
    for (const [name, type] of [
      ["sip.bogus.test.", "A"],
      ["_5061._tcp.sip.bogus.test.", "TLSA"],
      ["_sips._tcp.bogus.test.", "SRV"],
    ] as const) {
      const r = await kdig(resolver, name, type);
      assert.equal(r.status, "SERVFAIL", `${name} ${type}`);
      assert.deepEqual(types(r), [], "no data from a bogus zone");
      // RFC 8914 §4.10: 9 = DNSKEY Missing (no DNSKEY matches the DS) on the first failure; later
      // queries get 6 = DNSSEC Bogus, as Unbound has cached the zone's key as bad. Both name the cause.
      assert.ok([6, 9].includes(r.ede?.code ?? -1), `EDE for ${name} ${type}: ${JSON.stringify(r.ede)}`);
      assert.match(r.ede?.text ?? "", /DS hash mismatches key/);
    }
    // Checking Disabled (RFC 4035 §3.2.2): the resolver hands over the data, so the failure is validation.
    const cd = await kdig(resolver, "sip.bogus.test.", "A", ["+cd"]);
    assert.equal(cd.status, "NOERROR");
    assert.deepEqual(dataOf(cd, "A"), ["127.0.0.51"]);
  });

  test("stripped child (DS in parent, zone unsigned): SERVFAIL with an EDE", async () => {
    const r = await kdig(resolver, "sip.stripped.test.", "A");
    assert.equal(r.status, "SERVFAIL");
    assert.equal(r.ede?.code, 9, r.ede?.text);
    assert.match(r.ede?.text ?? "", /No DNSKEY/);
  });

  test("securely absent TLSA: NXDOMAIN or NODATA, with AD", async () => {
    const nx = await kdig(resolver, "_5061._tcp.c.sip.test.", "TLSA");
    assert.equal(nx.status, "NXDOMAIN");
    assert.ok(nx.flags.has("ad"));
    const nodata = await kdig(resolver, "c.sip.test.", "TLSA");
    assert.equal(nodata.status, "NOERROR");
    assert.ok(nodata.flags.has("ad"));
    assert.deepEqual(types(nodata), []);
  });

  test("Knot answers DS from the parent: the published DS (correct or corrupted) as the lab reports it", async () => {
    const knot = lab!.authoritative;
    for (const zone of ["sip.test.", "bogus.test."]) {
      const r = await kdig(knot, zone, "DS");
      assert.ok(r.flags.has("aa"), `authoritative answer for ${zone} DS`);
      const expected = lab!.ds.get(zone)?.split(" ").slice(2).join(" ").toUpperCase();
      assert.deepEqual(dataOf(r, "DS"), [expected]);
    }
    const keyTagOfAnchor = Number(lab!.trustAnchor.split(" ")[2]);
    const dnskey = await kdig(knot, "test.", "DNSKEY");
    const rrsig = dnskey.answer.find((rr) => rr.type === "RRSIG");
    assert.equal(
      Number(rrsig?.data.split(" ")[6]),
      keyTagOfAnchor,
      "anchor DNSKEY signed by the trust-anchor key",
    );
  });

  test("names outside the lab are refused by the resolver itself: no query leaves the machine", async () => {
    for (const name of ["example.com.", "sip.example.org.", "."]) {
      const r = await kdig(resolver, name, "SOA");
      assert.equal(r.status, "REFUSED", name);
    }
  });

  test("a large RRset is truncated over UDP (TC) and complete over TCP", async () => {
    const udp = await kdig(resolver, "big.sip.test.", "TXT", ["+notcp", "+ignore", "+bufsize=1232"]);
    assert.ok(udp.flags.has("tc"), `TC expected: ${[...udp.flags].join(" ")}`);
    const tcp = await kdig(resolver, "big.sip.test.", "TXT", ["+tcp"]);
    assert.ok(tcp.flags.has("ad"));
    assert.equal(dataOf(tcp, "TXT").length, 40);
  });

  test("TLSA association data agrees with openssl's digests", async () => {
    const sh = (cmd: string): Promise<string> =>
      run("sh", ["-c", cmd], { timeout: 10_000 }).then((r) => r.stdout);
    const spki = await sh(
      `openssl x509 -in '${certs.paths.leafA}' -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r`,
    );
    assert.equal(spki.split(" ")[0], tlsaAssociation(certs.leafA, 1, 1).toString("hex"));
    const full = await sh(`openssl x509 -in '${certs.paths.ca}' -outform DER | openssl dgst -sha512 -r`);
    assert.equal(full.split(" ")[0], tlsaAssociation(certs.ca, 0, 2).toString("hex"));
  });
});

test(
  "stop() ends both daemons, frees their ports and removes the lab directory",
  { timeout: 30_000 },
  async () => {
    const lab = await startDnsLab({ zones: [] });
    let stopped = false;
    try {
      const before = await kdig(lab.resolver, "test.", "SOA");
      assert.ok(before.flags.has("ad"), "an empty lab still validates its anchor");
      const running = processesMentioning(lab.dir);
      assert.ok(
        running.some((p) => / knotd -c /.test(p)),
        `knotd runs from the lab dir: ${running.join("; ")}`,
      );
      assert.ok(
        running.some((p) => / unbound -d -c /.test(p)),
        `unbound runs from the lab dir: ${running.join("; ")}`,
      );
      assert.ok(
        running.some((p) => /lab-watchdog/.test(p)),
        "the watchdog runs",
      );
      await lab.stop();
      stopped = true;
      assert.equal(existsSync(lab.dir), false);
      assert.deepEqual(processesMentioning(lab.dir), []);
      for (const server of [lab.resolver, lab.authoritative]) {
        const answer = await probe({
          ...server,
          name: "test.",
          type: "SOA",
          recursion: true,
          timeoutMs: 300,
        });
        assert.equal(answer, undefined, `nothing answers on port ${server.port} after stop()`);
      }
      await lab.stop(); // idempotent
    } finally {
      if (!stopped) await lab.stop();
    }
  },
);

test(
  "a start that cannot finish in time fails with a typed error and leaves nothing behind",
  { timeout: 30_000 },
  async () => {
    const err = await startDnsLab({ zones: [{ name: "x.test." }], startTimeoutMs: 40 }).then(
      (lab) => lab.stop().then(() => assert.fail("40 ms should not be enough to start Knot and Unbound")),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LabStartError, String(err));
    assert.equal(err.code, "timeout");
    assert.ok(err.dir.length > 0);
    assert.equal(existsSync(err.dir), false, "lab directory removed");
    assert.deepEqual(processesMentioning(err.dir), []);
  },
);

test(
  "a zone Knot refuses ends the start at once with Knot's reason and log, leaving nothing behind",
  { timeout: 30_000 },
  async () => {
    // CNAME beside other data (RFC 1034 §3.6.2) passes the spec checks but Knot's zone loader refuses it.
    const spec: DnsLabSpec = {
      zones: [{ name: "x.test.", records: [cname("h", "y.x.test."), a("h", "127.0.0.2")] }],
    };
    const err = await startDnsLab(spec).then(
      (lab) => lab.stop().then(() => assert.fail("Knot should refuse the zone")),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LabStartError, String(err));
    assert.equal(err.code, "knot-failed", "a load error, not a wait until the timeout");
    assert.match(err.message, /\[x\.test\.\] .*another record exists beside CNAME/);
    assert.match(err.message, /--- knotd log \(tail\) ---/);
    assert.equal(existsSync(err.dir), false);
    assert.deepEqual(processesMentioning(err.dir), []);
  },
);
