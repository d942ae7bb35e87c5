// The lab's spec checks and DS arithmetic. A lab that silently accepted a wrong spec (a public
// address, a record hidden below a zone cut, a DS in an unsigned parent) would make DNS interop
// tests pass or fail for the wrong reason, so its guards are tested like product code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { corruptDs, dsRecord, keyTag, makeP256Key } from "../lab/dnssec-keys.js";
import { LabSpecError, normalizeSpec, type DnsLabSpec, type LabZone } from "../lab/lab-spec.js";
import { a, naptr, srv, tlsa } from "../lab/records.js";
import { renderZoneFile } from "../lab/zone-file.js";

const run = promisify(execFile);

function specWith(...zones: LabZone[]): DnsLabSpec {
  return { zones };
}

const rejected: ReadonlyArray<readonly [string, DnsLabSpec, string]> = [
  ["A outside loopback", specWith({ name: "s.test.", records: [a("h", "10.0.0.1")] }), "bad-record"],
  [
    "AAAA other than ::1",
    specWith({ name: "s.test.", records: [{ name: "h", type: "AAAA", data: "2001:db8::1" }] }),
    "bad-record",
  ],
  [
    "TLSA odd hex",
    specWith({ name: "s.test.", records: [tlsa("_5061._tcp.h", 3, 1, 1, "abc")] }),
    "bad-record",
  ],
  [
    "TLSA usage 256",
    specWith({ name: "s.test.", records: [tlsa("_5061._tcp.h", 256, 1, 1, "ab")] }),
    "bad-record",
  ],
  [
    "SRV port 70000",
    specWith({ name: "s.test.", records: [srv("_sip._tcp", 1, 1, 70000, "h.s.test.")] }),
    "bad-record",
  ],
  [
    "SRV target not absolute",
    specWith({ name: "s.test.", records: [srv("_sip._tcp", 1, 1, 5060, "h")] }),
    "bad-record",
  ],
  [
    "newline smuggled in data",
    specWith({ name: "s.test.", records: [{ name: "h", type: "TXT", data: '"x"\nevil A 1.2.3.4' }] }),
    "bad-record",
  ],
  [
    "record outside its zone",
    specWith({ name: "s.test.", records: [a("h.other.test.", "127.0.0.1")] }),
    "bad-record",
  ],
  [
    "record below a child's cut",
    specWith({ name: "s.test.", records: [a("x.c", "127.0.0.1")] }, { name: "c.s.test." }),
    "bad-record",
  ],
  ["TTL beyond a day", specWith({ name: "s.test.", records: [a("h", "127.0.0.1", 90000)] }), "bad-record"],
  ["zone at the lab's server name", specWith({ name: "ns.test." }), "bad-zone"],
  ["zone twice", specWith({ name: "s.test." }, { name: "S.test" }), "bad-zone"],
  ["unsigned anchor", specWith({ name: "test.", security: "unsigned" }), "bad-zone"],
  ["secure zone outside the anchor", specWith({ name: "example.net." }), "bad-zone"],
  [
    "secure child of an unsigned parent",
    specWith({ name: "u.test.", security: "unsigned" }, { name: "s.u.test." }),
    "bad-zone",
  ],
  [
    "bogus child of an unsigned parent",
    specWith({ name: "u.test.", security: "unsigned" }, { name: "b.u.test.", security: "bogus" }),
    "bad-zone",
  ],
  ["label too long", specWith({ name: `${"x".repeat(64)}.test.` }), "bad-name"],
  ["wildcard not leftmost", specWith({ name: "s.test.", records: [a("a.*", "127.0.0.1")] }), "bad-name"],
  ["zero start timeout", { zones: [], startTimeoutMs: 0 }, "bad-option"],
];

test("bad lab specs are refused with a typed error before anything starts", () => {
  for (const [what, spec, code] of rejected) {
    assert.throws(
      () => normalizeSpec(spec),
      (err: unknown) => err instanceof LabSpecError && err.code === code,
      what,
    );
  }
});

