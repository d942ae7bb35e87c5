import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";

const BIN = resolve(import.meta.dirname, "../../../bin/siptrust.js");
const ca = createCa();
const edge = issueCertificate(ca, { cn: "edge", san: { uri: ["sip:edge.example"] } });
const stranger = issueCertificate(ca, { cn: "stranger" });

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("siptrust config check: 0 for a usable file, 1 with every problem, 2 for a missing file", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-config-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const yaml =
    "caSets:\n  c:\n    files: [ca.pem]\nlisteners:\n  - name: l\n    certificates:\n      - { cert: edge.pem, key: edge.key }\n    clientCaSet: c\n";
  writeFileSync(join(dir, "edge.yaml"), yaml);
  writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
  writeFileSync(join(dir, "edge.pem"), edge.certificatePem);
  writeFileSync(join(dir, "edge.key"), edge.privateKeyPem);
  const ok = run(["config", "check", join(dir, "edge.yaml"), "--json"]);
  assert.equal(ok.code, 0);
  assert.deepEqual(JSON.parse(ok.stdout), { ok: true, listeners: 1, caSets: ["c"], clientCertificates: [] });

  writeFileSync(join(dir, "edge.key"), stranger.privateKeyPem);
  writeFileSync(join(dir, "ca.pem"), "garbage");
  const bad = run(["config", "check", join(dir, "edge.yaml")]);
  assert.equal(bad.code, 1);
  const lines = bad.stdout.trim().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? "", /edge\.yaml:3: caSets\.c\.files\[0\]: /);
  assert.match(lines[1] ?? "", /edge\.yaml:7: listeners\[0\]\.certificates\[0\]\.key: .*does not match/);

  assert.equal(run(["config", "check", join(dir, "missing.yaml")]).code, 2);
});
