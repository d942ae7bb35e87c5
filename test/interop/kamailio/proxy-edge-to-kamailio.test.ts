/**
 * The siptrust daemon → Kamailio (issue 7 §4: "edge → Kamailio verified by RFC 5922 (and rejected/failed
 * over when its certificate names another domain)"). The inner server is a SIPp UAC sending to the edge's
 * inside UDP port with Request-URIs in foreign domains. The edge locates each domain through a real Knot +
 * Unbound lab (RFC 3263 NAPTR → SRV → A; the zones are unsigned, so DESIGN.md "Outbound" rule 3 applies: the
 * SIP domain must be among the certificate's identities, RFC 5922 §7.1–7.2), connects with its client
 * certificate, and a real Kamailio 5.6 (requiring client certificates from the test CA) answers MESSAGE
 * itself and relays INVITE dialogs to a SIPp UAS.
 *
 * One Kamailio has two TLS listeners: one with a kam.example certificate (SAN URIs sip:kam.example and
 * sip:fo.example), one whose certificate names other.example. Kamailio logs every request with the port it
 * arrived on, so "not used" is checked on what Kamailio received, not on what the edge says; a counting TCP
 * relay in front of the other.example listener (the SRV records point at it) shows that the edge did try it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { freeTcpPort, requireKamailio } from "./kamailio.js";
import { startPeerKamailio, type PeerKamailio } from "./proxy-kamailio.js";
import { startEdgeDaemon, type EdgeDaemon } from "./proxy-edge.js";
import { startCountingRelay } from "./proxy-relay.js";
import { freeUdpPort } from "./proxy-ports.js";
import {
  callCounts,
  headerValues,
  receivedMessages,
  startLine,
  startSippUdp,
  uacCallScenario,
  uacRequestScenario,
  uasCallScenario,
  type UacCall,
} from "./proxy-sipp.js";
import { EDGE_DOMAIN, KAM_DOMAIN, federationPki, federationZones, writeEdgeConfig } from "./proxy-world.js";
import { startDnsLab } from "../lab/dns-lab.js";
import { makeTempDir, type TempDir } from "../tls/temp-dir.js";
import { requireTool } from "../tls/tools.js";

requireKamailio();
requireTool("sipp", ["-v"], "sip-tester");

const TEST_TIMEOUT_MS = 90_000;
const SIPP_LIMIT_MS = 25_000;
const MESSAGES = 10;
const CALLS = 5;

interface World {
  readonly dir: TempDir;
  readonly kamailio: PeerKamailio;
  readonly right: number;
  readonly wrong: number;
  readonly edge: EdgeDaemon;
  readonly insidePort: number;
}

function call(domain: string): UacCall {
  return { requestUri: `sip:bob@${domain}`, from: `sip:carol@${EDGE_DOMAIN}`, to: `sip:bob@${domain}` };
}

function failureEvidence(w: World, name: string, output: string, finals: readonly string[]): string {
  return (
    `SIPp UAC (${name}); finals: ${finals.map(startLine).join(" | ")}\n${output.slice(-1500)}\n` +
    `--- edge log (tail)\n${w.edge.log().slice(-4000)}\n--- kamailio log (tail)\n${w.kamailio.log().slice(-2500)}`
  );
}

function finalResponses(log: string): string[] {
  return receivedMessages(log).filter((m) => !/^SIP\/2\.0 1\d\d /.test(startLine(m)));
}

/** SIPp UAC → edge inside: `count` MESSAGEs to `domain`, each expecting `status`; returns the finals received. */
async function messages(
  w: World,
  name: string,
  domain: string,
  count: number,
  status: number,
): Promise<string[]> {
  const uac = startSippUdp(
    {
      dir: w.dir,
      name,
      scenario: uacRequestScenario("MESSAGE", call(domain), status),
      remote: { host: "127.0.0.1", port: w.insidePort },
      localPort: await freeUdpPort(),
      controlPort: await freeUdpPort(),
      calls: count,
      rate: 10,
      timeoutSeconds: 15,
    },
    SIPP_LIMIT_MS,
  );
  const result = await uac.result;
  const finals = finalResponses(uac.messages());
  assert.deepEqual(
    callCounts(result),
    { successful: count, failed: 0 },
    failureEvidence(w, name, result.output, finals),
  );
  return finals;
}

/** SIPp UAC → edge inside: `count` INVITE dialogs to `domain` (Kamailio relays them to the UAS); Call-IDs. */
async function calls(w: World, name: string, domain: string, count: number): Promise<Set<string>> {
  const uac = startSippUdp(
    {
      dir: w.dir,
      name,
      scenario: uacCallScenario(call(domain)),
      remote: { host: "127.0.0.1", port: w.insidePort },
      localPort: await freeUdpPort(),
      controlPort: await freeUdpPort(),
      calls: count,
      rate: 10,
      timeoutSeconds: 15,
    },
    SIPP_LIMIT_MS,
  );
  const result = await uac.result;
  const log = uac.messages();
  assert.deepEqual(
    callCounts(result),
    { successful: count, failed: 0 },
    failureEvidence(w, name, result.output, finalResponses(log)),
  );
  const sent = receivedMessages(log).flatMap((m) => headerValues(m, "Call-ID"));
  return new Set(sent);
}

/** What Kamailio's `X-Kam-Seen` says: the port it answered on and the client certificate it verified. */
function seenBy(response: string): Record<string, string> {
  const value = headerValues(response, "X-Kam-Seen")[0] ?? "";
  return Object.fromEntries(
    value
      .split(";")
      .map((part) => part.trim().split("="))
      .filter((kv): kv is [string, string] => kv.length === 2 && kv[0] !== undefined && kv[1] !== undefined),
  );
}

