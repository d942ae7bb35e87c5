import { test } from "node:test";
import assert from "node:assert/strict";
import { answer, FakeFlow, harness, IDENTITY, outsideFlow, request, settle, sip } from "./harness.js";

test("policy rejection: status and reason phrase from the decision, auth denial counted", () => {
  const h = harness();
  h.policy.decideWith = () => ({
    action: "reject",
    status: 403,
    reason: "From not covered by certificate",
    code: "from-not-covered",
    auth: { ok: false, code: "from-not-covered", detail: "x", dropped: [] },
    tags: ["fed-a"],
  });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const r = uac.responses(403)[0]!;
  assert.equal(r.reason, "From not covered by certificate");
  assert.ok(r.to.tag !== undefined, "§8.2.6.2: our final response carries a To tag");
  assert.equal(h.hops.inner.size, 0);
  assert.equal(h.counters.get("proxy.auth.denied.from-not-covered"), 1);
  assert.equal(h.counters.get("proxy.requests.INVITE.rejected"), 1);
  const s = h.summaries[0]!;
  assert.equal(s.status, 403);
  assert.equal(s.decision.action, "reject");
  assert.deepEqual(s.decision.tags, ["fed-a"]);
  assert.equal(s.failure?.code, "from-not-covered");
});

test("identity header stripped from outside responses (any case) but kept from inside", async () => {
  const h = harness();
  const out = new FakeFlow("out:1", "outside", "tls", "198.51.100.7", 5061);
  h.hops.outsideResult = () => ({ ok: true, flow: out, release: () => undefined });
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  h.core.receive(
    inner,
    request({
      method: "MESSAGE",
      uri: "sip:carol@remote.example.net",
      via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKm1"],
      extra: [`${IDENTITY}: inner-value`],
    }),
  );
  await settle();
  const fwd = out.last();
  assert.equal(fwd.get(IDENTITY), "inner-value", "requests from inside keep what the inner server wrote");
  h.core.receive(out, answer(fwd, 200, "OK", ["X-SIPTRUST-IDENTITY: forged", `${IDENTITY}: forged2`], "t"));
  const ok = inner.responses(200)[0]!;
  assert.equal(ok.get(IDENTITY), undefined);
  assert.equal(h.counters.get("proxy.identity-header.stripped"), 1);
});

test("loop: our own forwarded request arriving again on the same side, unchanged → 482", async () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@remote.example.net" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const fwd = inner.last();
  // The inner server sent it on and it came back to our outside interface, fields unchanged.
  const back = sip([
    "MESSAGE sip:bob@remote.example.net SIP/2.0",
    "Via: SIP/2.0/TLS far.example.net;branch=z9hG4bKfar",
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKinner",
    ...fwd.values("via").map((v) => `Via: ${v}`),
    "Max-Forwards: 67",
    `From: ${fwd.get("from")!}`,
    `To: ${fwd.get("to")!}`,
    `Call-ID: ${fwd.callId}`,
    `CSeq: ${fwd.get("cseq")!}`,
  ]);
  const far = outsideFlow("in:tls:far");
  h.core.receive(far, back);
  await settle();
  assert.equal(far.responses(482)[0]?.reason, "Loop Detected");
  assert.equal(inner.requests("MESSAGE").length, 1);
});

test("outside → inner server → back out through us (same fields, other side) is not a loop", async () => {
  const h = harness();
  const out = new FakeFlow("out:9", "outside", "tls", "198.51.100.9", 5061);
  h.hops.outsideResult = () => ({ ok: true, flow: out, release: () => undefined });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@remote.example.net" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const fwd = inner.last();
  const back = sip([
    "MESSAGE sip:bob@remote.example.net SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKinner",
    ...fwd.values("via").map((v) => `Via: ${v}`),
    "Max-Forwards: 68",
    `From: ${fwd.get("from")!}`,
    `To: ${fwd.get("to")!}`,
    `Call-ID: ${fwd.callId}`,
    `CSeq: ${fwd.get("cseq")!}`,
  ]);
  h.core.receive(inner, back);
  await settle();
  assert.equal(inner.responses(482).length, 0);
  assert.equal(out.requests("MESSAGE").length, 1);
});

