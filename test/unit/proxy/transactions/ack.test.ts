import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMessage } from "../../../../src/sip/index.js";
import {
  ackForNonSuccess,
  buildAck,
  serverTransactionKey,
} from "../../../../src/proxy/transactions/index.js";
import { requestBuffer, response } from "./fixtures.js";

const INVITE = requestBuffer({
  branch: "z9hG4bK-edge-1",
  sentBy: "edge.example.com:5061",
  transport: "TLS",
  cseq: 4711,
  extraVia: ["SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-uac;received=192.0.2.1"],
  routes: ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"],
  uri: "sip:bob@b.example;transport=tls",
  body: "v=0\r\n",
});

test("§17.1.1.3: the ACK copies Request-URI, Call-ID, From, CSeq number, top Via, Routes; To from the response", () => {
  const resp = response({ status: 486, toTag: "uas-77", cseq: 4711, branch: "z9hG4bK-edge-1" });
  const ack = parseMessage(ackForNonSuccess(INVITE, resp));
  const invite = parseMessage(INVITE);
  assert.equal(ack.method, "ACK");
  assert.equal(ack.requestUriText, "sip:bob@b.example;transport=tls");
  assert.deepEqual(
    ack.values("via"),
    ["SIP/2.0/TLS edge.example.com:5061;branch=z9hG4bK-edge-1"],
    "one Via only",
  );
  assert.equal(ack.topVia.branch, "z9hG4bK-edge-1", "the INVITE's branch");
  assert.equal(ack.get("from"), invite.get("from"));
  assert.equal(ack.from.tag, "f1");
  assert.equal(ack.get("to"), resp.get("to"));
  assert.equal(ack.to.tag, "uas-77", "To tag of the response being acknowledged");
  assert.equal(ack.callId, "call-1@a.example");
  assert.deepEqual(ack.cseq, { seq: 4711, method: "ACK" });
  assert.deepEqual(ack.getAll("route"), ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]);
  assert.equal(ack.maxForwards, 69, "hop budget of the INVITE as sent");
  assert.equal(ack.contentLength, 0);
  assert.equal(ack.body.length, 0, "no body (§17.1.1.3: a body in this ACK is useless)");
  assert.equal(ack.get("contact"), undefined);
  assert.equal(ack.get("content-type"), undefined);
  // The next hop's server transaction matches it to the INVITE (§17.2.3).
  assert.equal(serverTransactionKey(ack), serverTransactionKey(invite));
});

test("§17.1.1.3: an INVITE without Route gives an ACK without Route; buildAck matches ackForNonSuccess", () => {
  const buf = requestBuffer({});
  const resp = response({ status: 603, toTag: "x" });
  const ack = ackForNonSuccess(buf, resp);
  assert.deepEqual(parseMessage(ack).getAll("route"), []);
  assert.deepEqual(buildAck(parseMessage(buf), resp), ack);
});

test("ackForNonSuccess refuses a response in place of the request and a response without To", () => {
  const resp = response({ status: 486, toTag: "t" });
  assert.throws(() => ackForNonSuccess(resp.raw, resp), TypeError);
  const noTo = parseMessage(Buffer.from("SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n"));
  assert.throws(() => ackForNonSuccess(requestBuffer({}), noTo), TypeError);
});
