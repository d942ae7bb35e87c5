/**
 * Kamailio → the siptrust daemon (issue 7 §4: "Kamailio … as a federation peer …: Kamailio → edge with a
 * client certificate"). A SIPp UAC calls over UDP into a real Kamailio 5.6 (the kam.example federation
 * peer), which relays statefully over TLS with its client certificate (SIP domain kam.example) to
 * `siptrust serve` (listener requiring client certificates from the test CA), which forwards to a SIPp UAS
 * over UDP. The dialogs complete through both proxies' Record-Route sets (ACK and BYE included); the UAS sees
 * exactly one identity header, the edge's, naming kam.example (a forged copy sent from outside is stripped);
 * a From outside kam.example is refused by the edge with 403 (RFC 5922 identities do not cover it), and
 * Kamailio relays that 403 back to the UAC.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KAMAILIO_HOST, freeTcpPort, requireKamailio } from "./kamailio.js";
import { startPeerKamailio } from "./proxy-kamailio.js";
import { startEdgeDaemon } from "./proxy-edge.js";
import { freeUdpPort } from "./proxy-ports.js";
import {
  callCounts,
  headerValues,
  receivedMessages,
  startLine,
  startSippUdp,
  uacCallScenario,
  uacRejectedScenario,
  uasCallScenario,
  type SippUdpRun,
} from "./proxy-sipp.js";
import { EDGE_DOMAIN, IDENTITY_HEADER, KAM_DOMAIN, federationPki, writeEdgeConfig } from "./proxy-world.js";
import { makeTempDir } from "../tls/temp-dir.js";
import { requireTool } from "../tls/tools.js";

requireKamailio();
requireTool("sipp", ["-v"], "sip-tester");

const TEST_TIMEOUT_MS = 90_000;
const CALLS = 20;
const REJECTED_CALLS = 3;
const SIPP_LIMIT_MS = 20_000;

function invitesAt(uas: SippUdpRun): string[] {
  return receivedMessages(uas.messages()).filter((m) => startLine(m).startsWith("INVITE "));
}

test(
  "Kamailio → edge: federation peer with a client certificate",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const dir = makeTempDir("kam-to-edge");
    t.after(() => dir.remove());
    const pki = federationPki();
    const tlsPort = await freeTcpPort();
    const insidePort = await freeUdpPort();
    const adminPort = await freeTcpPort();
    const uasPort = await freeUdpPort();

    const uas = startSippUdp(
      {
        dir,
        name: "uas",
        scenario: uasCallScenario(),
        localPort: uasPort,
        controlPort: await freeUdpPort(),
        calls: CALLS,
      },
      TEST_TIMEOUT_MS,
    );
    t.after(() => uas.stop());
    const configFile = writeEdgeConfig({
      dir,
      pki,
      tlsPort,
      insidePort,
      innerPort: uasPort,
      adminPort,
    });
    const edge = await startEdgeDaemon(configFile, { adminPort, insidePort });
    t.after(() => edge.stop());
    const kamailio = await startPeerKamailio({
      tlsListeners: [
        {
          certPem: pki.kam.certificatePem,
          keyPem: pki.kam.privateKeyPem,
          verifyCertificate: false,
          requireCertificate: false,
        },
      ],
      // Kamailio's client side: its kam.example certificate, and it verifies the edge against the test CA.
      client: {
        certPem: pki.kam.certificatePem,
        keyPem: pki.kam.privateKeyPem,
        caPems: [pki.ca.certificatePem],
        verifyCertificate: true,
        requireCertificate: false,
        serverName: EDGE_DOMAIN,
      },
      role: { kind: "to-edge", edgeHost: "127.0.0.1", edgePort: tlsPort, sni: EDGE_DOMAIN },
    });
    t.after(() => kamailio.stop());
    const evidence = (): string =>
      `--- edge log (tail)\n${edge.log().slice(-4000)}\n--- kamailio log (tail)\n${kamailio.log().slice(-3000)}`;

    await t.test(
      `${CALLS} calls from kam.example complete; the UAS sees the edge's identity header`,
      async () => {
        const uac = startSippUdp(
          {
            dir,
            name: "uac",
            scenario: uacCallScenario({
              requestUri: `sip:bob@${EDGE_DOMAIN}`,
              from: `sip:alice@${KAM_DOMAIN}`,
              to: `sip:bob@${EDGE_DOMAIN}`,
              // RFC 3261 lets anyone send any header: the edge must remove this one before adding its own.
              extraHeaders: [`${IDENTITY_HEADER}: forged; sip:mallory@forged.example`],
            }),
            remote: { host: KAMAILIO_HOST, port: kamailio.udpPort },
            localPort: await freeUdpPort(),
            controlPort: await freeUdpPort(),
            calls: CALLS,
            rate: 20,
            timeoutSeconds: 15,
          },
          SIPP_LIMIT_MS,
        );
        t.after(() => uac.stop());
        const result = await uac.result;
        const counts = callCounts(result);
        assert.deepEqual(
          counts,
          { successful: CALLS, failed: 0 },
          `SIPp UAC exit ${result.exitCode}\n${result.output.slice(-2000)}\n${evidence()}`,
        );
        assert.equal(result.exitCode, 0);

        const invites = invitesAt(uas);
        assert.equal(invites.length, CALLS, "each call reached the UAS once");
        for (const invite of invites) {
          const identity = headerValues(invite, IDENTITY_HEADER);
          assert.equal(identity.length, 1, `exactly one ${IDENTITY_HEADER} (the edge's):\n${invite}`);
          assert.match(identity[0] ?? "", /kam\.example/, "names the verified peer domain");
          assert.doesNotMatch(identity[0] ?? "", /forged/, "the copy from outside was stripped");
          assert.match(headerValues(invite, "From")[0] ?? "", /alice@kam\.example/);
        }
        // The dialogs went through Kamailio both ways: each call's ACK and BYE followed the Route set.
        const seen = kamailio.requests();
        for (const method of ["INVITE", "ACK", "BYE"]) {
          const calls = new Set(seen.filter((r) => r.method === method).map((r) => r.callId));
          assert.equal(calls.size, CALLS, `Kamailio relayed every call's ${method}`);
        }
      },
    );

    await t.test(
      "a From outside kam.example gets the edge's 403, relayed back through Kamailio",
      async () => {
        const before = invitesAt(uas).length;
        const uac = startSippUdp(
          {
            dir,
            name: "uac-403",
            scenario: uacRejectedScenario(
              {
                requestUri: `sip:bob@${EDGE_DOMAIN}`,
                from: "sip:mallory@evil.example",
                to: `sip:bob@${EDGE_DOMAIN}`,
              },
              403,
            ),
            remote: { host: KAMAILIO_HOST, port: kamailio.udpPort },
            localPort: await freeUdpPort(),
            controlPort: await freeUdpPort(),
            calls: REJECTED_CALLS,
            rate: 10,
            timeoutSeconds: 10,
          },
          SIPP_LIMIT_MS,
        );
        t.after(() => uac.stop());
        const result = await uac.result;
        assert.deepEqual(
          callCounts(result),
          { successful: REJECTED_CALLS, failed: 0 },
          `SIPp UAC exit ${result.exitCode}\n${result.output.slice(-2000)}\n${evidence()}`,
        );
        const finals = receivedMessages(uac.messages())
          .map(startLine)
          .filter((line) => !/^SIP\/2\.0 1\d\d /.test(line));
        assert.ok(finals.length >= REJECTED_CALLS, `finals: ${finals.join(" | ")}`);
        for (const line of finals) {
          // DESIGN.md "Per-message peer authorization": 403 with the reason phrase of the auth code.
          assert.match(
            line,
            /^SIP\/2\.0 403 .*From Not Covered/i,
            "the edge's reason phrase came through Kamailio",
          );
        }
        assert.equal(invitesAt(uas).length, before, "no rejected INVITE reached the inner server");
        const relayed = kamailio.requests().filter((r) => r.method === "INVITE" && r.proto === "udp");
        assert.ok(relayed.length >= CALLS + REJECTED_CALLS, "the rejected INVITEs did go through Kamailio");
      },
    );
  },
);
