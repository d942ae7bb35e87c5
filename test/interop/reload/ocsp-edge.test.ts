/**
 * OCSP wired through the configuration (issue 6 §1, DESIGN.md "Revocation and reload") against the real
 * `openssl ocsp` responder of the OCSP lab: client certificates on a TlsEdge listener by policy (and the
 * policy changed by a reload), our own server certificate stapled (`ocsp.staple`) as seen by
 * `openssl s_client -status`, and the outbound procedure refusing a server whose certificate is revoked.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { ConfigStore } from "../../../src/config/config-store.js";
import { edgeSource } from "../../../src/config/edge-source.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { TlsEdge, silentEdgeLogger } from "../../../src/transport/edge-runtime.js";
import { verifyOutbound, type OutboundResolver } from "../../../src/tls/outbound.js";
import { startOcspLab, type LeafName, type OcspLab } from "../ocsp/ocsp-lab.js";
import { freePort } from "../../unit/transport/edge-world.js";

const TIMEOUT = { timeout: 90_000 };

interface EdgeWorld {
  readonly dir: string;
  readonly edge: TlsEdge;
  readonly port: number;
  writeConfig(policy: string, staple: boolean): void;
}

async function startEdge(t: TestContext, lab: OcspLab, policy: string, staple: boolean): Promise<EdgeWorld> {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-ocsp-edge-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = lab.leaves.serverGood;
  writeFileSync(join(dir, "ca.pem"), lab.ca.certificatePem);
  // The issuer follows the leaf: stapling needs it for the CertID (RFC 6960 §4.1.1).
  writeFileSync(join(dir, "server.pem"), server.certificatePem + lab.ca.certificatePem);
  writeFileSync(join(dir, "server.key"), server.privateKeyPem);
  const port = await freePort();
  const file = join(dir, "edge.yaml");
  const writeConfig = (p: string, s: boolean) =>
    writeFileSync(
      file,
      [
        "caSets:",
        "  lab: { files: [ca.pem] }",
        "listeners:",
        `  - { name: outside, port: ${port}, certificates: [{ cert: server.pem, key: server.key }], clientCertificates: optional, clientCaSet: lab }`,
        `ocsp: { policy: ${p}, staple: ${s}, timeout: 8s }`,
        "",
      ].join("\n"),
    );
  writeConfig(policy, staple);
  const store = new ConfigStore(prepareConfigFile(file), () => prepareConfigFile(file));
  const edge = new TlsEdge(edgeSource(store), { logger: silentEdgeLogger });
  t.after(() => edge.close());
  await edge.start();
  return { dir, edge, port, writeConfig };
}

/** Connects as a lab leaf; resolves whether the edge kept the connection (it answers CRLFCRLF with CRLF). */
function acceptedAs(port: number, leaf: LeafName, lab: OcspLab): Promise<boolean> {
  return new Promise((resolve) => {
    const g = lab.leaves[leaf];
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      cert: g.certificatePem,
      key: g.privateKeyPem,
      rejectUnauthorized: false,
    });
    socket.setTimeout(20_000, () => socket.destroy());
    socket.on("error", () => undefined);
    socket.once("secureConnect", () => socket.write("\r\n\r\n"));
    socket.once("data", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("close", () => resolve(false));
  });
}

test("client certificates are checked by OCSP policy; a reload changes the policy", TIMEOUT, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  const w = await startEdge(t, lab, "soft-fail", false);
  assert.equal(await acceptedAs(w.port, "good", lab), true, "good");
  assert.equal(await acceptedAs(w.port, "revoked", lab), false, "revoked is refused");
  assert.equal(await acceptedAs(w.port, "unknown", lab), false, "unknown is refused also under soft-fail");
  assert.equal(await acceptedAs(w.port, "unreachable", lab), true, "soft-fail tolerates no answer");
  assert.equal(w.edge.counters.get("tls.client.ocsp.ocsp-revoked"), 1);
  assert.equal(w.edge.counters.get("tls.client.ocsp.ocsp-soft-fail"), 1);

  w.writeConfig("hard-fail", false);
  assert.equal(w.edge.reload().ok, true);
  assert.equal(await acceptedAs(w.port, "unreachable", lab), false, "hard-fail refuses no answer");
  assert.equal(await acceptedAs(w.port, "good", lab), true);

  w.writeConfig("off", false);
  assert.equal(w.edge.reload().ok, true);
  assert.equal(await acceptedAs(w.port, "revoked", lab), true, "off checks nothing");
});

