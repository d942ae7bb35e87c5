/**
 * Kamailio → siptrust (issue 7 §4 "Kamailio … as a federation peer: Kamailio → edge with a client certificate";
 * issue 6 §4): a UDP sender hands a MESSAGE to a real Kamailio 5.6, which relays it statefully over TLS to a
 * siptrust TlsListener, presenting its client certificate (SAN URI sip:kamailio.example). The listener verifies
 * the chain itself (RFC 5280 + RFC 5924), attaches the RFC 5922 identities to the connection, and the test's
 * request handler runs authorizeRequest on each message's From, answering 200 or 403 with the reason code —
 * which Kamailio relays back to the UDP sender.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { authorizeRequest, type AuthResult } from "../../../src/auth/authorize.js";
import { createResponse, type SipMessage } from "../../../src/sip/index.js";
import { buildServerProfile } from "../../../src/tls/server-profile.js";
import type {
  ClientCertificateMode,
  ClientVerificationPolicy,
} from "../../../src/tls/client-verification.js";
import { TlsListener, type InboundConnection } from "../../../src/transport/tls-listener.js";
import {
  KAMAILIO_HOST,
  requireKamailio,
  startKamailio,
  type Kamailio,
  type KamailioTlsDomain,
} from "./kamailio.js";
import { requestText, udpTransaction } from "./sip-io.js";

requireKamailio();

const TEST_TIMEOUT_MS = 60_000;
const TRANSACTION_TIMEOUT_MS = 8_000;

const edgeCa = createCa({ cn: "Edge CA" });
const edge = issueCertificate(edgeCa, {
  cn: "edge",
  san: { uri: ["sip:edge.example"], dns: ["edge.example"] },
  eku: ["serverAuth"],
});
const federationCa = createCa({ cn: "Federation CA" });
const kamailioCert = issueCertificate(federationCa, {
  cn: "kamailio",
  san: { uri: ["sip:kamailio.example"] },
  eku: ["serverAuth", "clientAuth"],
});
// A URI identity with a user part (RFC 5922 §7.1 ignores it as a domain identity; the authorization model
// lets it cover exactly that user).
const gatewayCert = issueCertificate(federationCa, {
  cn: "gateway",
  san: { uri: ["sip:gw@kamailio.example"] },
  eku: ["clientAuth"],
});
const strangerCert = issueCertificate(createCa({ cn: "Stranger CA" }), {
  cn: "kamailio",
  san: { uri: ["sip:kamailio.example"] },
  eku: ["serverAuth", "clientAuth"],
});

interface Seen {
  readonly connection: InboundConnection;
  readonly message: SipMessage;
  readonly auth: AuthResult;
}

/** The edge side: a TlsListener taking client certificates from the federation CA (required by default). */
async function startEdge(
  t: { after(fn: () => Promise<void>): void },
  mode: ClientCertificateMode = "required",
): Promise<{ listener: TlsListener; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const profile = buildServerProfile({
    credentials: [{ certPem: edge.certificatePem, keyPem: edge.privateKeyPem }],
    clientCertificates: mode,
    clientCaPems: [federationCa.certificatePem],
  });
  const policy: ClientVerificationPolicy = {
    mode,
    anchors: [{ cert: new X509Certificate(federationCa.certificatePem) }],
  };
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => policy,
    limits: { handshakeTimeoutMs: 5000 },
    onMessage: (connection, message) => {
      if (!message.isRequest) return;
      const auth = authorizeRequest(connection.peer, {
        method: message.method ?? "",
        fromUri: message.from.uri,
      });
      seen.push({ connection, message, auth });
      // DESIGN.md "Per-message peer authorization": failures answer 403 with the reason.
      const response = auth.ok
        ? createResponse(message, 200, "OK", { toTag: "edge" })
        : createResponse(message, 403, `Forbidden (${auth.code})`, { toTag: "edge" });
      connection.send(response);
    },
  });
  const { port } = await listener.listen();
  t.after(() => listener.close());
  return { listener, port, seen };
}

/** Kamailio's [client:default] TLS domain: verifies the edge against the edge CA, sends SNI edge.example. */
function kamailioClient(cert: GeneratedCertificate | undefined): KamailioTlsDomain {
  return {
    ...(cert ? { certPem: cert.certificatePem, keyPem: cert.privateKeyPem } : {}),
    caPems: [edgeCa.certificatePem],
    verifyCertificate: true,
    requireCertificate: false,
    serverName: "edge.example",
  };
}

function startFederationPeer(client: GeneratedCertificate | undefined, edgePort: number): Promise<Kamailio> {
  return startKamailio({
    tlsListeners: [
      {
        certPem: kamailioCert.certificatePem,
        keyPem: kamailioCert.privateKeyPem,
        verifyCertificate: false,
        requireCertificate: false,
      },
    ],
    client: kamailioClient(client),
    route: { kind: "forward-tls", host: "127.0.0.1", port: edgePort },
  });
}

/** A MESSAGE from `from`, sent over UDP to Kamailio; resolves with the final response Kamailio relays. */
function sendMessage(kamailio: Kamailio, from: string, callId: string): Promise<SipMessage> {
  return udpTransaction(
    KAMAILIO_HOST,
    kamailio.udpPort,
    (localPort) =>
      requestText({
        method: "MESSAGE",
        requestUri: "sip:alice@edge.example",
        from,
        to: "sip:alice@edge.example",
        callId,
        via: { transport: "UDP", sentBy: `127.0.0.1:${localPort}` },
        body: `hello from ${callId}`,
      }),
    TRANSACTION_TIMEOUT_MS,
  );
}

