import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMessage, parseMessage, serializeMessage } from "../../../src/sip/index.js";
import { allCorpusMessages } from "./corpus.js";

const INVITE = Buffer.from(
  [
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    "Via: SIP/2.0/TLS pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2",
    "mAX-forwards:   70",
    "Route: <sip:edge.biloxi.example.com;lr>,\r\n <sip:core.biloxi.example.com;lr>",
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
    "To: Bob <sip:bob@biloxi.example.com>",
    "Call-ID: a84b4c76e66710",
    "CSeq: 314159 INVITE",
    "P-Internal-Identity: sip:mallory@evil.example.com",
    "X-Odd:   keep   this  spacing ",
    "Content-Length: 4",
    "",
    "v=0\n",
  ].join("\r\n"),
);

test("no edits: the exact received bytes (every corpus message that parses)", () => {
  let checked = 0;
  for (const bytes of allCorpusMessages()) {
    let m;
    try {
      m = parseMessage(bytes);
    } catch {
      continue;
    }
    assert.ok(serializeMessage(m).equals(m.raw));
    checked++;
  }
  assert.equal(checked, 39); // 49 files minus the 10 that rfc4475.test.ts expects parseMessage to reject
});

test("proxy edits on a request (RFC 3261 §16.6), untouched headers byte for byte", () => {
  const m = parseMessage(INVITE);
  const out = serializeMessage(m, {
    requestUri: "sip:bob@192.0.2.4:5061;transport=tls",
    addVia: "SIP/2.0/TLS edge.atlanta.example.com:5061;branch=z9hG4bKedge1",
    removeTopRoute: true,
    addRecordRoute: "<sip:edge.atlanta.example.com:5061;transport=tls;lr>",
    decrementMaxForwards: true,
    removeHeaders: ["p-internal-identity"],
    addHeaders: [["P-Internal-Identity", "sip:alice@atlanta.example.com"]],
  });
  const text = out.toString("latin1");
  const f = parseMessage(out);
  assert.equal(f.requestUriText, "sip:bob@192.0.2.4:5061;transport=tls");
  assert.deepEqual(
    f.via.map((v) => v.branch),
    ["z9hG4bKedge1", "z9hG4bKnashds8", "z9hG4bK2"],
  );
  assert.equal(f.maxForwards, 69);
  assert.ok(text.includes("mAX-forwards: 69\r\n"), "the received header name is kept");
  assert.deepEqual(
    f.route.map((r) => r.uriText),
    ["sip:core.biloxi.example.com;lr"],
  );
  assert.deepEqual(
    f.recordRoute.map((r) => r.uriText),
    ["sip:edge.atlanta.example.com:5061;transport=tls;lr"],
  );
  assert.deepEqual(f.getAll("P-Internal-Identity"), ["sip:alice@atlanta.example.com"]);
  // Untouched lines are copied exactly, odd spacing included.
  for (const line of [
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n",
    "X-Odd:   keep   this  spacing \r\n",
    "CSeq: 314159 INVITE\r\n",
  ]) {
    assert.ok(text.includes(line), `missing ${JSON.stringify(line)}`);
  }
  assert.equal(f.body.toString(), "v=0\n");
});

test("removing the top Via of a response keeps the other values of that line as received", () => {
  const resp = Buffer.from(
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS edge;branch=z9hG4bKe ,  SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\n" +
      "Via: SIP/2.0/UDP x;branch=z9hG4bK3\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: z\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
  );
  const out = serializeMessage(parseMessage(resp), { removeTopVia: true });
  assert.ok(
    out.toString("latin1").includes("Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\nVia: SIP/2.0/UDP x;"),
  );
  // A single-valued top line disappears entirely.
  const out2 = serializeMessage(parseMessage(out), { removeTopVia: true });
  assert.deepEqual(
    parseMessage(out2).via.map((v) => v.branch),
    ["z9hG4bK3"],
  );
});

test("Max-Forwards: added as 70 when missing; 0 cannot be forwarded", () => {
  const noMf = Buffer.from(INVITE.toString("latin1").replace("mAX-forwards:   70\r\n", ""), "latin1");
  assert.equal(
    parseMessage(serializeMessage(parseMessage(noMf), { decrementMaxForwards: true })).maxForwards,
    70,
  );
  const zero = Buffer.from(
    INVITE.toString("latin1").replace("mAX-forwards:   70", "Max-Forwards: 0"),
    "latin1",
  );
  assert.throws(() => serializeMessage(parseMessage(zero), { decrementMaxForwards: true }), RangeError);
});

test("new Route values go on top in order; new headers without any existing one are placed at the top", () => {
  const m = parseMessage(INVITE);
  const out = parseMessage(serializeMessage(m, { addRoute: ["<sip:r1;lr>", "<sip:r2;lr>"] }));
  assert.deepEqual(
    out.route.map((r) => r.uriText),
    ["sip:r1;lr", "sip:r2;lr", "sip:edge.biloxi.example.com;lr", "sip:core.biloxi.example.com;lr"],
  );
  const rr = parseMessage(serializeMessage(m, { addRecordRoute: "<sip:rr;lr>" }));
  assert.equal(rr.headers[0]!.key, "record-route");
});

test("injected text cannot break out of its line", () => {
  const m = parseMessage(INVITE);
  assert.throws(() => serializeMessage(m, { addVia: "SIP/2.0/UDP x\r\nEvil: 1" }), RangeError);
  assert.throws(() => serializeMessage(m, { requestUri: "sip:a b" }), RangeError);
  assert.throws(() => serializeMessage(m, { addHeaders: [["Bad Name", "x"]] }), RangeError);
});

test("ensureContentLength adds the header for a datagram message forwarded onto a stream", () => {
  const m = parseMessage(Buffer.from("MESSAGE sip:b@h SIP/2.0\r\nCall-ID: x\r\n\r\nhello"));
  const out = serializeMessage(m, { ensureContentLength: true });
  assert.equal(parseMessage(out).contentLength, 5);
});

test("formatMessage builds a message that parses back, with Content-Length added", () => {
  const bytes = formatMessage({
    startLine: "SIP/2.0 403 Forbidden",
    headers: [
      ["Via", "SIP/2.0/TLS h;branch=z9hG4bK1"],
      ["From", "<sip:a@b>;tag=1"],
      ["To", "<sip:c@d>;tag=2"],
      ["Call-ID", "x"],
      ["CSeq", "1 INVITE"],
    ],
    body: "nope",
  });
  const m = parseMessage(bytes);
  assert.equal(m.status, 403);
  assert.equal(m.contentLength, 4);
  assert.equal(m.body.toString(), "nope");
});