test("a spiral (Request-URI changed) is not a loop", async () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@remote.example.net" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const fwd = inner.last();
  const back = sip([
    "MESSAGE sip:bob-forwarded@remote.example.net SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKinner2",
    ...fwd.values("via").map((v) => `Via: ${v}`),
    `From: ${fwd.get("from")!}`,
    `To: ${fwd.get("to")!}`,
    `Call-ID: ${fwd.callId}`,
    `CSeq: ${fwd.get("cseq")!}`,
  ]);
  h.core.receive(inner, back);
  await settle();
  assert.equal(inner.responses(482).length, 0);
  assert.equal(h.hops.acquired.length, 1);
});

test("Max-Forwards 0 → 483; OPTIONS to us (even with Max-Forwards 0) → 200 with Allow", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com", maxForwards: 0 }));
  assert.equal(uac.responses(483)[0]?.reason, "Too Many Hops");
  h.core.receive(
    uac,
    request({ method: "OPTIONS", uri: "sip:edge.example.com", maxForwards: 0, callId: "o1" }),
  );
  h.core.receive(uac, request({ method: "OPTIONS", uri: "sip:edge.example.com:5061", callId: "o2" }));
  const oks = uac.responses(200, "OPTIONS");
  assert.equal(oks.length, 2);
  assert.match(oks[0]!.get("allow")!, /INVITE/);
  assert.ok(oks[0]!.get("accept") !== undefined);
  assert.equal(h.hops.inner.size, 0);
  assert.equal(h.policy.calls, 0, "answered before the policy");
  assert.equal(h.counters.get("proxy.requests.OPTIONS.local"), 2);
  // OPTIONS to a user at our domain is proxied.
  h.core.receive(uac, request({ method: "OPTIONS", uri: "sip:bob@edge.example.com", callId: "o3" }));
  assert.equal(h.hops.inner.get("inner:udp:127.0.0.2:5060")!.requests("OPTIONS").length, 1);
});

test("§16.3 validation: 420 lists Unsupported, 416 for a foreign scheme, 400 for a bad header", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(
    uac,
    request({ method: "INVITE", uri: "sip:bob@edge.example.com", extra: ["Proxy-Require: foo"] }),
  );
  assert.equal(uac.responses(420)[0]!.get("unsupported"), "foo");
  h.core.receive(uac, request({ method: "MESSAGE", uri: "mailto:bob@example.com", callId: "v2" }));
  assert.equal(uac.responses(416).length, 1);
  h.core.receive(
    uac,
    request({
      method: "MESSAGE",
      uri: "sip:bob@edge.example.com",
      callId: "v3",
      extra: ["Contact: <sip:a@b>;q=7"],
    }),
  );
  assert.equal(uac.responses(400).length, 1);
  assert.equal(h.hops.inner.size, 0);
});

test("retransmitted INVITE over UDP is absorbed: 100 sent again, forwarded once", async () => {
  const h = harness();
  const out = new FakeFlow("out:1", "outside", "tls", "198.51.100.7", 5061);
  h.hops.outsideResult = () => ({ ok: true, flow: out, release: () => undefined });
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  const invite = request({
    method: "INVITE",
    uri: "sip:carol@remote.example.net",
    via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKre1"],
  });
  h.core.receive(inner, invite);
  await settle();
  h.core.receive(inner, invite);
  await settle();
  assert.equal(out.requests("INVITE").length, 1);
  assert.equal(inner.responses(100).length, 2);
  assert.equal(h.counters.get("proxy.retransmissions"), 1);
});