test("Kamailio → edge with a federation client certificate", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { port, seen } = await startEdge(t);
  const kamailio = await startFederationPeer(kamailioCert, port);
  t.after(() => kamailio.stop());

  await t.test("From in the certificate's domain → covered-by-domain, 200 relayed back", async () => {
    const response = await sendMessage(kamailio, "sip:user@kamailio.example", "kam-in-1");
    assert.equal(response.status, 200, `${response.status} ${response.reason}\n${kamailio.log()}`);
    const entry = seen.find((s) => s.message.get("Call-ID") === "kam-in-1");
    assert.ok(entry, "the listener received the MESSAGE");
    const { connection, message, auth } = entry;
    assert.equal(connection.verification.code, "client-verified");
    assert.deepEqual(
      connection.peer?.identities.map((i) => (i.kind === "domain" ? i.domain : i.value)),
      ["kamailio.example"],
      "RFC 5922 identities of Kamailio's certificate",
    );
    assert.equal(connection.sni, "edge.example", "Kamailio sent its configured server_name as SNI");
    assert.equal(auth.ok, true, auth.detail);
    assert.equal(auth.code, "covered-by-domain");
    assert.equal(message.body.toString(), "hello from kam-in-1", "the body arrived intact through Kamailio");
    assert.equal(message.topVia.transport, "TLS", "Kamailio's own Via names TLS");
  });

  await t.test("From of another domain → from-not-covered, 403 relayed back", async () => {
    const response = await sendMessage(kamailio, "sip:mallory@other.example", "kam-in-2");
    assert.equal(response.status, 403, `${response.status} ${response.reason}`);
    assert.match(response.reason ?? "", /from-not-covered/);
    const entry = seen.find((s) => s.message.get("Call-ID") === "kam-in-2");
    assert.ok(entry, "the listener received the MESSAGE");
    assert.equal(entry.auth.ok, false);
    assert.equal(entry.auth.code, "from-not-covered");
  });

  await t.test("a subdomain is not the domain → from-not-covered (no suffix match)", async () => {
    const response = await sendMessage(kamailio, "sip:user@sub.kamailio.example", "kam-in-3");
    assert.equal(response.status, 403, `${response.status} ${response.reason}`);
    assert.match(response.reason ?? "", /from-not-covered/);
  });

  await t.test("Kamailio reused its one verified TLS connection for every request", () => {
    const ids = new Set(seen.map((s) => s.connection.id));
    assert.equal(seen.length, 3);
    assert.equal(ids.size, 1, "one connection carried all three requests");
  });
});

const REFUSED: ReadonlyArray<{ name: string; client: GeneratedCertificate | undefined; counter: string }> = [
  {
    name: "a client certificate from a CA the edge does not trust",
    client: strangerCert,
    counter: "tls.client.unknown-issuer",
  },
  { name: "no client certificate", client: undefined, counter: "tls.client.client-cert-required" },
];

for (const { name, client, counter } of REFUSED) {
  test(
    `Kamailio with ${name} → refused by the required listener`,
    { timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { listener, port, seen } = await startEdge(t);
      const kamailio = await startFederationPeer(client, port);
      t.after(() => kamailio.stop());

      const response = await sendMessage(kamailio, "sip:user@kamailio.example", "kam-refused-1");
      t.diagnostic(`Kamailio answered the sender ${response.status} ${response.reason}`);
      assert.ok(
        (response.status ?? 0) >= 400,
        `Kamailio could not deliver: ${response.status} ${response.reason}`,
      );
      assert.equal(seen.length, 0, "no request from a refused peer reached the handler");
      assert.equal(listener.connections.size, 0);
      assert.ok(
        listener.counters.get(counter) >= 1,
        `the listener counted ${counter}: ${JSON.stringify(listener.counters.snapshot())}`,
      );
    },
  );
}

test(
  "Kamailio whose certificate names one user → covered-by-uri for exactly that From",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { port, seen } = await startEdge(t);
    const kamailio = await startFederationPeer(gatewayCert, port);
    t.after(() => kamailio.stop());
    const cases = [
      { from: "sip:gw@kamailio.example", status: 200, code: "covered-by-uri" },
      { from: "sip:other@kamailio.example", status: 403, code: "from-not-covered" },
      { from: "sip:GW@kamailio.example", status: 403, code: "from-not-covered" },
    ] as const;
    for (const [i, c] of cases.entries()) {
      const callId = `kam-uri-${i}`;
      const response = await sendMessage(kamailio, c.from, callId);
      assert.equal(response.status, c.status, `${c.from}: ${response.status} ${response.reason}`);
      const entry = seen.find((s) => s.message.get("Call-ID") === callId);
      assert.equal(entry?.auth.code, c.code, `${c.from}: ${entry?.auth.detail}`);
    }
    assert.deepEqual(
      seen[0]?.connection.peer?.identities.map((i) => [i.kind, i.kind === "uri" ? i.value : i.domain]),
      [["uri", "sip:gw@kamailio.example"]],
    );
  },
);

test(
  "Kamailio without a client certificate on an optional listener → no-client-cert, 403",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const { port, seen } = await startEdge(t, "optional");
    const kamailio = await startFederationPeer(undefined, port);
    t.after(() => kamailio.stop());
    const response = await sendMessage(kamailio, "sip:user@kamailio.example", "kam-optional-1");
    assert.equal(response.status, 403, `${response.status} ${response.reason}\n${kamailio.log()}`);
    assert.match(response.reason ?? "", /no-client-cert/);
    const entry = seen.find((s) => s.message.get("Call-ID") === "kam-optional-1");
    assert.ok(entry, "the optional listener accepted the connection and read the MESSAGE");
    assert.equal(entry.connection.verification.code, "no-client-cert");
    assert.equal(entry.connection.peer, undefined);
  },
);
