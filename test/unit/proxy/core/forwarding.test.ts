import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeAddress, receivedTopVia } from "../../../../src/proxy/core/forwarding.js";
import { buildCancel } from "../../../../src/proxy/core/cancel.js";
import { parseMessage, parseVia } from "../../../../src/sip/index.js";
import { FakeFlow, request } from "./harness.js";

function via(text: string) {
  const r = parseVia(text);
  assert.ok(r.ok);
  return r.value;
}

test("§18.2.1 / RFC 3581: received added when sent-by differs, rport filled when asked for", () => {
  const src = new FakeFlow("inner:udp:127.0.0.9:5099", "inside", "udp", "127.0.0.9", 5099);
  assert.equal(receivedTopVia(via("SIP/2.0/UDP 127.0.0.9:5099;branch=z9hG4bK1"), src), undefined);
  assert.equal(
    receivedTopVia(via("SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK1;rport"), src),
    "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK1;received=127.0.0.9;rport=5099",
  );
  assert.equal(
    receivedTopVia(via("SIP/2.0/TLS host.example;branch=z9hG4bK1;received=1.1.1.1"), src),
    "SIP/2.0/TLS host.example;branch=z9hG4bK1;received=127.0.0.9",
  );
  const v6 = new FakeFlow("x", "outside", "tls", "::1", 1);
  assert.equal(receivedTopVia(via("SIP/2.0/TLS [::1];branch=z9hG4bK1"), v6), undefined);
  assert.equal(normalizeAddress("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeAddress("::1"), "[::1]");
});

test("§9.1 CANCEL: Request-URI, To, From, Call-ID, CSeq number and Route of the request; its top Via only", () => {
  const sent = request({
    method: "INVITE",
    uri: "sip:bob@127.0.0.2",
    via: [
      "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKours.1;rport",
      "SIP/2.0/TLS uac.example.org;branch=z9hG4bKu",
    ],
    route: ["<sip:p1.example;lr>", "<sip:p2.example;lr>"],
    cseq: 7,
    body: "v=0\r\n",
  }).raw;
  const cancel = parseMessage(buildCancel(sent, "SIP;cause=487"));
  assert.equal(cancel.method, "CANCEL");
  assert.equal(cancel.requestUriText, "sip:bob@127.0.0.2");
  assert.equal(cancel.via.length, 1);
  assert.equal(cancel.topVia.branch, "z9hG4bKours.1");
  assert.deepEqual(cancel.values("route"), ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]);
  assert.deepEqual(cancel.cseq, { seq: 7, method: "CANCEL" });
  assert.equal(cancel.get("reason"), "SIP;cause=487");
  assert.equal(cancel.body.length, 0);
});
