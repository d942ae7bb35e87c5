// The outbound connection manager with real DNS: a real validating Unbound in front of a real Knot serving
// signed zones (test/interop/lab), and long-lived TLS servers on 127.0.0.x that count handshakes and record SNI.
// Checks what only real DNSSEC can show: under DANE the SRV target host becomes a verified name of the
// connection (RFC 7673 §3), a second hosted domain behind the same SRV host is not reused without its own
// verification, and under an insecure delegation only the SIP domain is recorded (RFC 5922).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import type { Socket } from "node:net";
import {
  createCa,
  createSelfSigned,
  issueCertificate,
  type GeneratedCertificate,
} from "../../../src/pki/issue.js";
import { DnsClient } from "../../../src/dns/client.js";
import { DnsOutboundResolver } from "../../../src/tls/resolver-adapter.js";
import { buildClientCredentialTable } from "../../../src/tls/client-credential-table.js";
import { OutboundConnections } from "../../../src/transport/outbound-connections.js";
import { startDnsLab } from "../lab/dns-lab.js";
import { a, srv, tlsa, tlsaAssociation } from "../lab/records.js";

const TEST_TIMEOUT_MS = 120_000;

interface CountingServer {
  readonly host: string;
  readonly port: number;
  readonly sni: string[];
  handshakes(): number;
}

/** A TLS server that keeps its connections open (reuse needs them) and records SNI and handshakes. */
async function startCountingServer(
  t: TestContext,
  host: string,
  cert: GeneratedCertificate,
): Promise<CountingServer> {
  const sni: string[] = [];
  const sockets = new Set<Socket>();
  let completed = 0;
  const server = tls.createServer({ cert: cert.certificatePem, key: cert.privateKeyPem });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    completed++;
    const name = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    if (typeof name === "string") sni.push(name);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return { host, port, sni, handshakes: () => completed };
}

async function settled(server: CountingServer, expected: number): Promise<number> {
  const start = Date.now();
  while (server.handshakes() < expected && Date.now() - start < 3000) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 50));
  return server.handshakes();
}

test(
  "identity-bound reuse with real DNSSEC: DANE SRV host aliases, RFC 5922 domain only",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const ca = createCa({ cn: "Reuse lab CA" });
    // Hosted: one DANE-EE certificate for the provider's SRV host serves every hosted domain; it names none.
    const providerCert = createSelfSigned({ cn: "provider, no SIP names" });
    const plainCert = issueCertificate(ca, { cn: "plain", san: { uri: ["sip:plain.test"] } });
    const provider = await startCountingServer(t, "127.0.0.41", providerCert);
    const plain = await startCountingServer(t, "127.0.0.42", plainCert);
    const lab = await startDnsLab({
      startTimeoutMs: 30_000,
      maxLifetimeMs: 300_000,
      zones: [
        { name: "hosted1.test.", records: [srv("_sips._tcp", 10, 50, provider.port, "sip.provider.test.")] },
        { name: "hosted2.test.", records: [srv("_sips._tcp", 10, 50, provider.port, "sip.provider.test.")] },
        {
          name: "provider.test.",
          records: [
            a("sip", provider.host),
            tlsa(`_${provider.port}._tcp.sip`, 3, 1, 1, tlsaAssociation(providerCert.certificate, 1, 1)),
          ],
        },
        {
          name: "plain.test.",
          security: "unsigned",
          records: [srv("_sips._tcp", 10, 50, plain.port, "sip.plain.test."), a("sip", plain.host)],
        },
      ],
    });
    t.after(() => lab.stop());
    const client = new DnsClient({
      resolver: `${lab.resolver.host}:${lab.resolver.port}`,
      timeoutMs: 1500,
      retries: 1,
    });
    const manager = new OutboundConnections({
      trust: {
        resolver: new DnsOutboundResolver(client),
        anchors: [{ cert: ca.certificate }],
        clientCredentials: buildClientCredentialTable([]),
        generation: 1,
      },
      limits: { handshakeTimeoutMs: 3000 },
      onMessage: () => undefined,
    });
    t.after(() => manager.close());

    const first = await manager.acquire({ scheme: "sips", host: "hosted1.test" });
    assert.ok(first.ok, first.ok ? "" : `${first.code}: ${first.detail}`);
    assert.equal(first.code, "opened");
    assert.equal(first.connection.method, "dane-ee");
    assert.equal(first.connection.delegation, "secure");
    assert.deepEqual([...first.connection.verifiedNames].sort(), ["hosted1.test", "sip.provider.test"]);
    assert.equal(await settled(provider, 1), 1);
    assert.deepEqual(provider.sni, ["sip.provider.test"], "SNI is the SRV target under DANE");

    const again = await manager.acquire({ scheme: "sips", host: "hosted1.test" });
    assert.ok(again.ok && again.code === "reused" && again.connection.id === first.connection.id);
    const bySrvHost = await manager.acquire({ scheme: "sips", host: "sip.provider.test" });
    assert.ok(bySrvHost.ok && bySrvHost.code === "reused", "the DANE-verified SRV host is an alias");
    assert.equal(await settled(provider, 1), 1);

    // Same SRV host, but hosted2.test was never verified on that connection: a new, verified one.
    const second = await manager.acquire({ scheme: "sips", host: "hosted2.test" });
    assert.ok(second.ok && second.code === "opened");
    assert.notEqual(second.connection.id, first.connection.id);
    assert.equal(await settled(provider, 2), 2);

    const insecure = await manager.acquire({ scheme: "sips", host: "plain.test" });
    assert.ok(insecure.ok, insecure.ok ? "" : `${insecure.code}: ${insecure.detail}`);
    assert.equal(insecure.connection.method, "rfc5922");
    assert.deepEqual(
      [...insecure.connection.verifiedNames],
      ["plain.test"],
      "no alias for an unverified SRV host",
    );
    const srvName = await manager.acquire({ scheme: "sips", host: "sip.plain.test" });
    assert.equal(
      srvName.ok,
      false,
      "sip.plain.test is not a verified name: it is located and verified itself",
    );
    assert.equal(await settled(plain, 1), 1);
  },
);