function sClientStatus(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      ["s_client", "-status", "-connect", `127.0.0.1:${port}`, "-servername", "server-good.example.com"],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err && !stdout.includes("CONNECTED")) reject(new Error(`s_client: ${err.message} ${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end();
  });
}

function stapleSeen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
      requestOCSP: true,
    } as tls.ConnectionOptions);
    let seen = false;
    socket.once("OCSPResponse", (r: Buffer | null) => (seen = (r?.length ?? 0) > 0));
    socket.once("secureConnect", () => {
      socket.destroy();
      resolve(seen);
    });
    socket.once("error", () => resolve(false));
  });
}

test(
  "`ocsp.staple` staples our certificate's status; `openssl s_client -status` sees it",
  TIMEOUT,
  async (t) => {
    const lab = await startOcspLab();
    t.after(() => lab.stop());
    const w = await startEdge(t, lab, "off", true);
    const deadline = Date.now() + 20_000;
    while (!(await stapleSeen(w.port))) {
      assert.ok(Date.now() < deadline, "a staple within 20 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    const out = await sClientStatus(w.port);
    assert.match(out, /OCSP Response Status: successful/);
    assert.match(out, /Cert Status: good/);
    assert.ok(w.edge.counters.get("ocsp.staple.refreshed") >= 1);

    // A reload that turns stapling off stops it for new handshakes.
    w.writeConfig("off", false);
    assert.equal(w.edge.reload().ok, true);
    assert.equal(await stapleSeen(w.port), false);
  },
);

test("a reload with `staple: true` for a certificate without its issuer is refused", TIMEOUT, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  const w = await startEdge(t, lab, "off", false);
  // The cert file now holds only the leaf: no CertID can be built, so stapling cannot be honoured.
  writeFileSync(join(w.dir, "server.pem"), lab.leaves.serverGood.certificatePem);
  w.writeConfig("off", true);
  const result = w.edge.reload();
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.problems[0]?.key, "listeners[0].certificates[0].cert");
  assert.match(result.problems[0]?.message ?? "", /cannot staple/);
  assert.equal(w.edge.generation, 1);
  assert.equal(await stapleSeen(w.port), false, "still the old generation (no stapling)");
});

function fixedResolver(port: number): OutboundResolver {
  return {
    locate: async () => ({
      delegation: "insecure",
      targets: [{ address: "127.0.0.1", port, transport: "tls" }],
      steps: [],
    }),
    lookupTlsa: async () => ({ status: "insecure", records: [], steps: [] }),
  };
}

async function tlsServer(t: TestContext, lab: OcspLab, leaf: LeafName): Promise<number> {
  const g = lab.leaves[leaf];
  const server = tls.createServer(
    { cert: g.certificatePem + lab.ca.certificatePem, key: g.privateKeyPem },
    // The client closes: a server that hung up at once could look like a refused client certificate.
    (s) => s.on("error", () => undefined),
  );
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

test("outbound: a server whose certificate is revoked is refused by OCSP policy", TIMEOUT, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  const cases: Array<[LeafName, string, "off" | "soft-fail", boolean, string]> = [
    ["serverGood", "server-good.example.com", "soft-fail", true, "ocsp-good"],
    ["serverRevoked", "server-revoked.example.com", "soft-fail", false, "ocsp-revoked"],
    ["serverRevoked", "server-revoked.example.com", "off", true, ""],
  ];
  for (const [leaf, domain, mode, ok, ocspCode] of cases) {
    const port = await tlsServer(t, lab, leaf);
    const result = await verifyOutbound(
      `sip:${domain}`,
      { scheme: "sip", host: domain },
      {
        resolver: fixedResolver(port),
        anchors: [{ cert: lab.ca.certificate }],
        ocsp: { mode, timeoutMs: 8000 },
      },
    );
    assert.equal(result.ok, ok, `${leaf} under ${mode}: ${result.code} ${result.detail}`);
    if (ocspCode) assert.equal(result.attempts[0]?.ocsp?.code, ocspCode);
    else assert.equal(result.attempts[0]?.ocsp, undefined);
    if (!ok) assert.equal(result.code, ocspCode);
  }
});
