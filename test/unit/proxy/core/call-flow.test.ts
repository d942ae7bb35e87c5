import { test } from "node:test";
import assert from "node:assert/strict";
import { answer, harness, IDENTITY, outsideFlow, request, settle, FakeFlow } from "./harness.js";

test("outside → inside: INVITE/100/180/200/ACK, then BYE from inside over the flow token", () => {
  const h = harness();
  const uac = outsideFlow("in:tls:1");
  h.hops.byId.set(uac.id, uac);
  const invite = request({
    method: "INVITE",
    uri: "sip:bob@edge.example.com",
    extra: [`${IDENTITY}: forged`, "x-siptrust-identity: forged-too"],
  });
  h.core.receive(uac, invite);

  // §16.2: 100 Trying at once.
  assert.equal(uac.responses(100).length, 1);
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const fwd = inner.last();
  assert.equal(fwd.method, "INVITE");
  assert.equal(fwd.maxForwards, 69);
  // Our Via on top for the inside interface, with rport; the received one below it, with received=.
  const vias = fwd.via;
  assert.equal(vias.length, 2);
  assert.equal(vias[0]!.transport, "UDP");
  assert.equal(`${vias[0]!.host}:${vias[0]!.port}`, "127.0.0.1:5070");
  assert.ok(vias[0]!.branch!.startsWith("z9hG4bK"));
  assert.equal(vias[0]!.hasRport, true);
  assert.equal(vias[1]!.host, "uac.example.org");
  assert.equal(vias[1]!.received, "192.0.2.10");
  // RFC 5658 double Record-Route: the sending (inside) interface on top, the receiving (outside) one below.
  const rr = fwd.recordRoute;
  assert.equal(rr.length, 2);
  assert.equal(rr[0]!.uriText, "sip:127.0.0.1:5070;transport=udp;lr");
  assert.match(
    rr[1]!.uriText,
    /^sip:ft-[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+@edge\.example\.com:5061;transport=tls;lr$/,
  );
  // Identity header: both forged copies gone, ours added once.
  assert.deepEqual(fwd.getAll(IDENTITY), ["example.org;method=pkix+rfc5922"]);

  // 100 from the UAS is not forwarded; 180 and 200 are, with our Via removed.
  h.core.receive(inner, answer(fwd, 100, "Trying"));
  h.core.receive(inner, answer(fwd, 180, "Ringing", [], "uas1"));
  assert.equal(uac.responses(100).length, 1);
  const ringing = uac.responses(180)[0]!;
  assert.equal(ringing.via.length, 1);
  assert.equal(ringing.topVia.branch, "z9hG4bKuac1");
  const ok = answer(fwd, 200, "OK", ["Contact: <sip:bob@127.0.0.2:5060>"], "uas1");
  h.core.receive(inner, ok);
  const ok200 = uac.responses(200, "INVITE")[0]!;
  assert.equal(ok200.via.length, 1);
  assert.equal(ok200.recordRoute.length, 2);
  assert.equal(h.summaries.length, 1);
  const s = h.summaries[0]!;
  assert.equal(s.status, 200);
  assert.equal(s.direction, "inbound");
  assert.equal(s.method, "INVITE");
  assert.equal(s.callId, "call-1@example.org");
  assert.equal(s.requestUri, "sip:bob@edge.example.com");
  assert.equal(s.source, uac);
  assert.equal(s.outsideFlow, uac);
  assert.equal(s.decision.action, "forward");
  assert.equal(s.failure, undefined);
  assert.equal(h.counters.get("proxy.requests.INVITE.forwarded"), 1);
  assert.equal(h.counters.get("proxy.auth.ok.covered-by-domain"), 1);

  // ACK for the 2xx from the UAC: route set = reversed Record-Route (outside entry first).
  const routeSet = [...ok200.values("record-route")].reverse();
  const ack = request({
    method: "ACK",
    uri: "sip:bob@127.0.0.2:5060",
    via: ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKuacack"],
    to: "<sip:bob@edge.example.com>;tag=uas1",
    route: routeSet,
  });
  const before = inner.sent.length;
  h.core.receive(uac, ack);
  assert.equal(inner.sent.length, before + 1);
  const fwdAck = inner.last();
  assert.equal(fwdAck.method, "ACK");
  assert.equal(fwdAck.route.length, 0, "both of our Route entries removed");
  assert.equal(fwdAck.via.length, 2);

  // BYE from the inside: its route set is the Record-Route in order (inside entry first, then the token one).
  const bye = request({
    method: "BYE",
    uri: "sip:alice@192.0.2.10:5061;transport=tls",
    via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKuasbye"],
    from: "<sip:bob@edge.example.com>;tag=uas1",
    to: "<sip:alice@example.org>;tag=fa1",
    cseq: 2,
    route: ok200.values("record-route"),
  });
  const uacBefore = uac.sent.length;
  h.core.receive(inner, bye);
  assert.equal(uac.sent.length, uacBefore + 1, "BYE went out on the flow named by the token");
  const fwdBye = uac.last();
  assert.equal(fwdBye.method, "BYE");
  assert.equal(fwdBye.topVia.transport, "TLS");
  assert.equal(`${fwdBye.topVia.host}:${fwdBye.topVia.port}`, "edge.example.com:5061");
  assert.equal(fwdBye.route.length, 0);
  assert.equal(h.hops.acquired.length, 0, "no RFC 3263 lookup for a flow-token request");
  assert.equal(fwdBye.get(IDENTITY), undefined, "identity header is only added on the way inside");
  h.core.receive(uac, answer(fwdBye, 200, "OK"));
  assert.equal(inner.responses(200, "BYE").length, 1);
  assert.equal(h.summaries.length, 2);
  assert.equal(h.summaries[1]!.direction, "outbound");
  assert.equal(h.summaries[1]!.outsideFlow, uac);
});

test("inside → outside: INVITE via outsideFlow, ACK and BYE from the outside back to the inner server", async () => {
  const h = harness();
  const out = new FakeFlow("out:7", "outside", "tls", "198.51.100.7", 5061);
  h.hops.outsideResult = () => ({ ok: true, flow: out, release: () => undefined });
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  const invite = request({
    method: "INVITE",
    uri: "sip:carol@remote.example.net",
    via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKpbx1;rport"],
    from: "<sip:bob@example.com>;tag=pb1",
    to: "<sip:carol@remote.example.net>",
    callId: "out-1",
  });
  h.core.receive(inner, invite);
  assert.equal(inner.responses(100).length, 1);
  await settle();
  assert.deepEqual(h.hops.acquired[0], {
    scheme: "sip",
    host: "remote.example.net",
    uri: "sip:carol@remote.example.net",
  });
  const fwd = out.last();
  assert.equal(fwd.method, "INVITE");
  assert.equal(fwd.topVia.transport, "TLS");
  assert.equal(fwd.topVia.hasRport, false);
  assert.equal(fwd.via[1]!.rport, 5060);
  const rr = fwd.values("record-route");
  assert.deepEqual(rr, [
    "<sip:edge.example.com:5061;transport=tls;lr>",
    "<sip:127.0.0.1:5070;transport=udp;lr>",
  ]);
  h.core.receive(out, answer(fwd, 180, "Ringing", [], "rc1"));
  h.core.receive(
    out,
    answer(fwd, 200, "OK", ["Contact: <sip:carol@198.51.100.7:5061;transport=tls>"], "rc1"),
  );
  assert.equal(inner.responses(180).length, 1);
  const ok = inner.responses(200, "INVITE")[0]!;
  assert.equal(ok.via.length, 1);
  assert.equal(h.hops.released, 1, "release() once the transaction has its final response");
  assert.equal(h.summaries[0]!.outsideFlow, out);
  assert.equal(h.summaries[0]!.direction, "outbound");

  // ACK from the inner UAC: Route = reversed Record-Route → our inside entry, our outside entry.
  const ack = request({
    method: "ACK",
    uri: "sip:carol@198.51.100.7:5061;transport=tls",
    via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKpbxack"],
    from: "<sip:bob@example.com>;tag=pb1",
    to: "<sip:carol@remote.example.net>;tag=rc1",
    callId: "out-1",
    route: [...ok.values("record-route")].reverse(),
  });
  h.core.receive(inner, ack);
  await settle();
  assert.equal(out.requests("ACK").length, 1);
  assert.equal(h.hops.acquired[1]!.host, "198.51.100.7");
  assert.equal(h.hops.acquired[1]!.port, 5061);
  assert.equal(h.hops.acquired[1]!.transport, "tls");
  assert.equal(h.hops.released, 2);

  // BYE from the remote side: Route = Record-Route in order (outside entry, inside entry).
  const bye = request({
    method: "BYE",
    uri: "sip:bob@127.0.0.2:5060",
    via: ["SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bKrbye"],
    from: "<sip:carol@remote.example.net>;tag=rc1",
    to: "<sip:bob@example.com>;tag=pb1",
    callId: "out-1",
    cseq: 5,
    route: rr,
  });
  h.core.receive(out, bye);
  const fwdBye = inner.requests("BYE")[0]!;
  assert.equal(fwdBye.route.length, 0);
  assert.equal(fwdBye.requestUriText, "sip:bob@127.0.0.2:5060");
  h.core.receive(inner, answer(fwdBye, 200, "OK"));
  assert.equal(out.responses(200, "BYE").length, 1);
});

test("in-dialog request from inside whose token flow is gone → 430 Flow Failed", () => {
  const h = harness();
  const uac = outsideFlow("in:tls:9");
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const rr = inner.last().values("record-route");
  // h.hops.byId has no "in:tls:9": the connection closed.
  const bye = request({
    method: "BYE",
    uri: "sip:alice@192.0.2.10:5061;transport=tls",
    via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKbye430"],
    from: "<sip:bob@edge.example.com>;tag=uas1",
    to: "<sip:alice@example.org>;tag=fa1",
    cseq: 2,
    route: rr,
  });
  h.core.receive(inner, bye);
  const r = inner.responses(430)[0]!;
  assert.equal(r.reason, "Flow Failed");
  assert.equal(h.hops.acquired.length, 0);
});

test("a forged flow token is not honoured and an outside request never goes back outside", async () => {
  const h = harness();
  const victim = outsideFlow("in:tls:2");
  h.hops.byId.set(victim.id, victim);
  const attacker = outsideFlow("in:tls:3");
  // An outside request whose Route names us with a token and then a foreign host: still goes inside.
  h.core.receive(
    attacker,
    request({
      method: "MESSAGE",
      uri: "sip:x@elsewhere.example",
      route: [
        "<sip:ft-aW46dGxzOjI.AAAAAAAAAAAAAAAA@edge.example.com:5061;transport=tls;lr>",
        "<sip:elsewhere.example;lr>",
      ],
    }),
  );
  await settle();
  assert.equal(victim.sent.length, 0);
  assert.equal(h.hops.acquired.length, 0);
  assert.equal(h.hops.inner.get("inner:udp:127.0.0.2:5060")!.requests("MESSAGE").length, 1);
});
