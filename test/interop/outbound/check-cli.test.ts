// `siptrust check` (issue 5 §4) as a person runs it: the real CLI process against the DNSSEC lab and the TLS
// test servers of world.ts; the human report names each step and verdict, `--json` keeps its contract, and
// the exit code says verified (0), not verified (1) or usage error (2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runCli } from "../../../src/cli/program.js";
import { startWorld, type World } from "./world.js";

const BIN = fileURLToPath(new URL("../../../bin/siptrust.js", import.meta.url));
/** Generous: each run starts tsx and compiles the CLI, which is slow on a loaded machine. */
const CLI_TIMEOUT_MS = 60_000;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function siptrust(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: CLI_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** runCli with stderr captured; commander's own usage messages go there too. */
async function runInProcess(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  const exitCode = process.exitCode;
  try {
    const code = await runCli([...args]);
    return { code, stderr: chunks.join("") };
  } finally {
    process.stderr.write = write;
    process.exitCode = exitCode;
  }
}

function checkArgs(world: World, uri: string, ...extra: string[]): string[] {
  return [
    "check",
    uri,
    "--resolver",
    world.resolverAddress,
    "--ca",
    world.caFile,
    "--timeout",
    "3000",
    ...extra,
  ];
}

test("siptrust check against the DNSSEC lab", { timeout: 300_000 }, async (t) => {
  const world = await startWorld();
  t.after(() => world.stop());

  await t.test(
    "human output: DNS chain with marks and TTLs, both targets, the matched TLSA, the verdict",
    async () => {
      const run = await siptrust(checkArgs(world, "sips:alice@fo.test"));
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const out = run.stdout;
      assert.match(out, /\[secure\] NAPTR fo\.test ttl=\d+: fo\.test\. \d+ IN NAPTR 10 50 "s" "SIPS\+D2T"/);
      assert.match(out, /\[secure\] SRV _sips\._tcp\.fo\.test ttl=\d+/);
      assert.match(out, /delegation: secure/);
      assert.match(out, /Target 1: 127\.0\.0\.22:\d+\/tls \(SRV a\.fo\.test\), secure path, SNI a\.fo\.test/);
      assert.match(out, /FAILED by dane-ee: dane-no-match/);
      assert.match(out, /Target 2: 127\.0\.0\.23:\d+\/tls \(SRV b\.fo\.test\), secure path, SNI b\.fo\.test/);
      assert.match(out, /#0 3 1 1 [0-9a-f]{64} {3}<- matched at depth 0/);
      assert.match(out, /TLS TLSv1\.[23] \S+/);
      assert.match(out, /Verdict: OK, 127\.0\.0\.23:\d+ verified by dane-ee \(dane-ee-match\)/);
      t.diagnostic(`sample output:\n${out}`);
    },
  );

  await t.test("--json keeps the issue 5 §4 contract", async () => {
    const seen = world.servers.notlsa.clientCertificates.length;
    const { certFile, keyFile } = world.client;
    const run = await siptrust(
      checkArgs(world, "sips:bob@notlsa.test", "--json", "--client-cert", certFile, "--client-key", keyFile),
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(json.uri, "sips:bob@notlsa.test");
    assert.equal(json.domain, "notlsa.test");
    assert.equal(json.delegation, "secure");
    const steps = json.steps as Array<Record<string, unknown>>;
    for (const step of steps) {
      assert.deepEqual(
        ["name", "type", "status", "ttl", "answers"].filter((k) => !(k in step)),
        [],
        JSON.stringify(step),
      );
      assert.ok(Array.isArray(step.answers));
      assert.equal(typeof step.ttl, "number");
    }
    assert.ok(
      steps.some((s) => s.type === "TLSA" && s.status === "secure" && (s.answers as []).length === 0),
    );
    const targets = json.targets as Array<Record<string, unknown>>;
    assert.equal(targets.length, 1);
    const target = targets[0] as Record<string, unknown>;
    assert.equal(target.host, world.servers.notlsa.host);
    assert.equal(target.port, world.servers.notlsa.port);
    assert.equal(target.transport, "tls");
    assert.equal(target.sni, "sip.notlsa.test");
    assert.deepEqual(target.tlsa, []);
    const tls = target.tls as Record<string, unknown>;
    assert.match(String(tls.version), /^TLSv1\.[23]$/);
    assert.equal(typeof tls.cipher, "string");
    assert.deepEqual(target.identities, [{ kind: "domain", value: "notlsa.test", source: "san-uri" }]);
    const verification = target.verification as Record<string, unknown>;
    assert.deepEqual(
      [verification.ok, verification.method, verification.code],
      [true, "rfc5922", "rfc5922-match"],
    );
    assert.equal(typeof verification.detail, "string");
    assert.deepEqual(json.result, {
      ok: true,
      host: world.servers.notlsa.host,
      port: world.servers.notlsa.port,
      method: "rfc5922",
      code: "rfc5922-match",
      detail: verification.detail,
    });
    assert.deepEqual(world.servers.notlsa.clientCertificates.slice(seen), ["edge.client.test"]);
  });

  await t.test("exit 1 when nothing verifies (wrong identity; bogus zone), with what to change", async () => {
    const wrong = await siptrust(checkArgs(world, "sips:plainfail.test"));
    const bogus = await siptrust(checkArgs(world, "sips:bogus.test", "--json"));
    assert.equal(wrong.code, 1, wrong.stderr + wrong.stdout);
    assert.match(wrong.stdout, /Verdict: FAILED \(rfc5922-no-match\)/);
    assert.match(wrong.stdout, /What to change: the server certificate must name the SIP domain/);
    assert.equal(bogus.code, 1, bogus.stderr + bogus.stdout);
    const json = JSON.parse(bogus.stdout) as {
      delegation: string;
      targets: unknown[];
      result: { code: string };
    };
    assert.deepEqual([json.delegation, json.targets.length, json.result.code], ["bogus", 0, "dns-bogus"]);
  });

  await t.test(
    "exit 2 for usage errors: a tel: URI, an unreadable --ca, a bad --resolver, a lone or wrong --client-key",
    async () => {
      const cases = [
        ["check", "tel:+15551234567"],
        checkArgs(world, "sips:ee.test").map((a) => (a === world.caFile ? "/nonexistent/ca.pem" : a)),
        ["check", "sips:ee.test", "--resolver", "not-an-address"],
        ["check", "sips:ee.test", "--client-cert", world.client.certFile],
        ["check", "sips:ee.test", "--client-cert", world.client.certFile, "--client-key", world.caFile],
      ];
      // In-process: argument handling needs no child process, and five tsx start-ups cost more than the test.
      for (const args of cases) {
        const run = await runInProcess(args);
        assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        assert.match(run.stderr, /^siptrust: /);
      }
    },
  );
});
