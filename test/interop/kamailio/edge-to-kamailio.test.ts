/**
 * siptrust → Kamailio (issue 7 §4 "edge → Kamailio verified by RFC 5922, rejected/failed over when its
 * certificate names another domain"; issue 6 §4 "Kamailio's TLS module as a peer"): verifyOutbound connects to
 * a real Kamailio 5.6 TLS server under an insecure delegation, so RFC 5922 §7.1–7.2 decides: the SIP domain of
 * the target must be one of the certificate's SIP domain identities. Then a SIP request over the verified
 * connection shows Kamailio really serves it, and what Kamailio saw of our client certificate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { verifyOutbound, type OutboundResult } from "../../../src/tls/outbound.js";
import type { ClientCredentials } from "../../../src/tls/client-handshake.js";
import { KAMAILIO_HOST, requireKamailio, startKamailio, type Kamailio } from "./kamailio.js";
import { fixedTargets, requestText, tlsTransaction } from "./sip-io.js";

requireKamailio();

const TEST_TIMEOUT_MS = 60_000;
const SIP_DOMAIN = "peer.example";

const peerCa = createCa({ cn: "Peer federation CA" });
const peerGood = issueCertificate(peerCa, {
  cn: "kamailio",
  san: { uri: [`sip:${SIP_DOMAIN}`], dns: ["sip1.peer.example"] },
  eku: ["serverAuth", "clientAuth"],
});
// Chains to the trusted CA but names another SIP domain: RFC 5922 must refuse it for peer.example.
const peerWrong = issueCertificate(peerCa, {
  cn: "kamailio-other",
  san: { uri: ["sip:other.example"], dns: ["other.example"] },
  eku: ["serverAuth", "clientAuth"],
});
const edgeCa = createCa({ cn: "Edge CA" });
const edgeClient = issueCertificate(edgeCa, {
  cn: "edge",
  san: { uri: ["sip:edge.example"] },
  eku: ["clientAuth", "serverAuth"],
});
const strangerClient = issueCertificate(createCa({ cn: "Stranger CA" }), {
  cn: "stranger",
  san: { uri: ["sip:edge.example"] },
  eku: ["clientAuth"],
});
const edgeCredentials: ClientCredentials = { cert: edgeClient.certificatePem, key: edgeClient.privateKeyPem };
const strangerCredentials: ClientCredentials = {
  cert: strangerClient.certificatePem,
  key: strangerClient.privateKeyPem,
};

const anchors = [{ cert: new X509Certificate(peerCa.certificatePem) }];

function verify(
  targets: ReadonlyArray<{ address: string; port: number }>,
  clientCredentials?: ClientCredentials,
  keepSocket = false,
): Promise<OutboundResult> {
  return verifyOutbound(
    `sips:bob@${SIP_DOMAIN}`,
    { scheme: "sips", host: SIP_DOMAIN },
    { resolver: fixedTargets(targets), anchors, handshakeTimeoutMs: 5000, clientCredentials, keepSocket },
  );
}

function target(kamailio: Kamailio, index: number): { address: string; port: number } {
  const port = kamailio.tlsPorts[index];
  assert.ok(port !== undefined, `Kamailio TLS listener ${index}`);
  return { address: KAMAILIO_HOST, port };
}

/** RFC 5626 §3.5.1 keep-alive: sends CRLFCRLF, resolves with what comes back first (or the error). */
function crlfPing(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no pong within 3000 ms")), 3000);
    socket.once("data", (data: Buffer) => {
      clearTimeout(timer);
      resolve(data.toString("latin1"));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write("\r\n\r\n");
  });
}

