/**
 * The proxy's part of the configuration as the daemon prepares it: every problem of the proxy, accounting,
 * admin and outbound sections listed at once with file:line:key, and the prepared file turned into the
 * settings EdgeProxy serves with (timers in ms, per-worker ports, command-line overrides).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { ConfigError } from "../../../src/config/config-error.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { proxySettings } from "../../../src/config/edge-source.js";

function setup(t: { after: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-proxy-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createCa();
  const leaf = issueCertificate(ca, { cn: "edge.test", san: { uri: ["sip:edge.test"] } });
  writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
  writeFileSync(join(dir, "edge.pem"), leaf.certificatePem);
  writeFileSync(join(dir, "edge.key"), leaf.privateKeyPem);
  return dir;
}

const BASE = `caSets:
  dev: { files: [ca.pem] }
listeners:
  - name: tls
    port: 5061
    certificates: [{ cert: edge.pem, key: edge.key }]
    clientCaSet: dev
`;

function problemsOf(file: string): Array<{ line: number; key: string; message: string }> {
  try {
    prepareConfigFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => ({ line: p.line, key: p.key, message: p.message }));
  }
  assert.fail("the configuration was accepted");
}

test("routing rules: a bad regex and an unknown inner group are both reported with their lines", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(
    file,
    `${BASE}proxy:
  routing:
    - { match: { from: { regex: "(" } }, forward: default }
    - { forward: nowhere }
`,
  );
  const problems = problemsOf(file);
  const at = (key: string) => problems.find((p) => p.key.startsWith(key));
  assert.equal(at("proxy.routing[0]")?.line, 10, JSON.stringify(problems));
  assert.match(at("proxy.routing[0]")?.message ?? "", /regular expression/);
  assert.equal(at("proxy.routing[1]")?.line, 11, JSON.stringify(problems));
  assert.match(at("proxy.routing[1]")?.message ?? "", /nowhere/);
});

test("accounting folder, admin token file and outbound certificate table problems are listed at once", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(
    file,
    `${BASE}accounting:
  file: missing-folder/accounting.jsonl
admin:
  tokenFile: no-such-token
outbound:
  serverCaSet: dev
  clientCertificates:
    - { name: a, cert: edge.pem, key: edge.key, domains: [peer.test] }
    - { name: b, cert: edge.pem, key: edge.key, domains: [peer.test] }
`,
  );
  const problems = problemsOf(file);
  const at = (key: string) => problems.find((p) => p.key.startsWith(key));
  assert.equal(at("accounting.file")?.line, 9, JSON.stringify(problems));
  assert.match(at("accounting.file")?.message ?? "", /not writable/);
  assert.equal(at("admin.tokenFile")?.line, 11);
  assert.match(at("admin.tokenFile")?.message ?? "", /cannot read/);
  assert.equal(at("outbound.clientCertificates")?.line, 14);
  assert.match(at("outbound.clientCertificates")?.message ?? "", /peer\.test/);
});

test("an empty admin token file is refused; a token is read and trimmed", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(join(dir, "token"), "\n");
  writeFileSync(file, `${BASE}admin:\n  tokenFile: token\n`);
  assert.match(problemsOf(file)[0]?.message ?? "", /empty/);
  writeFileSync(join(dir, "token"), "s3cret-token\n");
  assert.equal(prepareConfigFile(file).adminToken, "s3cret-token");
});

test("a bad trusted identity or CA fingerprint in authorization is a problem with its key", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(file, `${BASE}authorization:\n  trustedCaFingerprints: [not-a-fingerprint]\n`);
  const problems = problemsOf(file);
  assert.equal(problems[0]?.key, "authorization.trustedCaFingerprints[0]");
  assert.equal(problems[0]?.line, 9);
});

test("prepared settings: defaults, timers in ms, worker port offset and overrides", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(
    file,
    `${BASE}proxy:
  inside: { address: 127.0.0.2, port: 6080, transport: tcp }
  timers: { t1: 250ms, timerC: 200s }
accounting: { file: acct.jsonl }
`,
  );
  const prepared = prepareConfigFile(file);
  const plain = proxySettings(prepared);
  assert.deepEqual(plain.inside, { host: "127.0.0.2", port: 6080, transport: "tcp" });
  assert.deepEqual(plain.timers, { t1Ms: 250, t2Ms: 4000, t4Ms: 5000, timerCMs: 200_000 });
  assert.deepEqual([...plain.innerServers.keys()], ["default"]);
  assert.equal(plain.identityHeader, "X-Siptrust-Identity");
  assert.equal(plain.accounting?.file, join(dir, "acct.jsonl"));
  assert.deepEqual(plain.admin, { host: "127.0.0.1", port: 8061 });
  assert.equal(plain.outbound, undefined, "no outbound section, no outbound side");

  const worker2 = proxySettings(prepared, { portOffset: 2 });
  assert.equal(worker2.inside.port, 6082);
  assert.equal(worker2.admin?.port, 8063);

  const overridden = proxySettings(prepared, {
    inside: { host: "127.0.0.1", port: 0 },
    admin: null,
    portOffset: 3,
  });
  assert.deepEqual(
    overridden.inside,
    { host: "127.0.0.1", port: 0, transport: "tcp" },
    "port 0 is not shifted",
  );
  assert.equal(overridden.admin, undefined);
});

test("an outbound section yields the trust the outbound connections need", (t) => {
  const dir = setup(t);
  const file = join(dir, "edge.yaml");
  writeFileSync(
    file,
    `${BASE}outbound:
  serverCaSet: dev
  resolver: 127.0.0.1:53
  clientCertificates:
    - { name: a, cert: edge.pem, key: edge.key, domains: [peer.test] }
  defaultClientCertificate: a
`,
  );
  const settings = proxySettings(prepareConfigFile(file));
  const outbound = settings.outbound;
  assert.ok(outbound);
  assert.equal(outbound.trust.anchors.length, 1);
  assert.equal(outbound.trust.clientCredentials.byDomain.get("peer.test")?.name, "a");
  assert.equal(outbound.trust.clientCredentials.fallback?.name, "a");
  assert.equal(outbound.onReload, "revalidate");
  assert.equal(outbound.limits.handshakeTimeoutMs, 10_000);
});