test("outsideFlow failure → 503 with an RFC 3326 Reason carrying the code", async () => {
  const h = harness();
  h.hops.outsideResult = () => ({
    ok: false,
    code: "rfc5922-no-match",
    detail: "certificate names another domain",
  });
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  h.core.receive(
    inner,
    request({
      method: "INVITE",
      uri: "sip:carol@remote.example.net",
      via: ["SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKo1"],
    }),
  );
  await settle();
  const r = inner.responses(503)[0]!;
  assert.equal(r.get("reason"), 'SIP;cause=503;text="rfc5922-no-match"');
  const s = h.summaries[0]!;
  assert.equal(s.failure?.code, "outbound-failed:rfc5922-no-match");
  assert.equal(s.status, 503);
  assert.equal(s.direction, "outbound");
});

test("no inner target for the group → 503 no-target; outside decision for an outside request → 403", () => {
  const h = harness();
  const uac = outsideFlow();
  h.policy.decideWith = () => ({ action: "forward", to: { kind: "inner", group: "missing" }, tags: [] });
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com", callId: "n1" }));
  assert.equal(uac.responses(503)[0]!.get("reason"), 'SIP;cause=503;text="no-target"');
  h.policy.decideWith = () => ({ action: "forward", to: { kind: "outside" }, tags: [] });
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@elsewhere.example", callId: "n2" }));
  assert.equal(uac.responses(403)[0]!.reason, "Relaying Denied");
  assert.equal(h.hops.acquired.length, 0);
});

test("stray responses: dropped and counted; a response from the wrong connection is not accepted", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  const stray = sip([
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKnotours.x",
    "From: <sip:a@b>;tag=1",
    "To: <sip:c@d>;tag=2",
    "Call-ID: stray",
    "CSeq: 1 MESSAGE",
  ]);
  h.core.receive(inner, stray);
  assert.equal(h.counters.get("proxy.dropped.stray-response"), 1);
  // The right branch, but from an outside connection instead of the inner server.
  const fwd = inner.last();
  h.core.receive(outsideFlow("in:tls:66"), answer(fwd, 200, "OK", [], "x"));
  assert.equal(h.counters.get("proxy.dropped.response-wrong-flow"), 1);
  assert.equal(uac.responses(200).length, 0);
});

test("stateless forwarding of a response for a finished transaction to an inner server we used (§16.11)", () => {
  const h = harness();
  const uac = outsideFlow();
  const inner = h.hops.innerFlow({ transport: "udp", address: "127.0.0.2", port: 5060 });
  // Inside → outside request whose transaction is long gone: the response comes back from the outside.
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" }));
  const resp = sip([
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/TLS edge.example.com:5061;branch=z9hG4bKgone.1",
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKpbx;rport=5060",
    "From: <sip:a@b>;tag=1",
    "To: <sip:c@d>;tag=2",
    "Call-ID: late",
    "CSeq: 1 MESSAGE",
  ]);
  h.core.receive(uac, resp);
  const fwd = inner.responses(200).find((m) => m.callId === "late")!;
  assert.equal(fwd.via.length, 1);
  assert.equal(h.counters.get("proxy.stateless.responses"), 1);
});

test("shutdown: new requests get 503 + Retry-After, running ones finish, then it resolves", async () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  let done = false;
  const p = h.core.shutdown(10_000).then(() => (done = true));
  h.core.receive(
    uac,
    request({
      method: "INVITE",
      uri: "sip:bob@edge.example.com",
      callId: "new",
      via: ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKnew"],
    }),
  );
  const r503 = uac.responses(503)[0]!;
  assert.equal(r503.get("retry-after"), "5");
  await settle();
  assert.equal(done, false);
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  h.core.receive(inner, answer(inner.requests("INVITE")[0]!, 200, "OK", [], "z"));
  await p;
  assert.equal(done, true);
  assert.equal(uac.responses(200, "INVITE").length, 1);
});

test("shutdown grace over: a transaction still running is answered 503", async () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  h.core.receive(inner, answer(inner.requests("INVITE")[0]!, 180, "Ringing", [], "z"));
  const p = h.core.shutdown(1000);
  h.clock.advance(1000);
  await p;
  assert.equal(uac.responses(503).length, 1);
});