/** OPTIONS over the verified connection; Kamailio answers 200 with X-Tls-Peer (see kamailio.ts). */
async function optionsOver(result: OutboundResult, callId: string): Promise<string> {
  const socket = result.socket;
  assert.ok(socket, "verifyOutbound kept the verified socket");
  try {
    const response = await tlsTransaction(
      socket,
      requestText({
        method: "OPTIONS",
        requestUri: `sip:${SIP_DOMAIN}`,
        from: "sip:probe@edge.example",
        to: `sip:${SIP_DOMAIN}`,
        callId,
        via: { transport: "TLS", sentBy: `127.0.0.1:${socket.localPort ?? 5061}` },
      }),
      5000,
    );
    assert.equal(response.status, 200, `Kamailio answered OPTIONS: ${response.reason}`);
    return response.get("X-Tls-Peer") ?? "";
  } finally {
    socket.destroy();
  }
}

test(
  "edge → Kamailio: RFC 5922 against Kamailio's server certificate",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const kamailio = await startKamailio({
      tlsListeners: [
        {
          certPem: peerGood.certificatePem,
          keyPem: peerGood.privateKeyPem,
          verifyCertificate: false,
          requireCertificate: false,
        },
        {
          certPem: peerWrong.certificatePem,
          keyPem: peerWrong.privateKeyPem,
          verifyCertificate: false,
          requireCertificate: false,
        },
      ],
      route: { kind: "reply" },
    });
    t.after(() => kamailio.stop());
    const good = target(kamailio, 0);
    const wrong = target(kamailio, 1);

    await t.test(
      "certificate names the SIP domain → verified by rfc5922, Kamailio serves SIP on it",
      async () => {
        const r = await verify([good], undefined, true);
        assert.equal(r.ok, true, `${r.code}: ${r.detail}\n${kamailio.log()}`);
        assert.equal(r.method, "rfc5922");
        assert.equal(r.code, "rfc5922-match");
        assert.equal(r.delegation, "insecure");
        assert.equal(r.target?.sni, SIP_DOMAIN, "SNI is the SIP domain under an insecure delegation");
        assert.equal(r.target?.port, good.port);
        assert.match(r.target?.tls?.version ?? "", /^TLSv1\.[23]$/);
        assert.deepEqual(
          r.target?.identities.map((i) => [i.kind, i.value]),
          [["domain", SIP_DOMAIN]],
          "the SAN URI is the identity; the dNSName does not count beside it (RFC 5922 §7.1)",
        );
        const peer = await optionsOver(r, "kam-good-1");
        assert.match(peer, /verified=0/, "no client certificate was sent");
      },
    );

    await t.test("certificate names another domain → rfc5922-no-match, socket not kept", async () => {
      const r = await verify([wrong], undefined, true);
      assert.equal(r.ok, false);
      assert.equal(r.code, "rfc5922-no-match", r.detail);
      assert.equal(r.socket, undefined, "an unverified connection is never handed out");
      assert.equal(r.attempts.length, 1);
      assert.deepEqual(
        r.attempts[0]?.identities.map((i) => i.value),
        ["other.example"],
      );
    });

    await t.test("wrong certificate first, good second → fails over to the second target", async () => {
      const r = await verify([wrong, good]);
      assert.equal(r.ok, true, `${r.code}: ${r.detail}`);
      assert.equal(r.method, "rfc5922");
      assert.deepEqual(
        r.attempts.map((a) => [a.port, a.verification.code]),
        [
          [wrong.port, "rfc5922-no-match"],
          [good.port, "rfc5922-match"],
        ],
      );
      assert.equal(r.target?.port, good.port);
    });

    await t.test("good certificate first → the wrong second target is never tried", async () => {
      const r = await verify([good, wrong]);
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.attempts.length, 1);
    });

    await t.test("both targets name another domain → fails with the last reason", async () => {
      const r = await verify([wrong, wrong]);
      assert.equal(r.ok, false);
      assert.equal(r.code, "rfc5922-no-match");
      assert.equal(r.attempts.length, 2);
    });

    await t.test(
      "Kamailio's certificate from a CA we do not trust → chain failure before names",
      async () => {
        const r = await verifyOutbound(
          `sips:bob@${SIP_DOMAIN}`,
          { scheme: "sips", host: SIP_DOMAIN },
          {
            resolver: fixedTargets([good]),
            anchors: [{ cert: new X509Certificate(edgeCa.certificatePem) }],
            handshakeTimeoutMs: 5000,
          },
        );
        assert.equal(r.ok, false);
        assert.equal(r.code, "unknown-issuer", `the chain is judged before the names: ${r.detail}`);
      },
    );
  },
);

