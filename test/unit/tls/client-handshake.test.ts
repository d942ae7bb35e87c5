/**
 * openTlsConnection against real Node/OpenSSL servers: under TLS 1.3 a server that refuses our client
 * certificate does so only after our handshake completed (RFC 8446 §4.4.2), and that refusal must still be
 * reported as a failed handshake, not as a connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { openTlsConnection } from "../../../src/tls/client-handshake.js";

const ca = createCa({ cn: "Server side CA" });
const serverCert = issueCertificate(ca, { cn: "srv", san: { dns: ["srv.example"] } });
const goodClient = issueCertificate(ca, { cn: "client", eku: ["clientAuth"] });
const stranger = issueCertificate(createCa({ cn: "Stranger" }), { cn: "stranger", eku: ["clientAuth"] });

async function withServer(options: tls.TlsOptions, run: (port: number) => Promise<void>): Promise<void> {
  const server = tls.createServer(
    { cert: serverCert.certificatePem, key: serverCert.privateKeyPem, ...options },
    (socket) => socket.on("data", (d) => socket.write(`echo:${d}`)),
  );
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await run((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const requiring = { requestCert: true, rejectUnauthorized: true, ca: [ca.certificatePem] };

for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
  test(`${version}: a server that requires a client certificate refuses none and a stranger's`, async () => {
    await withServer({ ...requiring, minVersion: version, maxVersion: version }, async (port) => {
      for (const credentials of [undefined, { cert: stranger.certificatePem, key: stranger.privateKeyPem }]) {
        const result = await openTlsConnection({
          host: "127.0.0.1",
          port,
          servername: "srv.example",
          clientCredentials: credentials,
        });
        assert.equal(result.ok, false);
        assert.equal(result.code, "tls-error");
      }
    });
  });

  test(`${version}: an accepted client gets a working connection`, async () => {
    await withServer({ ...requiring, minVersion: version, maxVersion: version }, async (port) => {
      const result = await openTlsConnection({
        host: "127.0.0.1",
        port,
        servername: "srv.example",
        clientCredentials: { cert: goodClient.certificatePem, key: goodClient.privateKeyPem },
      });
      assert.ok(result.ok, result.ok ? "" : result.detail);
      assert.equal(result.version, version);
      assert.equal(result.chain[0]?.subject, "CN=srv");
      // Written synchronously right after the result: nothing may be lost (the session-ticket path).
      const echoed = new Promise<string>((resolve) =>
        result.socket.once("data", (d: Buffer) => resolve(d.toString())),
      );
      result.socket.write("ping");
      assert.equal(await echoed, "echo:ping");
      result.socket.destroy();
    });
  });
}

test("a server that never answers the handshake times out; a closed port is connect-failed", async (t) => {
  const net = await import("node:net");
  const held: import("node:net").Socket[] = [];
  const silent = net.createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    held.forEach((s) => s.destroy());
    silent.close();
  });
  const port = (silent.address() as AddressInfo).port;
  const result = await openTlsConnection({
    host: "127.0.0.1",
    port,
    servername: "srv.example",
    timeoutMs: 200,
  });
  assert.equal(result.code, "handshake-timeout");

  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await openTlsConnection({ host: "127.0.0.1", port: closedPort, servername: "srv.example" });
  assert.equal(refused.code, "connect-failed");
});
