// `siptrust cert verify`: exit codes 0/1/2, the JSON contract, CRL and time options, human output.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { EXIT_USAGE, UsageError } from "../../../src/cli/exit.js";
import { cliOutput } from "../../../src/cli/commands/cert.js";
import { registerCertVerifyCommand } from "../../../src/cli/commands/cert-verify.js";
import { issueCertificate } from "../../../src/pki/issue.js";
import { daysFromNow, makeCrl, serialOf, threeLevels } from "../pki/chain-fixtures.js";

let dir = "";
const f: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "siptrust-cert-verify-"));
  const pki = threeLevels({ leaf: { eku: ["clientAuth"] } });
  const revoked = issueCertificate(pki.int, { cn: "revoked.example.com" });
  const crlPem = (der: Buffer) =>
    `-----BEGIN X509 CRL-----\n${der.toString("base64")}\n-----END X509 CRL-----\n`;
  const files: Record<string, string | Buffer> = {
    root: pki.root.certificatePem,
    int: pki.int.certificatePem,
    leaf: pki.leaf.certificatePem,
    leafWithChain: pki.leaf.certificatePem + pki.int.certificatePem,
    revoked: revoked.certificatePem,
    crls:
      crlPem(makeCrl(pki.int, { revoked: [{ serialHex: serialOf(revoked.certificate), reason: 1 }] })) +
      crlPem(makeCrl(pki.root)),
    rootCrlDer: makeCrl(pki.root),
    expiredIntCrl: crlPem(makeCrl(pki.int, { thisUpdate: daysFromNow(-9), nextUpdate: daysFromNow(-2) })),
    garbage: "garbage\n",
  };
  for (const [name, content] of Object.entries(files)) {
    f[name] = join(dir, `${name}.pem`);
    await writeFile(f[name], content);
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const program = new Command("siptrust").exitOverride();
  program.configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
  registerCertVerifyCommand(program);
  const saved = { ...cliOutput };
  const savedExit = process.exitCode;
  cliOutput.out = (s) => void (stdout += s);
  cliOutput.err = (s) => void (stderr += s);
  process.exitCode = undefined;
  try {
    await program.parseAsync(["cert", "verify", ...args], { from: "user" });
    return { code: process.exitCode === undefined ? 0 : Number(process.exitCode), stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : EXIT_USAGE, stdout, stderr };
    if (err instanceof UsageError) return { code: EXIT_USAGE, stdout, stderr: stderr + err.message };
    throw err;
  } finally {
    Object.assign(cliOutput, saved);
    process.exitCode = savedExit;
  }
}

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe("siptrust cert verify", () => {
  it("valid chain: exit 0, JSON { ok, code, detail, chain } leaf first", async () => {
    const r = await verify(f.leaf as string, "--ca", f.root as string, "--chain", f.int as string, "--json");
    assert.equal(r.code, 0, r.stderr);
    const out = json(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), ["chain", "code", "detail", "ok"]);
    assert.equal(out.ok, true);
    assert.equal(out.code, "valid");
    assert.deepEqual(out.chain, ["CN=sip.example.com", "CN=Test Int", "CN=Test Root"]);
  });

  it("intermediates may follow the leaf in its own file", async () => {
    const r = await verify(f.leafWithChain as string, "--ca", f.root as string, "--json");
    assert.equal(r.code, 0);
  });

  it("invalid chain: exit 1 with code, detail and depth", async () => {
    const r = await verify(f.leaf as string, "--ca", f.root as string, "--json");
    assert.equal(r.code, 1);
    const out = json(r.stdout);
    assert.deepEqual([out.ok, out.code, out.depth], [false, "unknown-issuer", 0]);
    assert.equal(typeof out.detail, "string");
    assert.deepEqual(out.chain, ["CN=sip.example.com"]);
  });

  it("--purpose applies RFC 5924 §4 to the leaf", async () => {
    const base = [f.leaf as string, "--ca", f.root as string, "--chain", f.int as string, "--json"];
    assert.equal((await verify(...base, "--purpose", "client")).code, 0);
    const server = await verify(...base, "--purpose", "server");
    assert.equal(server.code, 1);
    assert.equal(json(server.stdout).code, "eku");
    assert.equal((await verify(...base, "--purpose", "proxy")).code, 2);
  });

  it("--crl: revoked leaf exits 1 with the reason; repeated and variadic --crl both work", async () => {
    const r = await verify(
      f.revoked as string,
      "--ca",
      f.root as string,
      "--chain",
      f.int as string,
      "--crl",
      f.crls as string,
      "--json",
    );
    assert.equal(r.code, 1);
    assert.deepEqual([json(r.stdout).code, json(r.stdout).reason], ["revoked", "keyCompromise"]);
    const ok = await verify(
      f.leaf as string,
      "--ca",
      f.root as string,
      "--chain",
      f.int as string,
      "--crl",
      f.crls as string,
    );
    assert.equal(ok.code, 0);
    const expired = await verify(
      f.leaf as string,
      "--ca",
      f.root as string,
      "--chain",
      f.int as string,
      "--crl",
      f.expiredIntCrl as string,
      f.rootCrlDer as string,
      "--json",
    );
    assert.equal(json(expired.stdout).code, "crl-expired");
  });

  it("--at moves the validation time", async () => {
    const base = [f.leaf as string, "--ca", f.root as string, "--chain", f.int as string, "--json"];
    const later = await verify(...base, "--at", daysFromNow(800).toISOString());
    assert.equal(later.code, 1);
    assert.equal(json(later.stdout).code, "expired");
    assert.equal((await verify(...base, "--at", "not-a-time")).code, 2);
  });

  it("usage and unreadable input exit 2: missing --ca, missing file, garbage, bad CRL", async () => {
    assert.equal((await verify(f.leaf as string)).code, 2);
    assert.equal((await verify(join(dir, "missing.pem"), "--ca", f.root as string)).code, 2);
    assert.equal((await verify(f.garbage as string, "--ca", f.root as string)).code, 2);
    assert.equal((await verify(f.leaf as string, "--ca", f.garbage as string)).code, 2);
    const badCrl = await verify(f.leaf as string, "--ca", f.root as string, "--crl", f.garbage as string);
    assert.equal(badCrl.code, 2);
    assert.match(badCrl.stderr, /bad-crl/);
  });

  it("human output names the verdict and lists the chain by depth", async () => {
    const r = await verify(f.leaf as string, "--ca", f.root as string, "--chain", f.int as string);
    assert.match(r.stdout, /^valid: /);
    assert.match(r.stdout, / {2}2: CN=Test Root/);
  });

  it("is registered in the siptrust program (bin/siptrust.js): exit codes end to end", () => {
    const bin = join(import.meta.dirname, "../../../bin/siptrust.js");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, "cert", "verify", ...args], { timeout: 30_000 });
    assert.equal(run(f.leaf as string, "--ca", f.root as string, "--chain", f.int as string).status, 0);
    assert.equal(run(f.leaf as string, "--ca", f.root as string).status, 1);
  });
});