test("edge → Kamailio requiring client certificates", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const kamailio = await startKamailio({
    tlsListeners: [
      {
        certPem: peerGood.certificatePem,
        keyPem: peerGood.privateKeyPem,
        caPems: [edgeCa.certificatePem],
        verifyCertificate: true,
        requireCertificate: true,
      },
      {
        certPem: peerGood.certificatePem,
        keyPem: peerGood.privateKeyPem,
        caPems: [edgeCa.certificatePem],
        verifyCertificate: true,
        requireCertificate: true,
        method: "TLSv1.2",
      },
    ],
    route: { kind: "reply" },
  });
  t.after(() => kamailio.stop());
  const good = target(kamailio, 0);
  const tls12 = target(kamailio, 1);

  await t.test(
    "with the edge's client certificate → verified, and Kamailio saw the certificate",
    async () => {
      const r = await verify([good], edgeCredentials, true);
      assert.equal(r.ok, true, `${r.code}: ${r.detail}\n${kamailio.log()}`);
      assert.equal(r.method, "rfc5922");
      const peer = await optionsOver(r, "kam-client-1");
      assert.match(peer, /verified=1/, `Kamailio verified our certificate: ${peer}`);
      assert.match(peer, /uri=sip:edge\.example/, `Kamailio read our SAN URI: ${peer}`);
    },
  );

  await t.test(
    "without a client certificate → handshake refused (TLS 1.3 alert after Finished)",
    async () => {
      const r = await verify([good]);
      assert.equal(r.ok, false, `expected refusal, got ${r.code}: ${r.detail}`);
      assert.equal(r.code, "tls-error", r.detail);
    },
  );

  await t.test(
    "with a client certificate from a CA Kamailio does not trust → handshake refused",
    async () => {
      const r = await verify([good], strangerCredentials);
      assert.equal(r.ok, false, `expected refusal, got ${r.code}: ${r.detail}`);
      assert.equal(r.code, "tls-error", r.detail);
    },
  );

  await t.test("TLS 1.2 only: client certificate from a CA Kamailio does not trust → refused", async () => {
    const r = await verify([tls12], strangerCredentials);
    assert.equal(r.ok, false, `expected refusal, got ${r.code}: ${r.detail}`);
    assert.equal(r.code, "tls-error", r.detail);
  });

  await t.test("TLS 1.2 only: without a client certificate → handshake refused (tls-error)", async () => {
    const r = await verify([tls12]);
    assert.equal(r.ok, false, `expected refusal, got ${r.code}: ${r.detail}`);
    assert.equal(r.code, "tls-error", r.detail);
    assert.equal(r.attempts[0]?.tls, undefined, "no TLS session was established");
  });

  await t.test("TLS 1.2 only: with the edge's client certificate → verified", async () => {
    const r = await verify([tls12], edgeCredentials, true);
    assert.equal(r.ok, true, `${r.code}: ${r.detail}`);
    assert.equal(r.target?.tls?.version, "TLSv1.2");
    assert.match(await optionsOver(r, "kam-client-12"), /verified=1/);
  });

  await t.test("TLS 1.3, accepted client: an RFC 5626 CRLF ping gets its pong", async () => {
    // The round trip that would surface a post-handshake refusal: Kamailio answers CRLFCRLF with CRLF.
    const r = await verify([good], edgeCredentials, true);
    const socket = r.socket;
    if (!socket) return assert.fail(`expected a kept socket (ok ${r.ok}, ${r.code}: ${r.detail})`);
    try {
      const pong = await crlfPing(socket);
      assert.equal(pong, "\r\n");
    } finally {
      socket.destroy();
    }
  });
});