test(
  "edge → Kamailio: RFC 3263 location, RFC 5922 verification, client certificate, failover",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const dir = makeTempDir("edge-to-kam");
    t.after(() => dir.remove());
    const pki = federationPki();
    const uasPort = await freeUdpPort();
    const kamTls = {
      caPems: [pki.ca.certificatePem],
      verifyCertificate: true,
      requireCertificate: true,
    };
    const kamailio = await startPeerKamailio({
      tlsListeners: [
        { ...kamTls, certPem: pki.kam.certificatePem, keyPem: pki.kam.privateKeyPem },
        { ...kamTls, certPem: pki.other.certificatePem, keyPem: pki.other.privateKeyPem },
      ],
      role: { kind: "serve", domain: KAM_DOMAIN, uasPort },
    });
    t.after(() => kamailio.stop());
    const [right, wrong] = kamailio.tlsPorts;
    assert.ok(right !== undefined && wrong !== undefined);
    const relay = await startCountingRelay(wrong);
    t.after(() => relay.close());
    const lab = await startDnsLab({
      zones: federationZones({ right, wrong: relay.port }),
      startTimeoutMs: 30_000,
      maxLifetimeMs: 180_000,
    });
    t.after(() => lab.stop());
    const tlsPort = await freeTcpPort();
    const insidePort = await freeUdpPort();
    const adminPort = await freeTcpPort();
    const configFile = writeEdgeConfig({
      dir,
      pki,
      tlsPort,
      insidePort,
      innerPort: uasPort,
      adminPort,
      resolver: `${lab.resolver.host}:${lab.resolver.port}`,
      clientCertificateDomains: [KAM_DOMAIN, "fo.example", "wrong.example"],
    });
    const edge = await startEdgeDaemon(configFile, { adminPort, insidePort });
    t.after(() => edge.stop());
    const w: World = { dir, kamailio, right, wrong, edge, insidePort };
    // The UAS behind Kamailio takes every call of the subtests below.
    const uas = startSippUdp(
      {
        dir,
        name: "uas",
        scenario: uasCallScenario(),
        localPort: uasPort,
        controlPort: await freeUdpPort(),
        calls: 2 * CALLS,
      },
      TEST_TIMEOUT_MS,
    );
    t.after(() => uas.stop());
    const requestsOn = (port: number) => kamailio.requests().filter((r) => r.port === port);

    await t.test(
      "kam.example: NAPTR/SRV to Kamailio's TLS port, RFC 5922 match, our client certificate",
      async () => {
        const finals = await messages(w, "uac-kam", KAM_DOMAIN, MESSAGES, 200);
        assert.equal(finals.length, MESSAGES);
        for (const response of finals) {
          const seen = seenBy(response);
          assert.equal(seen.port, String(right), "answered on the SRV target's port");
          assert.equal(seen.verified, "1", "Kamailio verified the edge's client certificate");
          assert.equal(seen.uri, `sip:${EDGE_DOMAIN}`, "the edge presented its client certificate");
        }
        const received = requestsOn(right).filter((r) => r.method === "MESSAGE" && r.proto === "tls");
        assert.equal(received.length, MESSAGES, "every MESSAGE arrived over TLS on the kam.example listener");
      },
    );

    await t.test(`${CALLS} calls to kam.example complete through Kamailio to a SIPp UAS`, async () => {
      const callIds = await calls(w, "uac-calls", KAM_DOMAIN, CALLS);
      // In-dialog requests: the edge followed Kamailio's Record-Route (sip:kam.example:<port>;transport=tls),
      // located and verified kam.example again, and Kamailio relayed them to the UAS.
      const onTls = requestsOn(right).filter((r) => r.proto === "tls" && callIds.has(r.callId));
      for (const method of ["INVITE", "ACK", "BYE"]) {
        const seen = new Set(onTls.filter((r) => r.method === method).map((r) => r.callId));
        assert.equal(
          seen.size,
          CALLS,
          `every call's ${method} reached Kamailio over TLS on its kam.example port`,
        );
      }
    });

    await t.test(
      "fo.example: the first SRV target names other.example — not used; the second gets the calls",
      async () => {
        const tried = relay.connections();
        const finals = await messages(w, "uac-fo", "fo.example", MESSAGES, 200);
        for (const response of finals) assert.equal(seenBy(response).port, String(right));
        const callIds = await calls(w, "uac-fo-calls", "fo.example", CALLS);
        assert.ok(
          relay.connections() > tried,
          "the edge tried the priority-10 target first (RFC 2782 order)",
        );
        const invites = requestsOn(right).filter((r) => r.method === "INVITE" && callIds.has(r.callId));
        assert.equal(invites.length, CALLS, "the fo.example INVITEs went to the kam.example listener");
        assert.deepEqual(requestsOn(wrong), [], "no request was ever sent to the other.example listener");
      },
    );

    await t.test(
      "wrong.example: only the other.example target — 503 with the verification code",
      async () => {
        const tried = relay.connections();
        const finals = await messages(w, "uac-wrong", "wrong.example", 2, 503);
        assert.ok(relay.connections() > tried, "the edge connected to the other.example target");
        assert.ok(finals.length >= 2);
        for (const response of finals) {
          assert.match(startLine(response), /^SIP\/2\.0 503 /);
          // RFC 3326 Reason header with our code (issue 7 §1: "503 with an RFC 3326 Reason header").
          const reason = headerValues(response, "Reason").join(", ");
          assert.match(reason, /rfc5922-no-match/, `Reason carries the verification code:\n${response}`);
        }
        assert.deepEqual(requestsOn(wrong), [], "no request was ever sent to the other.example listener");
      },
    );
  },
);
