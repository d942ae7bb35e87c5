/**
 * An answered INVITE lingers for Timer L / M (RFC 6026, 64·T1). During that time the core must not hold the
 * request or anything built only to forward it, yet must behave as before: 2xx retransmissions still go
 * upstream, a late CANCEL still gets its 200 (§16.10), and everything is gone after the timers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DEFAULT_TIMERS } from "../../../../src/proxy/transactions/index.js";
import { answer, harness, outsideFlow, request, type FakeFlow, type Harness } from "./harness.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const INNER = "inner:udp:127.0.0.2:5060";

async function collected(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return ref.deref() === undefined;
}

/** Sends an INVITE whose parsed message only the core may keep; returns a WeakRef to it. */
function sendInvite(h: Harness, uac: FakeFlow): WeakRef<object> {
  const invite = request({ method: "INVITE", uri: "sip:bob@edge.example.com" });
  h.core.receive(uac, invite);
  return new WeakRef(invite);
}

test("an answered INVITE keeps no request while it lingers, and still relays 2xx retransmissions", async () => {
  const h = harness();
  const uac = outsideFlow();
  h.hops.byId.set(uac.id, uac);
  const inviteRef = sendInvite(h, uac);
  const inner = h.hops.inner.get(INNER)!;
  const fwd = inner.last();
  h.core.receive(inner, answer(fwd, 180, "Ringing", [], "uas1"));
  assert.equal(await collected(inviteRef), false, "before the final response the request is needed");

  const ok = answer(fwd, 200, "OK", ["Contact: <sip:bob@127.0.0.2:5060>"], "uas1");
  h.core.receive(inner, ok);
  assert.equal(h.summaries.length, 1);
  assert.equal(h.summaries[0]!.callId, "call-1@example.org", "the summary is made before the release");
  assert.equal(h.summaries[0]!.requestUri, "sip:bob@edge.example.com");
  assert.equal(h.core.activeTransactions, 1, "Timer L keeps the transaction");
  assert.equal(await collected(inviteRef), true, "the request is released while the transaction lingers");

  // RFC 6026 §7.2/§7.1: the UAS retransmits its 2xx; it still reaches the UAC.
  h.core.receive(inner, answer(fwd, 200, "OK", ["Contact: <sip:bob@127.0.0.2:5060>"], "uas1"));
  assert.equal(uac.responses(200, "INVITE").length, 2);
  // A retransmitted INVITE is absorbed, not forwarded again.
  const forwarded = inner.requests("INVITE").length;
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  assert.equal(inner.requests("INVITE").length, forwarded);
  assert.equal(h.counters.get("proxy.retransmissions"), 1);

  // §16.10: a CANCEL that still finds the (answered) INVITE gets 200 and cancels nothing.
  h.core.receive(uac, request({ method: "CANCEL", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(200, "CANCEL").length, 1);
  assert.equal(inner.requests("CANCEL").length, 0);

  h.clock.advance(64 * DEFAULT_TIMERS.t1Ms + 1000);
  assert.equal(h.core.activeTransactions, 0);
  assert.equal(h.clock.pending, 0);
  // After Timer L the CANCEL finds nothing: 481.
  h.core.receive(uac, request({ method: "CANCEL", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(481, "CANCEL").length, 1);
});

test("a rejected INVITE keeps its 4xx only until the ACK, and no request after the final response", async () => {
  const h = harness();
  h.policy.decideWith = () => ({
    action: "reject",
    status: 403,
    reason: "Forbidden",
    code: "test-deny",
    tags: [],
  });
  const uac = outsideFlow();
  const inviteRef = sendInvite(h, uac);
  assert.equal(uac.responses(403).length, 1);
  assert.equal(await collected(inviteRef), true);
  // Over TLS Timer G is off; a retransmitted INVITE still gets the 403 again while Completed (§17.2.1).
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  assert.equal(uac.responses(403).length, 2);
  const to = uac.responses(403)[0]!.get("to")!;
  h.core.receive(uac, request({ method: "ACK", uri: "sip:bob@edge.example.com", to }));
  assert.equal(h.core.activeTransactions, 0, "Timer I is 0 over a reliable transport");
});
