import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { ConfigError } from "../../../src/config/config-error.js";
import { ConfigStore } from "../../../src/config/config-store.js";

const ca = createCa({ cn: "Fed CA" });
const server = issueCertificate(ca, { cn: "edge", san: { uri: ["sip:edge.example"] }, eku: ["sipDomain"] });
const other = issueCertificate(ca, { cn: "other", san: { uri: ["sip:other.example"] } });

function workspace(files: Record<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-config-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const goodYaml = `
caSets:
  federation:
    files: [ca.pem]
listeners:
  - name: public
    port: 5061
    certificates:
      - { cert: edge.pem, key: edge.key }
    clientCertificates: required
    clientCaSet: federation
outbound:
  serverCaSet: federation
  clientCertificates:
    - { name: fed, cert: edge.pem, key: edge.key, domains: [peer.example] }
authorization:
  cnMappingFile: devices.map
`;

const goodFiles = {
  "ca.pem": ca.certificatePem,
  "edge.pem": server.certificatePem,
  "edge.key": server.privateKeyPem,
  "devices.map": "# devices\n00:11:22:33:44:55\talice@edge.example\n",
};

test("a good configuration loads every file it names, relative to the config file", (t) => {
  const ws = workspace({ ...goodFiles, "edge.yaml": goodYaml });
  t.after(ws.done);
  const prepared = prepareConfigFile(join(ws.dir, "edge.yaml"));
  assert.equal(prepared.caSets.get("federation")?.anchors.length, 1);
  assert.equal(prepared.listenerCredentials[0]?.[0]?.chain[0]?.subject, "CN=edge");
  assert.equal(prepared.clientCredentials.get("fed")?.chain.length, 1);
  assert.equal(prepared.cnMapping?.entries.size, 1);
  assert.equal(prepared.config.connections.onReload, "revalidate", "documented default");
  assert.equal(prepared.config.connections.idleTimeout, 300_000);
});

test("every broken file is reported at once, each with file, line and key", (t) => {
  const ws = workspace({
    ...goodFiles,
    "ca.pem": "this is not a certificate",
    "edge.key": other.privateKeyPem,
    "devices.map": "no-tab-here\n00:11\t\n",
    "edge.yaml": goodYaml,
  });
  t.after(ws.done);
  let error: ConfigError | undefined;
  try {
    prepareConfigFile(join(ws.dir, "edge.yaml"));
  } catch (err) {
    error = err as ConfigError;
  }
  assert.ok(error instanceof ConfigError, "refused");
  const byKey = new Map(error.problems.map((p) => [p.key, p]));
  assert.equal(byKey.get("caSets.federation.files[0]")?.line, 4);
  assert.equal(byKey.get("listeners[0].certificates[0].key")?.line, 9);
  assert.match(byKey.get("listeners[0].certificates[0].key")?.message ?? "", /match/i);
  assert.equal(byKey.get("outbound.clientCertificates[0].key")?.line, 15);
  const mapping = error.problems.filter((p) => p.file.endsWith("devices.map")).map((p) => p.line);
  assert.deepEqual(mapping, [1, 2]);
});

test("a missing file and a dangling CA set name are configuration errors", (t) => {
  const yaml = goodYaml
    .replace("files: [ca.pem]", "files: [missing.pem]")
    .replace("serverCaSet: federation", "serverCaSet: nope");
  const ws = workspace({ ...goodFiles, "edge.yaml": yaml });
  t.after(ws.done);
  assert.throws(
    () => prepareConfigFile(join(ws.dir, "edge.yaml")),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => [p.key, p.line]),
        [["outbound.serverCaSet", 13]],
        "schema problems are reported before any file is read",
      );
      return true;
    },
  );
  const ws2 = workspace({
    ...goodFiles,
    "edge.yaml": goodYaml.replace("files: [ca.pem]", "files: [missing.pem]"),
  });
  t.after(ws2.done);
  assert.throws(
    () => prepareConfigFile(join(ws2.dir, "edge.yaml")),
    /caSets\.federation\.files\[0\]: cannot read .*ENOENT/,
  );
});

test("a listener that asks for client certificates must name a CA set", (t) => {
  const ws = workspace({ ...goodFiles, "edge.yaml": goodYaml.replace("    clientCaSet: federation\n", "") });
  t.after(ws.done);
  assert.throws(
    () => prepareConfigFile(join(ws.dir, "edge.yaml")),
    /listeners\[0\]\.clientCaSet: required when clientCertificates is required/,
  );
});

test("reload swaps a good configuration and keeps the old one on a bad one", (t) => {
  const ws = workspace({ ...goodFiles, "edge.yaml": goodYaml });
  t.after(ws.done);
  const file = join(ws.dir, "edge.yaml");
  const store = new ConfigStore(prepareConfigFile(file), () => prepareConfigFile(file));
  const swaps: number[] = [];
  store.onSwap((_next, generation) => swaps.push(generation));
  const original = store.current;

  writeFileSync(join(ws.dir, "edge.key"), "garbage");
  const refused = store.reload();
  assert.equal(refused.ok, false);
  assert.equal(refused.generation, 1);
  assert.equal(store.current, original, "the old configuration still serves");
  assert.equal(store.failedReloads, 1);

  writeFileSync(join(ws.dir, "edge.key"), server.privateKeyPem);
  writeFileSync(join(ws.dir, "edge.pem"), server.certificatePem);
  const done = store.reload();
  assert.deepEqual(done, { ok: true, code: "reloaded", generation: 2 });
  assert.notEqual(store.current, original);
  assert.deepEqual(swaps, [2]);
});
