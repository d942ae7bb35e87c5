// The Kamailio starter itself: "ready" must mean the workers run the script, and a Kamailio that cannot
// start is reported with its log and leaves nothing behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { KAMAILIO_HOST, requireKamailio, startKamailio } from "./kamailio.js";
import { requestText, udpTransaction } from "./sip-io.js";

requireKamailio();

const ca = createCa({ cn: "Helper CA" });
const server = issueCertificate(ca, { cn: "kamailio", san: { uri: ["sip:peer.example"] } });

test(
  "a certificate Kamailio cannot load → startKamailio rejects with the log",
  { timeout: 30_000 },
  async () => {
    await assert.rejects(
      startKamailio({
        tlsListeners: [
          {
            certPem: "not a certificate",
            keyPem: "not a key",
            verifyCertificate: false,
            requireCertificate: false,
          },
        ],
        route: { kind: "reply" },
      }),
      (err: Error) =>
        /exited during startup/.test(err.message) && /Unable to load certificate/.test(err.message),
    );
  },
);

test(
  "ready Kamailio answers SIP at once, and stop() removes its directory",
  { timeout: 30_000 },
  async (t) => {
    const kamailio = await startKamailio({
      tlsListeners: [
        {
          certPem: server.certificatePem,
          keyPem: server.privateKeyPem,
          verifyCertificate: false,
          requireCertificate: false,
        },
      ],
      route: { kind: "reply" },
    });
    t.after(() => kamailio.stop());
    const response = await udpTransaction(
      KAMAILIO_HOST,
      kamailio.udpPort,
      (localPort) =>
        requestText({
          method: "OPTIONS",
          requestUri: "sip:peer.example",
          from: "sip:probe@edge.example",
          to: "sip:peer.example",
          callId: "helper-1",
          via: { transport: "UDP", sentBy: `127.0.0.1:${localPort}` },
        }),
      3000,
    );
    assert.equal(response.status, 200);
    assert.equal(response.get("X-Tls-Peer"), undefined, "the TLS peer header is added on TLS only");
    await kamailio.stop();
    assert.equal(existsSync(kamailio.dir), false);
  },
);
