/**
 * CPU-time microbenchmark of the inbound accept path's verification (issue 6 §5 support; not a test):
 * `verifyClientChain` — RFC 5280 path validation, the RFC 5924 EKU rule and identity extraction — as the TLS
 * listener runs it once per handshake. Every iteration builds fresh X509Certificate objects from the DER the
 * peer sent (as peer-chain.ts does per connection); the anchors are long-lived, as they are in a config.
 *
 * Scenarios: "leaf→CA" (the client sends its leaf, the anchor is its issuer: the bench:tls case) and
 * "leaf+int→root" (the client sends leaf and intermediate). Each prints operations per CPU-second
 * (process.cpuUsage, user + system) and µs per operation, after a warm-up.
 * Options: --seconds S per scenario (default 3).
 */
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate } from "../src/pki/issue.js";
import { verifyClientChain, type ClientVerificationPolicy } from "../src/tls/client-verification.js";

interface Scenario {
  readonly name: string;
  /** DER of the certificates as sent, leaf first. */
  readonly presented: readonly Buffer[];
  readonly policy: ClientVerificationPolicy;
}

function scenarios(): Scenario[] {
  const root = createCa({ cn: "Bench Root" });
  const leaf = issueCertificate(root, {
    cn: "peer",
    san: { uri: ["sip:peer.example"] },
    eku: ["clientAuth"],
  });
  const intermediate = issueCertificate(root, {
    cn: "Bench Intermediate",
    basicConstraints: { ca: true, critical: true },
    keyUsage: ["keyCertSign", "cRLSign", "digitalSignature"],
  });
  const leaf2 = issueCertificate(intermediate, {
    cn: "peer2",
    san: { uri: ["sip:peer2.example"], dns: ["peer2.example"] },
    eku: ["clientAuth"],
  });
  const anchors = [{ cert: new X509Certificate(root.certificatePem) }];
  const policy: ClientVerificationPolicy = { mode: "required", anchors };
  return [
    { name: "leaf→CA", presented: [leaf.certificate.raw], policy },
    { name: "leaf+int→root", presented: [leaf2.certificate.raw, intermediate.certificate.raw], policy },
  ];
}

function once(s: Scenario): void {
  const chain = s.presented.map((der) => new X509Certificate(der));
  const verdict = verifyClientChain(chain, s.policy);
  if (verdict.code !== "client-verified") throw new Error(`${s.name}: ${verdict.code}`);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function run(s: Scenario, seconds: number): { opsPerCpuSecond: number; usPerOp: number } {
  for (let i = 0; i < 500; i++) once(s);
  const start = cpuMicros();
  const wallEnd = Date.now() + seconds * 1000;
  let ops = 0;
  while (Date.now() < wallEnd) {
    for (let i = 0; i < 50; i++) once(s);
    ops += 50;
  }
  const used = cpuMicros() - start;
  return { opsPerCpuSecond: (ops * 1e6) / used, usPerOp: used / ops };
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const seconds = option("seconds", 3);
console.log(`verifyClientChain CPU microbenchmark (Node ${process.version}, ${seconds} s per scenario)`);
for (const s of scenarios()) {
  const r = run(s, seconds);
  console.log(
    `  ${s.name.padEnd(14)} ${r.opsPerCpuSecond.toFixed(0).padStart(7)} ops/CPU-s  ${r.usPerOp.toFixed(1)} µs/op`,
  );
}
