import { test } from "node:test";
import assert from "node:assert/strict";
import { answer, harness, outsideFlow, request } from "./harness.js";

const INNER = "inner:udp:127.0.0.2:5060";

test("CANCEL before answer: 200 to the CANCEL, CANCEL downstream, 487 upstream, ACK for the 487 absorbed", () => {
  const h = harness();
  const uac = outsideFlow();
  const invite = request({ method: "INVITE", uri: "sip:bob@edge.example.com" });
  h.core.receive(uac, invite);
  const inner = h.hops.inner.get(INNER)!;
  const fwd = inner.last();
  h.core.receive(inner, answer(fwd, 180, "Ringing", [], "uas1"));

  const cancel = request({
    method: "CANCEL",
    uri: "sip:bob@edge.example.com",
    extra: ['Reason: SIP;cause=200;text="Call completed elsewhere"'],
  });
  h.core.receive(uac, cancel);
  assert.equal(uac.responses(200, "CANCEL").length, 1, "§16.10: 200 to the CANCEL at once");
  const down = inner.requests("CANCEL");
  assert.equal(down.length, 1);
  // §9.1: same Request-URI, Call-ID, From, To, CSeq number; one Via = the INVITE's top Via (our branch).
  assert.equal(down[0]!.requestUriText, fwd.requestUriText);
  assert.equal(down[0]!.via.length, 1);
  assert.equal(down[0]!.topVia.branch, fwd.topVia.branch);
  assert.equal(down[0]!.cseq.seq, fwd.cseq.seq);
  assert.equal(down[0]!.cseq.method, "CANCEL");
  assert.equal(down[0]!.get("reason"), 'SIP;cause=200;text="Call completed elsewhere"');

  h.core.receive(inner, answer(down[0]!, 200, "OK"));
  h.core.receive(inner, answer(fwd, 487, "Request Terminated", [], "uas1"));
  assert.equal(uac.responses(487).length, 1);
  // The transaction ACKs the 487 downstream itself (§17.1.1.3).
  assert.equal(inner.requests("ACK").length, 1);
  // The UAC's ACK for the 487 belongs to our server transaction: not forwarded.
  const ack = request({
    method: "ACK",
    uri: "sip:bob@edge.example.com",
    to: "<sip:bob@edge.example.com>;tag=uas1",
  });
  h.core.receive(uac, ack);
  assert.equal(inner.requests("ACK").length, 1);
  const inviteSummary = h.summaries.find((s) => s.method === "INVITE")!;
  assert.equal(inviteSummary.status, 487);
  assert.equal(h.summaries.find((s) => s.method === "CANCEL")!.status, 200);
});

test("CANCEL before any provisional waits for the first 1xx (§9.1)", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get(INNER)!;
  const fwd = inner.requests("INVITE")[0]!;
  h.core.receive(uac, request({ method: "CANCEL", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(200, "CANCEL").length, 1);
  assert.equal(inner.requests("CANCEL").length, 0, "no CANCEL before a provisional response");
  h.core.receive(inner, answer(fwd, 100, "Trying"));
  assert.equal(inner.requests("CANCEL").length, 1);
});

test("unmatched CANCEL → 481", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "CANCEL", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(481).length, 1);
  assert.equal(h.hops.inner.size, 0);
});

test("UAS silent → 408 after Timer B; the UDP request was retransmitted meanwhile", () => {
  const h = harness({ failoverAfterMs: 0 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get(INNER)!;
  h.clock.advance(31_999);
  assert.equal(uac.responses(408).length, 0);
  h.clock.advance(1);
  assert.equal(uac.responses(408).length, 1);
  assert.ok(inner.requests("INVITE").length >= 6, "Timer A retransmissions over UDP");
  const s = h.summaries[0]!;
  assert.equal(s.status, 408);
  assert.equal(s.failure?.code, "timeout");
  assert.equal(s.endedAt - s.startedAt, 32_000, "the summary spans the transaction on the core's clock");
  assert.equal(h.counters.get("proxy.requests.INVITE.failed"), 1);
});

test("Timer C: CANCEL the branch that only rang, answer 408 upstream", () => {
  const h = harness({ timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timerCMs: 60_000 } });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get(INNER)!;
  const fwd = inner.requests("INVITE")[0]!;
  h.core.receive(inner, answer(fwd, 180, "Ringing", [], "u"));
  h.clock.advance(59_000);
  h.core.receive(inner, answer(fwd, 183, "Session Progress", [], "u"));
  h.clock.advance(59_000);
  assert.equal(uac.responses(408).length, 0, "a 101-199 resets Timer C");
  h.clock.advance(1_000);
  assert.equal(inner.requests("CANCEL").length, 1);
  assert.equal(uac.responses(408).length, 1);
  // The 487 that follows is absorbed (the context already answered).
  h.core.receive(inner, answer(fwd, 487, "Request Terminated", [], "u"));
  assert.equal(uac.responses(487).length, 0);
});

test("non-INVITE to a silent UAS over UDP → 408 at Timer F", () => {
  const h = harness({ failoverAfterMs: 0 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" }));
  h.clock.advance(32_000);
  assert.equal(uac.responses(408).length, 1);
});

test("the sender's connection fails before the answer: the pending INVITE branch is cancelled", () => {
  const h = harness();
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const inner = h.hops.inner.get(INNER)!;
  const fwd = inner.requests("INVITE")[0]!;
  uac.ok = false;
  // The 180 cannot be delivered upstream: the server transaction ends with a transport error.
  h.core.receive(inner, answer(fwd, 180, "Ringing", [], "u"));
  assert.equal(inner.requests("CANCEL").length, 1);
  assert.equal(h.summaries.length, 1);
  assert.equal(h.summaries[0]!.status, 0);
  assert.equal(h.core.activeTransactions, 0);
});
