/**
 * stunnel4 (client mode) wrapping a plain TCP SIP peer into TLS with a client certificate, the way SIPp will
 * reach the edge (issue 6 §4, issue 7 §4): the listener must see stunnel's verified certificate identity on
 * each request, answer over the same connection, and refuse a stunnel whose certificate it does not trust.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { startHarness } from "./listener-harness.js";
import { freeTcpPort } from "./free-port.js";
import { optionsRequest } from "./sip-text.js";
import { startStunnel } from "./stunnel.js";
import { makeTempDir } from "./temp-dir.js";
import { requireTool } from "./tools.js";
import { within } from "./wait.js";

requireTool("stunnel4", ["-version"], "stunnel4");

const edgeCa = createCa({ cn: "Edge CA" });
const edge = issueCertificate(edgeCa, {
  cn: "edge",
  san: { uri: ["sip:edge.example"], dns: ["edge.example"] },
});
const partnerCa = createCa({ cn: "Partner CA" });
const sipp = issueCertificate(partnerCa, {
  cn: "sipp",
  san: { uri: ["sip:partner.example", "sip:carol@partner.example"] },
  eku: ["clientAuth"],
});
const stranger = issueCertificate(createCa({ cn: "Stranger CA" }), {
  cn: "stranger",
  san: { uri: ["sip:stranger.example"] },
  eku: ["clientAuth"],
});

/** A plain TCP SIP client: sends one request, returns everything received until the peer closes or answers. */
function plainTcpExchange(
  port: number,
  request: string,
): Promise<{ received: string; closedByPeer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      received += d;
      if (/\r\n\r\n/.test(received)) {
        socket.destroy();
        resolve({ received, closedByPeer: false });
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve({ received, closedByPeer: true }));
  });
}

test("stunnel client mode: plain TCP SIP through TLS with stunnel's certificate as the verified peer", async (t) => {
  const dir = makeTempDir("stunnel");
  const harness = await startHarness({ credentials: [edge], mode: "required", clientCas: [partnerCa] });
  t.after(async () => {
    await harness.close();
    dir.remove();
  });
  const good = dir.writeCredential("sipp", sipp);
  const bad = dir.writeCredential("stranger", stranger);
  const caFile = dir.write("edge-ca.pem", edgeCa.certificatePem);
  const [goodPort, badPort] = [await freeTcpPort(), await freeTcpPort()];
  const common = { connectPort: harness.port, caFile, serverName: "edge.example" };
  const stunnel = await startStunnel(dir, [
    { name: "sipp", acceptPort: goodPort, cert: good.cert, key: good.key, ...common },
    { name: "stranger", acceptPort: badPort, cert: bad.cert, key: bad.key, ...common },
  ]);
  t.after(() => stunnel.stop());

  // Two TCP connections (SIPp -t tn) become two TLS connections, each carrying stunnel's identity.
  for (const callId of ["tunnel-1", "tunnel-2"]) {
    const { received } = await within(
      plainTcpExchange(goodPort, optionsRequest(callId, "partner.example")),
      10_000,
      `answer through stunnel for ${callId}\n${stunnel.log()}`,
    );
    assert.match(received, /^SIP\/2\.0 200 OK\r\n/, `${callId}: answered through the tunnel`);
    assert.match(received, new RegExp(`Call-ID: ${callId}\r\n`));
  }
  assert.equal(harness.seen.length, 2);
  const [first, second] = harness.seen;
  assert.notEqual(first?.connectionId, second?.connectionId, "one TLS connection per TCP connection");
  for (const seen of harness.seen) {
    assert.equal(seen.verification, "client-verified");
    assert.deepEqual(seen.identities, ["partner.example", "sip:carol@partner.example"]);
    assert.equal(seen.sni, "edge.example", "stunnel sent the configured SNI");
    assert.match(seen.tlsVersion, /^TLSv1\.[23]$/);
  }

  // A stunnel presenting a certificate from a CA this listener does not trust gets no SIP through.
  const refused = await within(
    plainTcpExchange(badPort, optionsRequest("tunnel-3", "stranger.example")),
    10_000,
    `stranger tunnel to be closed\n${stunnel.log()}`,
  );
  assert.equal(refused.received, "");
  assert.equal(refused.closedByPeer, true);
  assert.equal(harness.listener.counters.get("tls.client.unknown-issuer"), 1);
  assert.equal(harness.seen.length, 2, "nothing delivered from the refused tunnel");
});