test("spec normalization: names absolute, anchor added, parents resolved", () => {
  const spec = normalizeSpec(
    specWith(
      { name: "SIP.test", records: [a("@", "127.0.0.2"), a("Host", "127.0.0.3"), a("*.wild", "127.0.0.4")] },
      { name: "deep.sip.test.", security: "unsigned" },
      { name: "example.net.", security: "unsigned" },
    ),
  );
  assert.equal(spec.anchor, "test.");
  const byName = new Map(spec.zones.map((z) => [z.name, z]));
  assert.deepEqual([...byName.keys()], ["test.", "sip.test.", "deep.sip.test.", "example.net."]);
  assert.equal(byName.get("sip.test.")?.parent, "test.");
  assert.equal(byName.get("deep.sip.test.")?.parent, "sip.test.");
  assert.equal(byName.get("example.net.")?.parent, undefined);
  assert.deepEqual(
    byName.get("sip.test.")?.records.map((r) => r.owner),
    ["sip.test.", "host.sip.test.", "*.wild.sip.test."],
  );
});

test("zone file: delegations with the DS given, SOA serial, records in presentation format", () => {
  const spec = normalizeSpec(
    specWith(
      { name: "sec.test.", records: [naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.sec.test.")] },
      { name: "plain.test.", security: "unsigned" },
    ),
  );
  const ds = dsRecord("sec.test.", makeP256Key().fields);
  const parent = renderZoneFile(spec.zones[0]!, spec, new Map([["sec.test.", ds]]), 2);
  assert.deepEqual(
    parent.split("\n").filter((l) => / DS /.test(l)),
    [ds],
  );
  assert.match(parent, /^@ SOA ns\.test\. hostmaster\.test\. 2 /m);
  for (const child of ["sec.test.", "plain.test."]) {
    assert.ok(parent.includes(`${child} NS ns.test.`), `delegation for ${child}`);
  }
  const firstPass = renderZoneFile(spec.zones[0]!, spec, new Map(), 1);
  assert.ok(!/ DS /.test(firstPass), "no DS before the child's key is known");
  const child = renderZoneFile(spec.zones[1]!, spec, new Map(), 1);
  assert.match(child, /^sec\.test\. 300 NAPTR 10 50 "s" "SIPS\+D2T" "" _sips\._tcp\.sec\.test\.$/m);
});

test("corrupted DS keeps tag and algorithm, changes the digest", () => {
  const ds = dsRecord("bad.test.", makeP256Key().fields);
  const bad = corruptDs(ds);
  assert.deepEqual(bad.split(" ").slice(0, 5), ds.split(" ").slice(0, 5));
  assert.notEqual(bad.split(" ")[5], ds.split(" ")[5]);
});

test("key tag: RFC 4034 Appendix B example", () => {
  // RFC 4034 §5.4: dskey.example.com. DNSKEY 256 3 5 AQOeiiR0… has key tag 60485.
  const rdata = Buffer.concat([
    Buffer.from([0x01, 0x00, 0x03, 0x05]),
    Buffer.from(
      "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
      "base64",
    ),
  ]);
  assert.equal(keyTag(rdata), 60485);
});

test("DS made here equals keymgr's DS for the same key (Knot as the reference)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-keymgr-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = makeP256Key();
  const pem = join(dir, "k.pem");
  writeFileSync(pem, key.privateKeyPem, { mode: 0o600 });
  const kasp = ["-D", join(dir, "kasp")];
  await run("keymgr", [...kasp, "sip.test.", "import-pem", pem, "algorithm=13", "ksk=yes", "zsk=yes"], {
    timeout: 5000,
  });
  const { stdout } = await run("keymgr", [...kasp, "sip.test.", "ds"], { timeout: 5000 });
  const sha256 = stdout.split("\n").find((l) => l.split(" ")[4] === "2");
  assert.equal(sha256?.toLowerCase(), dsRecord("sip.test.", key.fields).toLowerCase());
});
