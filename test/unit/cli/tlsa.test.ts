// `siptrust tlsa`: presentation form, parameter handling, exit codes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { runVerb } from "./pki-cli-harness.js";

let dir = "";
let certFile = "";
let leaf: GeneratedCertificate;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "siptrust-tlsa-cli-"));
  const ca = createCa();
  leaf = issueCertificate(ca, { san: { uri: ["sip:example.com"] } });
  certFile = join(dir, "leaf.pem");
  await writeFile(certFile, leaf.certificatePem + ca.certificatePem);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (alg: string, data: Buffer) => createHash(alg).update(data).digest("hex");

describe("siptrust tlsa", () => {
  it("defaults to 3 1 1 over the leaf's SubjectPublicKeyInfo", async () => {
    const r = await runVerb(["tlsa", certFile]);
    assert.equal(r.code, 0, r.stderr);
    const spki = leaf.certificate.publicKey.export({ type: "spki", format: "der" });
    assert.equal(r.stdout, `3 1 1 ${sha("sha256", spki)}\n`);
  });

  it("honours --usage, --selector and --matching", async () => {
    const full = await runVerb(["tlsa", certFile, "--usage", "2", "--selector", "0", "--matching", "2"]);
    assert.equal(full.stdout, `2 0 2 ${sha("sha512", leaf.certificate.raw)}\n`);
    const exact = await runVerb(["tlsa", certFile, "--usage", "1", "--selector", "0", "--matching", "0"]);
    assert.equal(exact.stdout, `1 0 0 ${leaf.certificate.raw.toString("hex")}\n`);
  });

  it("--json gives the parts and the presentation form", async () => {
    const r = await runVerb(["tlsa", certFile, "--json"]);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), ["usage", "selector", "matching", "data", "rdata"]);
    assert.equal(j.rdata, `3 1 1 ${String(j.data)}`);
  });

  const usageErrors: Array<[string, string[]]> = [
    ["usage 4", ["--usage", "4"]],
    ["selector 2", ["--selector", "2"]],
    ["matching 3", ["--matching", "3"]],
    ["non-numeric", ["--matching", "sha256"]],
    ["negative", ["--usage", "-1"]],
  ];
  for (const [name, args] of usageErrors) {
    it(`exits 2 for ${name}`, async () => {
      const r = await runVerb(["tlsa", certFile, ...args]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
    });
  }

  it("exits 2 for a file that is not a certificate", async () => {
    const bad = join(dir, "bad.pem");
    await writeFile(bad, leaf.privateKeyPem);
    const r = await runVerb(["tlsa", bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-certificate/);
  });
});
