// `siptrust pki init` / `siptrust pki issue`: files, modes, identities, EKU defaults, exit codes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkKeyMatchesCertificate, parsePrivateKey } from "../../../src/pki/load.js";
import { readExtendedKeyUsage } from "../../../src/pki/eku.js";
import { extractSipIdentities } from "../../../src/pki/identities.js";
import { runVerb } from "./pki-cli-harness.js";

let dir = "";
let caDir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "siptrust-pki-cli-"));
  caDir = join(dir, "ca");
  const r = await runVerb(["pki", "init", caDir, "--json"]);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const loadCert = async (path: string) => new X509Certificate(await readFile(path));

describe("siptrust pki init", () => {
  it("creates a CA certificate and a 0600 key that match", async () => {
    const cert = await loadCert(join(caDir, "ca.pem"));
    assert.equal(cert.ca, true);
    assert.equal(cert.subject, "CN=siptrust development CA");
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1"); // ECDSA P-256 default
    assert.equal(await mode(join(caDir, "ca-key.pem")), 0o600);
    const key = parsePrivateKey(await readFile(join(caDir, "ca-key.pem")), "ca-key.pem");
    checkKeyMatchesCertificate(key, cert, "ca-key.pem");
  });

  it("keeps an existing CA (idempotent)", async () => {
    const before = (await loadCert(join(caDir, "ca.pem"))).fingerprint256;
    const r = await runVerb(["pki", "init", caDir, "--json"]);
    assert.equal(r.code, 0);
    assert.equal((JSON.parse(r.stdout) as { created: boolean }).created, false);
    assert.equal((await loadCert(join(caDir, "ca.pem"))).fingerprint256, before);
  });

  it("refuses half a CA with exit 2", async () => {
    const half = join(dir, "half");
    await runVerb(["pki", "init", half]);
    await rm(join(half, "ca-key.pem"));
    const r = await runVerb(["pki", "init", half]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /incomplete CA/);
  });

  it("honours --cn, --days and --key-algorithm; rejects bad values with exit 2", async () => {
    const other = join(dir, "rsa-ca");
    const r = await runVerb([
      "pki",
      "init",
      other,
      "--cn",
      "Test CA",
      "--days",
      "10",
      "--key-algorithm",
      "rsa-2048",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const cert = await loadCert(join(other, "ca.pem"));
    assert.equal(cert.subject, "CN=Test CA");
    assert.equal(cert.publicKey.asymmetricKeyType, "rsa");
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 10) < 0.01, String(days));
    assert.equal((await runVerb(["pki", "init", join(dir, "x"), "--days", "0"])).code, 2);
    assert.equal((await runVerb(["pki", "init", join(dir, "y"), "--key-algorithm", "dsa"])).code, 2);
  });
});

