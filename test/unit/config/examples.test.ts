/**
 * Every example under examples/ (one per DESIGN.md scenario) loads: the YAML passes the schema and every
 * file it names is read and checked. The test generates the PKI files each example refers to.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { makeCrl } from "../pki/chain-fixtures.js";

const EXAMPLES = resolve(import.meta.dirname, "../../../examples");
const SCENARIOS = ["enterprise", "federation", "bilateral", "hosted", "devices"];

/** Writes pki/<name>.pem|.key|.crl for every such path the example mentions. */
function generatePki(yaml: string, dir: string): void {
  mkdirSync(join(dir, "pki"), { recursive: true });
  const names = new Set([...yaml.matchAll(/pki\/([\w-]+)\.(?:pem|key|crl)/g)].map((m) => m[1] as string));
  const cas = new Map<string, GeneratedCertificate>();
  for (const name of [...names].filter((n) => n.endsWith("-ca"))) {
    const ca = createCa({ cn: name });
    cas.set(name, ca);
    writeFileSync(join(dir, "pki", `${name}.pem`), ca.certificatePem);
    writeFileSync(join(dir, "pki", `${name}.crl`), makeCrl(ca));
  }
  const issuer = cas.values().next().value ?? createCa();
  for (const name of [...names].filter((n) => !n.endsWith("-ca"))) {
    const leaf = issueCertificate(issuer, {
      cn: name,
      san: { uri: [`sip:${name}.example`] },
      eku: ["sipDomain"],
    });
    writeFileSync(join(dir, "pki", `${name}.pem`), leaf.certificatePem);
    writeFileSync(join(dir, "pki", `${name}.key`), leaf.privateKeyPem);
  }
}

test("the examples folder holds exactly the five scenarios", () => {
  const yamls = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  assert.deepEqual(yamls, SCENARIOS.map((s) => `${s}.yaml`).sort());
});

for (const scenario of SCENARIOS) {
  test(`examples/${scenario}.yaml loads with every file it names`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), `siptrust-example-${scenario}-`));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(EXAMPLES, dir, { recursive: true });
    const file = join(dir, `${scenario}.yaml`);
    generatePki(readFileSync(file, "utf8"), dir);
    const prepared = prepareConfigFile(file);
    assert.ok(prepared.config.listeners.length >= 1);
    assert.ok(prepared.listenerCredentials.every((creds) => creds.every((c) => c.chain.length > 0)));
    for (const set of prepared.caSets.values()) assert.ok(set.anchors.length > 0, `${set.name} has anchors`);
  });
}

test("the scenario-specific parts are what the examples say", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-example-check-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(EXAMPLES, dir, { recursive: true });
  const load = (name: string) => {
    const file = join(dir, `${name}.yaml`);
    generatePki(readFileSync(file, "utf8"), dir);
    return prepareConfigFile(file);
  };
  const federation = load("federation");
  assert.equal(federation.clientCredentials.size, 2, "a client certificate per federation");
  assert.equal(federation.caRights?.unlistedCas, "deny");
  assert.equal(
    load("hosted").listenerCredentials[0]?.length,
    3,
    "one certificate per hosted domain, chosen by SNI",
  );
  assert.equal(load("devices").cnMapping?.entries.size, 2);
  assert.equal(load("enterprise").caSets.get("corporate")?.crls.length, 1);
  const bilateral = load("bilateral");
  assert.notEqual(bilateral.config.listeners[0]?.clientCaSet, bilateral.config.outbound?.serverCaSet);
});