test("maxTransactions: beyond it, 503 + Retry-After without a transaction", () => {
  const h = harness({ maxTransactions: 1 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  h.core.receive(
    uac,
    request({
      method: "INVITE",
      uri: "sip:bob@edge.example.com",
      callId: "c2",
      via: ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bK2"],
    }),
  );
  assert.equal(uac.responses(503)[0]!.get("retry-after"), "5");
  assert.equal(h.counters.get("proxy.refused.overload"), 1);
  assert.equal(h.core.activeTransactions, 1);
  assert.equal(h.summaries.at(-1)!.status, 503);
});

test("receive never throws: a policy bug is answered 500 and counted", () => {
  const h = harness();
  h.policy.decideWith = () => {
    throw new Error("boom");
  };
  const uac = outsideFlow();
  assert.doesNotThrow(() =>
    h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" })),
  );
  assert.equal(uac.responses(500).length, 1);
  assert.equal(h.counters.get("proxy.dropped.internal-error"), 1);
  assert.equal(h.summaries[0]!.status, 500);
});

test("server transactions end: activeTransactions goes back to 0 and every context got one summary", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  h.core.receive(inner, answer(inner.last(), 202, "Accepted", [], "a"));
  assert.equal(uac.responses(202).length, 1);
  h.clock.advance(64_000);
  assert.equal(h.core.activeTransactions, 0);
  assert.equal(h.summaries.length, 1);
  assert.equal(h.clock.pending, 0, "no timer left behind");
});

test("maxTransactions: an OPTIONS to the edge is still answered 200 (peers probing must not see it dead)", () => {
  const h = harness({ maxTransactions: 1 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  h.core.receive(
    uac,
    request({
      method: "OPTIONS",
      uri: "sip:edge.example.com",
      callId: "probe",
      via: ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKprobe"],
    }),
  );
  assert.equal(uac.responses(200, "OPTIONS").length, 1);
  assert.equal(uac.responses(503).length, 0);
  assert.equal(h.counters.get("proxy.refused.overload"), 0);
});

test("§17.2.3 on the outside is per connection: another peer reusing branch and sent-by is a new request", () => {
  const h = harness();
  const first = outsideFlow("in:tls:1");
  const second = outsideFlow("in:tls:2");
  const via = ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKsame"];
  h.core.receive(first, request({ method: "INVITE", uri: "sip:bob@edge.example.com", via, callId: "a" }));
  h.core.receive(second, request({ method: "INVITE", uri: "sip:bob@edge.example.com", via, callId: "b" }));
  const inner = h.hops.inner.get("inner:udp:127.0.0.2:5060")!;
  assert.deepEqual(
    inner.requests("INVITE").map((m) => m.callId),
    ["a", "b"],
  );
  assert.equal(h.counters.get("proxy.retransmissions"), 0);
  // The same request again on its own connection is still a retransmission.
  h.core.receive(first, request({ method: "INVITE", uri: "sip:bob@edge.example.com", via, callId: "a" }));
  assert.equal(h.counters.get("proxy.retransmissions"), 1);
  assert.equal(inner.requests("INVITE").length, 2);
  // A CANCEL from a third connection cannot cancel the first peer's INVITE (which has had its 180).
  h.core.receive(inner, answer(inner.requests("INVITE")[0]!, 180, "Ringing", [], "t1"));
  const third = outsideFlow("in:tls:3");
  h.core.receive(
    third,
    request({ method: "CANCEL", uri: "sip:bob@edge.example.com", via, callId: "a", cseq: 1 }),
  );
  assert.equal(third.responses(481, "CANCEL").length, 1);
  assert.equal(inner.requests("CANCEL").length, 0);
  // The peer that sent it can.
  h.core.receive(
    first,
    request({ method: "CANCEL", uri: "sip:bob@edge.example.com", via, callId: "a", cseq: 1 }),
  );
  assert.equal(first.responses(200, "CANCEL").length, 1);
  assert.equal(inner.requests("CANCEL").length, 1);
});
