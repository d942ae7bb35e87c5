// `siptrust cert identities` and `siptrust cert match`: exit codes, JSON shapes, human output.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { runVerb } from "./pki-cli-harness.js";

let dir = "";
const files: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "siptrust-cert-cli-"));
  const ca = createCa();
  const certs = {
    full: issueCertificate(ca, {
      cn: "ignored.example",
      san: {
        uri: ["sip:example.com", "sip:bob@example.com", "sips:secure.example"],
        dns: ["dns.example"],
        email: ["alice@example.com"],
        ip: ["192.0.2.1"],
      },
      eku: ["sipDomain", "serverAuth"],
    }),
    dnsOnly: issueCertificate(ca, { san: { dns: ["*.wild.example", "host.example"] } }),
    none: issueCertificate(ca, { cn: "cn.example", san: { ip: ["192.0.2.9"] } }),
  };
  for (const [name, c] of Object.entries(certs)) {
    files[name] = join(dir, `${name}.pem`);
    await writeFile(files[name], c.certificatePem + ca.certificatePem);
  }
  files.garbage = join(dir, "garbage.pem");
  await writeFile(files.garbage, "not a certificate\n");
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("siptrust cert identities", () => {
  it("prints the exact JSON shape of issue 4 §3 and exits 0", async () => {
    const r = await runVerb(["cert", "identities", files.full ?? "", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).sort(), [
      "eku",
      "fingerprintSha256",
      "identities",
      "issuer",
      "notAfter",
      "notBefore",
      "san",
      "serial",
      "subject",
    ]);
    assert.equal(j.subject, "CN=ignored.example");
    assert.equal(j.issuer, "CN=siptrust development CA");
    assert.match(String(j.fingerprintSha256), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(String(j.serial), /^[0-9A-F]+$/);
    assert.ok(!Number.isNaN(Date.parse(String(j.notBefore))));
    assert.deepEqual(j.san, {
      uri: ["sip:example.com", "sip:bob@example.com", "sips:secure.example"],
      dns: ["dns.example"],
      email: ["alice@example.com"],
      ip: ["192.0.2.1"],
    });
    assert.deepEqual(j.eku, ["1.3.6.1.5.5.7.3.20", "1.3.6.1.5.5.7.3.1"]);
    assert.deepEqual(j.identities, [
      { kind: "domain", value: "example.com", source: "san-uri" },
      { kind: "uri", value: "sip:bob@example.com", source: "san-uri" },
    ]);
    assert.match(r.stderr, /sips:secure\.example ignored/);
  });

  it("--email-as-sip adds the email identity", async () => {
    const r = await runVerb(["cert", "identities", files.full ?? "", "--json", "--email-as-sip"]);
    const j = JSON.parse(r.stdout) as { identities: unknown[] };
    assert.deepEqual(j.identities.at(-1), {
      kind: "uri",
      value: "sip:alice@example.com",
      source: "san-email",
    });
  });

  it("human form: one identity a line with its source", async () => {
    const r = await runVerb(["cert", "identities", files.dnsOnly ?? ""]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "domain\t*.wild.example\t(san-dns)",
      "domain\thost.example\t(san-dns)",
    ]);
  });

  it("--legacy-wildcards warns about the wildcard", async () => {
    const r = await runVerb(["cert", "identities", files.dnsOnly ?? "", "--legacy-wildcards"]);
    assert.match(r.stderr, /legacy wildcard identity \*\.wild\.example/);
  });

  it("exits 1 when the certificate has no SIP identity", async () => {
    const r = await runVerb(["cert", "identities", files.none ?? "", "--json"]);
    assert.equal(r.code, 1);
    assert.deepEqual((JSON.parse(r.stdout) as { identities: unknown[] }).identities, []);
  });

  it("exits 2 for an unreadable or missing file, naming it", async () => {
    const garbage = await runVerb(["cert", "identities", files.garbage ?? ""]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /garbage\.pem.*not-pem-or-der/);
    const missing = await runVerb(["cert", "identities", join(dir, "nope.pem")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.pem/);
  });

  it("exits 2 for a missing argument", async () => {
    assert.equal((await runVerb(["cert", "identities"])).code, 2);
  });
});

describe("siptrust cert match", () => {
  const cases: Array<[string, string[], number, string]> = [
    ["domain identity", ["example.com"], 0, "rfc5922-match"],
    ["case and trailing dot", ["EXAMPLE.com."], 0, "rfc5922-match"],
    ["sip URI target uses its host", ["sip:carol@Example.com;transport=tls"], 0, "rfc5922-match"],
    ["sips URI target", ["sips:example.com:5061"], 0, "rfc5922-match"],
    ["DNS name suppressed by the sip: URI", ["dns.example"], 1, "rfc5922-no-match"],
    ["URI identity's host is not a domain identity", ["example.org"], 1, "rfc5922-no-match"],
    ["no suffix match", ["sub.example.com"], 1, "rfc5922-no-match"],
    ["IP literal", ["192.0.2.1"], 1, "ip-literal"],
  ];
  for (const [name, target, code, resultCode] of cases) {
    it(`${name} → exit ${code}, ${resultCode}`, async () => {
      const r = await runVerb(["cert", "match", files.full ?? "", ...target, "--json"]);
      assert.equal(r.code, code, r.stderr);
      const j = JSON.parse(r.stdout) as { ok: boolean; code: string; matched: unknown };
      assert.equal(j.ok, code === 0);
      assert.equal(j.code, resultCode);
      if (code === 0)
        assert.deepEqual(j.matched, { kind: "domain", value: "example.com", source: "san-uri" });
      else assert.equal(j.matched, null);
    });
  }

  it("wildcard is literal unless --legacy-wildcards", async () => {
    const strict = await runVerb(["cert", "match", files.dnsOnly ?? "", "a.wild.example"]);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /no match/);
    const legacy = await runVerb([
      "cert",
      "match",
      files.dnsOnly ?? "",
      "a.wild.example",
      "--legacy-wildcards",
    ]);
    assert.equal(legacy.code, 0);
    assert.match(legacy.stderr, /legacy wildcard/);
  });

  it("exits 2 for a malformed SIP URI target or an unreadable certificate", async () => {
    assert.equal((await runVerb(["cert", "match", files.full ?? "", "sip:"])).code, 2);
    assert.equal((await runVerb(["cert", "match", files.garbage ?? "", "example.com"])).code, 2);
  });
});
