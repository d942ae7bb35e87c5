/**
 * Inbound TLS on loopback: SNI chooses the hosted domain's certificate, and each client-certificate mode
 * gives the verdict DESIGN.md "Inbound" asks for (real Node/OpenSSL handshakes, no mocks).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { buildServerProfile, serverTlsOptions, selectCredential } from "../../../src/tls/server-profile.js";
import {
  verifyClientChain,
  type ClientCertificateMode,
  type ClientVerification,
} from "../../../src/tls/client-verification.js";
import { presentedChain } from "../../../src/tls/peer-chain.js";

const ca = createCa({ cn: "Hosting CA" });
const otherCa = createCa({ cn: "Stranger CA" });
const serverA = issueCertificate(ca, {
  cn: "a",
  san: { uri: ["sip:a.example"], dns: ["a.example"] },
  eku: ["serverAuth", "sipDomain"],
});
const serverB = issueCertificate(ca, { cn: "b", san: { uri: ["sip:b.example"] }, eku: ["sipDomain"] });
const client = issueCertificate(ca, { cn: "peer", san: { uri: ["sip:peer.example"] }, eku: ["clientAuth"] });
const sipDomainOnlyClient = issueCertificate(ca, {
  cn: "fed",
  san: { uri: ["sip:fed.example"] },
  eku: ["sipDomain"],
});
const strangerClient = issueCertificate(otherCa, {
  cn: "x",
  san: { uri: ["sip:peer.example"] },
  eku: ["clientAuth"],
});

async function withListener(
  mode: ClientCertificateMode,
  run: (port: number, verdicts: ClientVerification[]) => Promise<void>,
): Promise<void> {
  const profile = buildServerProfile({
    credentials: [
      { certPem: serverA.certificatePem, keyPem: serverA.privateKeyPem },
      { certPem: serverB.certificatePem, keyPem: serverB.privateKeyPem },
    ],
    clientCertificates: mode,
    clientCaPems: [ca.certificatePem],
  });
  const verdicts: ClientVerification[] = [];
  const server = tls.createServer(serverTlsOptions(profile), (socket) => {
    const verdict = verifyClientChain(presentedChain(socket), {
      mode,
      anchors: [{ cert: new X509Certificate(ca.certificatePem) }],
    });
    verdicts.push(verdict);
    if (!verdict.ok) socket.destroy();
    else socket.end("ok");
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run((server.address() as AddressInfo).port, verdicts);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function connect(
  port: number,
  servername: string | undefined,
  cred?: GeneratedCertificate,
): Promise<{ servedSubject: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername,
      rejectUnauthorized: false,
      cert: cred?.certificatePem,
      key: cred?.privateKeyPem,
    });
    socket.setTimeout(5000, () => reject(new Error("timeout")));
    socket.once("secureConnect", () => {
      const servedSubject = socket.getPeerX509Certificate()?.subject ?? "";
      // The server's verdict arrives after the handshake; closing tells us it decided.
      socket.on("data", () => undefined);
      socket.once("close", () => resolve({ servedSubject }));
      socket.once("error", () => undefined);
    });
    socket.once("error", reject);
  });
}

test("SNI selects the hosted domain's certificate, unknown or absent SNI gets the default", async () => {
  await withListener("ignore", async (port) => {
    assert.equal((await connect(port, "a.example")).servedSubject, "CN=a");
    assert.equal((await connect(port, "B.Example.")).servedSubject, "CN=b");
    assert.equal((await connect(port, "c.example")).servedSubject, "CN=a");
    assert.equal((await connect(port, undefined)).servedSubject, "CN=a");
  });
});

test("SNI selection is exact: no suffix or wildcard match", () => {
  const profile = buildServerProfile({
    credentials: [
      { certPem: serverA.certificatePem, keyPem: serverA.privateKeyPem },
      { certPem: serverB.certificatePem, keyPem: serverB.privateKeyPem, serverNames: ["*.b.example"] },
    ],
    clientCertificates: "ignore",
  });
  assert.equal(selectCredential(profile, "x.b.example").code, "sni-default");
  assert.equal(selectCredential(profile, "*.b.example").code, "sni-exact");
  assert.equal(selectCredential(profile, "sub.a.example").code, "sni-default");
});

const modeCases: Array<{
  mode: ClientCertificateMode;
  cred?: GeneratedCertificate;
  ok: boolean;
  code: string;
}> = [
  { mode: "required", cred: undefined, ok: false, code: "client-cert-required" },
  { mode: "required", cred: client, ok: true, code: "client-verified" },
  { mode: "required", cred: strangerClient, ok: false, code: "unknown-issuer" },
  { mode: "optional", cred: undefined, ok: true, code: "no-client-cert" },
  { mode: "optional", cred: strangerClient, ok: false, code: "unknown-issuer" },
  { mode: "optional", cred: sipDomainOnlyClient, ok: true, code: "client-verified" },
  { mode: "ignore", cred: strangerClient, ok: true, code: "client-cert-ignored" },
];

for (const c of modeCases) {
  test(`client certificates ${c.mode}, ${c.cred ? c.cred.certificate.subject : "no certificate"} → ${c.code}`, async () => {
    await withListener(c.mode, async (port, verdicts) => {
      await connect(port, "a.example", c.cred);
      assert.equal(verdicts.length, 1);
      const verdict = verdicts[0]!;
      assert.equal(verdict.ok, c.ok);
      assert.equal(verdict.code, c.code);
    });
  });
}

test("a verified client carries its RFC 5922 identities to the connection", async () => {
  await withListener("required", async (port, verdicts) => {
    await connect(port, "a.example", sipDomainOnlyClient);
    const verdict = verdicts[0];
    assert.ok(verdict?.ok && verdict.code === "client-verified");
    assert.deepEqual(
      verdict.peer.identities.map((i) => (i.kind === "domain" ? i.domain : i.kind)),
      ["fed.example"],
    );
    assert.equal(verdict.chain.length, 2, "leaf and the listener's CA");
  });
});

test("a listener without certificates is a configuration error", () => {
  assert.throws(() => buildServerProfile({ credentials: [], clientCertificates: "ignore" }), {
    code: "no-credentials",
  });
  assert.throws(
    () =>
      buildServerProfile({
        credentials: [
          { certPem: serverA.certificatePem, keyPem: serverA.privateKeyPem },
          { certPem: serverA.certificatePem, keyPem: serverA.privateKeyPem },
        ],
        clientCertificates: "ignore",
      }),
    { code: "duplicate-server-name" },
  );
});
