import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMessage } from "../../../../src/sip/index.js";
import { answer, FakeFlow, harness, outsideFlow, request, settle } from "./harness.js";

test("Record-Route only for dialog-creating requests outside a dialog (RFC 5658 when the side changes)", () => {
  const h = harness();
  const uac = outsideFlow();
  const cases: Array<[string, string | undefined, number]> = [
    ["INVITE", undefined, 2],
    ["SUBSCRIBE", undefined, 2],
    ["MESSAGE", undefined, 0],
    ["INVITE", "reinv", 0],
  ];
  cases.forEach(([method, toTag, expected], i) => {
    h.core.receive(
      uac,
      request({
        method,
        uri: "sip:bob@edge.example.com",
        callId: `rr-${i}`,
        via: [`SIP/2.0/TLS uac.example.org;branch=z9hG4bKrr${i}`],
        ...(toTag !== undefined ? { to: `<sip:bob@edge.example.com>;tag=${toTag}` } : {}),
        ...(method === "SUBSCRIBE" ? { extra: ["Event: presence"] } : {}),
      }),
    );
    const fwd = h.hops.inner.get("inner:udp:127.0.0.2:5060")!.last();
    assert.equal(fwd.recordRoute.length, expected, `${method} ${toTag ?? ""}`);
  });
});

test("a datagram without Content-Length gets one on the TLS side (§18.3); responses too", async () => {
  const h = harness();
  const out = new FakeFlow("out:3", "outside", "tls", "198.51.100.7", 5061);
  h.hops.outsideResult = () => ({ ok: true, flow: out, release: () => undefined });
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  const text = [
    "MESSAGE sip:carol@remote.example.net SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKcl",
    "Max-Forwards: 70",
    "From: <sip:bob@example.com>;tag=1",
    "To: <sip:carol@remote.example.net>",
    "Call-ID: cl-1",
    "CSeq: 1 MESSAGE",
    "Content-Type: text/plain",
    "",
    "hello",
  ].join("\r\n");
  h.core.receive(inner, parseMessage(Buffer.from(text)));
  await settle();
  const fwd = out.last();
  assert.equal(fwd.contentLength, 5);
  assert.equal(fwd.body.toString(), "hello");
  h.core.receive(out, answer(fwd, 200, "OK", [], "c"));
  assert.equal(inner.responses(200).length, 1);
});

test("CANCEL is still served while draining", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  h.core.receive(inner, answer(inner.requests("INVITE")[0]!, 180, "Ringing", [], "r"));
  void h.core.shutdown(60_000);
  h.core.receive(uac, request({ method: "CANCEL", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(200, "CANCEL").length, 1);
  assert.equal(inner.requests("CANCEL").length, 1);
  assert.equal(uac.responses(503).length, 0);
});

test("§16.6 step 4: a SIPS Request-URI gets a SIPS outside-facing Record-Route", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sips:bob@edge.example.com" }));
  const rr = h.hops.inner.get("inner:udp:127.0.0.2:5060")!.last().values("record-route");
  assert.equal(rr[0], "<sip:127.0.0.1:5070;transport=udp;lr>");
  assert.match(rr[1]!, /^<sips:ft-[^@]+@edge\.example\.com:5061;lr>$/);
});
