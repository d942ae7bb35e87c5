/**
 * CPU-time microbenchmark of the inbound accept path's verification (issue 6 §5 support; not a test):
 * `verifyClientChain` — RFC 5280 path validation, the RFC 5924 EKU rule and identity extraction — as the TLS
 * listener runs it once per handshake. Every iteration builds fresh X509Certificate objects from the DER the
 * peer sent (as peer-chain.ts does per connection); the anchors are long-lived, as they are in a config.
 *
 * Scenarios: "leaf→CA" (the client sends its leaf, the anchor is its issuer: the bench:tls case) and
 * "leaf+int→root" (the client sends leaf and intermediate), both a peer that reconnects with the same
 * certificate, and "leaf→CA, N peers": more distinct leaves than the parse and signature caches hold, so
 * every verification is cold. Each prints CPU µs per verification
 * (process.cpuUsage, user + system; median of several samples, after a warm-up) and, separately, what decoding
 * the presented certificates into fresh X509Certificate objects cost (peer-chain.ts no longer does that: it
 * wraps the certificates OpenSSL decoded in the handshake).
 * Options: --samples N (default 7), --sample-ms MS (default 700).
 */
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate } from "../src/pki/issue.js";
import { verifyClientChain, type ClientVerificationPolicy } from "../src/tls/client-verification.js";

interface Scenario {
  readonly name: string;
  /** Chains to cycle through: DER of the certificates as sent, leaf first. */
  readonly presented: ReadonlyArray<readonly Buffer[]>;
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
  // More distinct peers than pki/parsed-cert.ts and pki/chain.ts cache: every verification is a cold one.
  const strangers = Array.from({ length: COLD_PEERS }, (_, i) => [
    issueCertificate(root, { cn: `peer${i}`, san: { uri: [`sip:peer${i}.example`] }, eku: ["clientAuth"] })
      .certificate.raw,
  ]);
  const anchors = [{ cert: new X509Certificate(root.certificatePem) }];
  const policy: ClientVerificationPolicy = { mode: "required", anchors };
  return [
    { name: "leaf→CA", presented: [[leaf.certificate.raw]], policy },
    { name: "leaf+int→root", presented: [[leaf2.certificate.raw, intermediate.certificate.raw]], policy },
    { name: `leaf→CA, ${COLD_PEERS} peers`, presented: strangers, policy },
  ];
}

const COLD_PEERS = 1500;
let turn = 0;

function fresh(s: Scenario, count: number): X509Certificate[][] {
  return Array.from({ length: count }, () =>
    (s.presented[turn++ % s.presented.length] ?? []).map((der) => new X509Certificate(der)),
  );
}

function verify(s: Scenario, chain: readonly X509Certificate[]): void {
  const verdict = verifyClientChain(chain, s.policy);
  if (verdict.code !== "client-verified") throw new Error(`${s.name}: ${verdict.code}`);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const BATCH = 200;

/**
 * µs of CPU per verification, median of `samples` samples. The fresh X509Certificate objects of a batch are
 * made outside the timed region (their cost, OpenSSL's decode, is reported separately as "x509 decode").
 */
function measure(s: Scenario, samples: number, sampleMs: number): { verifyUs: number; decodeUs: number } {
  for (const chain of fresh(s, 500)) verify(s, chain);
  const verifyUs: number[] = [];
  const decodeUs: number[] = [];
  for (let k = 0; k < samples; k++) {
    let verifyUsed = 0;
    let decodeUsed = 0;
    let ops = 0;
    const end = Date.now() + sampleMs;
    while (Date.now() < end) {
      const t0 = cpuMicros();
      const chains = fresh(s, BATCH);
      const t1 = cpuMicros();
      for (const chain of chains) verify(s, chain);
      const t2 = cpuMicros();
      decodeUsed += t1 - t0;
      verifyUsed += t2 - t1;
      ops += BATCH;
    }
    verifyUs.push(verifyUsed / ops);
    decodeUs.push(decodeUsed / ops);
  }
  return { verifyUs: median(verifyUs), decodeUs: median(decodeUs) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const samples = option("samples", 7);
const sampleMs = option("sample-ms", 700);
console.log(
  `verifyClientChain CPU microbenchmark (Node ${process.version}; median of ${samples} × ${sampleMs} ms)`,
);
for (const s of scenarios()) {
  const r = measure(s, samples, sampleMs);
  console.log(
    `  ${s.name.padEnd(22)} verify ${r.verifyUs.toFixed(1).padStart(6)} µs/op ` +
      `(${(1e6 / r.verifyUs).toFixed(0)} ops/CPU-s)   x509 decode of the presented certs ${r.decodeUs.toFixed(1)} µs`,
  );
}