describe("siptrust pki issue", () => {
  it("issues a server certificate with SIP identities, chained to the CA, key 0600", async () => {
    const out = join(dir, "server");
    const r = await runVerb([
      "pki",
      "issue",
      "--ca",
      caDir,
      "--server",
      "--sip-domain",
      "example.com",
      "--sip-uri",
      "sip:bob@example.com",
      "--dns",
      "sip1.example.com",
      "--out",
      out,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const cert = await loadCert(`${out}.pem`);
    const ca = await loadCert(join(caDir, "ca.pem"));
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkIssued(ca), true);
    assert.equal(cert.subject, "CN=example.com");
    assert.equal(await mode(`${out}-key.pem`), 0o600);
    checkKeyMatchesCertificate(parsePrivateKey(await readFile(`${out}-key.pem`), "k"), cert, "k");
    assert.deepEqual(readExtendedKeyUsage(cert), ["1.3.6.1.5.5.7.3.20", "1.3.6.1.5.5.7.3.1"]);
    assert.deepEqual(extractSipIdentities(cert).identities, [
      { kind: "domain", value: "example.com", source: "san-uri" },
      { kind: "uri", value: "sip:bob@example.com", source: "san-uri" },
    ]);
    const j = JSON.parse(r.stdout) as { certificate: string; key: string; identities: unknown[] };
    assert.equal(j.certificate, `${out}.pem`);
    assert.equal(j.key, `${out}-key.pem`);
    assert.equal(j.identities.length, 2);
  });

  const ekuCases: Array<[string, string[], string[] | undefined]> = [
    ["client default", ["--client"], ["1.3.6.1.5.5.7.3.20", "1.3.6.1.5.5.7.3.2"]],
    [
      "server+client default",
      ["--server", "--client"],
      ["1.3.6.1.5.5.7.3.20", "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
    ],
    ["explicit sipDomain only", ["--server", "--eku", "sipDomain"], ["1.3.6.1.5.5.7.3.20"]],
    [
      "explicit list",
      ["--client", "--eku", "serverAuth,clientAuth"],
      ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
    ],
    ["none", ["--client", "--eku", "none"], undefined],
  ];
  ekuCases.forEach(([name, args, expected], i) => {
    it(`EKU: ${name}`, async () => {
      const out = join(dir, `eku-${i}`);
      const r = await runVerb(["pki", "issue", "--ca", caDir, "--dns", "d.example", "--out", out, ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readExtendedKeyUsage(await loadCert(`${out}.pem`)), expected);
    });
  });

  it("honours --cn and --days", async () => {
    const out = join(dir, "phone");
    const r = await runVerb([
      "pki",
      "issue",
      "--ca",
      caDir,
      "--client",
      "--cn",
      "00:11:22:33:44:55",
      "--days",
      "30",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const cert = await loadCert(`${out}.pem`);
    assert.equal(cert.subject, "CN=00:11:22:33:44:55");
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 0.01);
  });

  it("never overwrites without --force, and leaves no half pair", async () => {
    const out = join(dir, "exists");
    await writeFile(`${out}.pem`, "keep me");
    const r = await runVerb(["pki", "issue", "--ca", caDir, "--server", "--dns", "a.example", "--out", out]);
    assert.equal(r.code, 2);
    assert.equal(await readFile(`${out}.pem`, "utf8"), "keep me");
    await assert.rejects(stat(`${out}-key.pem`));
    const forced = await runVerb([
      "pki",
      "issue",
      "--ca",
      caDir,
      "--server",
      "--dns",
      "a.example",
      "--out",
      out,
      "--force",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await mode(`${out}-key.pem`), 0o600);
  });

  const usageErrors: Array<[string, string[]]> = [
    ["neither --server nor --client", ["--dns", "a.example"]],
    ["no identity at all", ["--server"]],
    ["unknown EKU", ["--server", "--dns", "a.example", "--eku", "sipDomain,bogus"]],
    ["non-SIP --sip-uri", ["--server", "--sip-uri", "https://example.com"]],
    ["bad --sip-domain", ["--server", "--sip-domain", "exa mple.com"]],
    ["bad --days", ["--server", "--dns", "a.example", "--days", "-3"]],
  ];
  usageErrors.forEach(([name, args], i) => {
    it(`exits 2: ${name}`, async () => {
      const r = await runVerb(["pki", "issue", "--ca", caDir, "--out", join(dir, `bad-${i}`), ...args]);
      assert.equal(r.code, 2);
    });
  });

  it("exits 2 when the CA directory is missing or not a CA", async () => {
    const missing = await runVerb([
      "pki",
      "issue",
      "--ca",
      join(dir, "nope"),
      "--server",
      "--dns",
      "a",
      "--out",
      join(dir, "o1"),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope/);
    // a leaf certificate + key in a CA directory's place: the key matches but basicConstraints says no CA
    const notCa = join(dir, "not-ca");
    await runVerb(["pki", "init", notCa]);
    await writeFile(join(notCa, "ca.pem"), await readFile(join(dir, "server.pem")));
    await writeFile(join(notCa, "ca-key.pem"), await readFile(join(dir, "server-key.pem")));
    const r = await runVerb([
      "pki",
      "issue",
      "--ca",
      notCa,
      "--server",
      "--dns",
      "a",
      "--out",
      join(dir, "o2"),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a CA/);
  });
});

describe("the real siptrust binary", () => {
  it("wires the cert and tlsa verbs into program.ts with their exit codes", async () => {
    const { spawnSync } = await import("node:child_process");
    const bin = join(process.cwd(), "bin", "siptrust.js");
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
    const out = join(dir, "wired");
    const issued = await runVerb([
      "pki",
      "issue",
      "--ca",
      caDir,
      "--server",
      "--sip-domain",
      "wired.example",
      "--out",
      out,
    ]);
    assert.equal(issued.code, 0, issued.stderr);
    const ids = run(["cert", "identities", `${out}.pem`, "--json"]);
    assert.equal(ids.status, 0, ids.stderr);
    assert.equal((JSON.parse(ids.stdout) as { subject: string }).subject, "CN=wired.example");
    assert.equal(run(["cert", "match", `${out}.pem`, "other.example"]).status, 1);
    assert.equal(run(["tlsa", `${out}.pem`, "--usage", "9"]).status, 2);
  });
});
