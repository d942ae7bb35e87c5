import { test } from "node:test";
import assert from "node:assert/strict";
import type { InnerTarget } from "../../../../src/proxy/core/index.js";
import { answer, harness, outsideFlow, request } from "./harness.js";

const TARGETS: InnerTarget[] = [
  { transport: "udp", address: "127.0.0.2", port: 5060 },
  { transport: "udp", address: "127.0.0.3", port: 5060 },
];
const FIRST = "inner:udp:127.0.0.2:5060";
const SECOND = "inner:udp:127.0.0.3:5060";

test("failover on timeout: the second inner target gets the INVITE after Timer B of the first", () => {
  const h = harness({ targets: TARGETS, failoverAfterMs: 0 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  assert.equal(h.hops.inner.get(SECOND), undefined);
  h.clock.advance(32_000);
  const second = h.hops.inner.get(SECOND)!;
  const fwd = second.requests("INVITE")[0]!;
  assert.notEqual(fwd.topVia.branch, h.hops.inner.get(FIRST)!.requests("INVITE")[0]!.topVia.branch);
  h.core.receive(second, answer(fwd, 200, "OK", [], "s2"));
  assert.equal(uac.responses(200).length, 1);
  assert.equal(uac.responses(408).length, 0);
  assert.equal(h.counters.get("proxy.failover.timeout"), 1);
});

test("failover on 503: next target tried; the 503 is not passed upstream", () => {
  const h = harness({ targets: TARGETS });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const first = h.hops.inner.get(FIRST)!;
  h.core.receive(first, answer(first.requests("INVITE")[0]!, 503, "Service Unavailable", [], "f1"));
  assert.equal(first.requests("ACK").length, 1, "the 503 was acknowledged hop by hop");
  const second = h.hops.inner.get(SECOND)!;
  const fwd = second.requests("INVITE")[0]!;
  h.core.receive(second, answer(fwd, 486, "Busy Here", [], "s2"));
  assert.equal(uac.responses(486).length, 1);
  assert.equal(uac.responses(503).length, 0);
});

test("every inner target 503 → 500 upstream (§16.7 step 6)", () => {
  const h = harness({ targets: TARGETS });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "OPTIONS", uri: "sip:bob@edge.example.com" }));
  for (const id of [FIRST, SECOND]) {
    const f = h.hops.inner.get(id)!;
    h.core.receive(f, answer(f.requests("OPTIONS")[0]!, 503, "Service Unavailable", [], "x"));
  }
  const r = uac.responses(500)[0]!;
  assert.match(r.get("reason")!, /cause=500;text="downstream-503"/);
});

test("failoverAfterMs: a silent first target is abandoned; its late 1xx gets a CANCEL", () => {
  const h = harness({ targets: TARGETS, failoverAfterMs: 1000 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  h.clock.advance(999);
  assert.equal(h.hops.inner.get(SECOND), undefined);
  h.clock.advance(1);
  const second = h.hops.inner.get(SECOND)!;
  assert.equal(second.requests("INVITE").length, 1);
  assert.equal(h.counters.get("proxy.failover.silent"), 1);
  const first = h.hops.inner.get(FIRST)!;
  h.core.receive(first, answer(first.requests("INVITE")[0]!, 180, "Ringing", [], "late"));
  assert.equal(first.requests("CANCEL").length, 1, "the abandoned branch is cancelled");
  assert.equal(uac.responses(180).length, 0, "nothing from the abandoned branch goes upstream");
  h.core.receive(second, answer(second.requests("INVITE")[0]!, 200, "OK", [], "s2"));
  assert.equal(uac.responses(200).length, 1);
});

test("a target that answered is not abandoned by failoverAfterMs", () => {
  const h = harness({ targets: TARGETS, failoverAfterMs: 1000 });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const first = h.hops.inner.get(FIRST)!;
  h.core.receive(first, answer(first.requests("INVITE")[0]!, 100, "Trying"));
  h.clock.advance(5000);
  assert.equal(h.hops.inner.get(SECOND), undefined);
});

test("transport error on the first target → next target at once", () => {
  const h = harness({ targets: TARGETS });
  const first = h.hops.innerFlow(TARGETS[0]!);
  first.ok = false;
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  assert.equal(h.hops.inner.get(SECOND)!.requests("INVITE").length, 1);
  assert.equal(h.counters.get("proxy.failover.transport-error"), 1);
});

test("in-dialog request whose Request-URI names the second target goes only there", () => {
  const h = harness({ targets: TARGETS });
  const uac = outsideFlow();
  h.core.receive(
    uac,
    request({
      method: "BYE",
      uri: "sip:bob@127.0.0.3:5060",
      to: "<sip:bob@edge.example.com>;tag=b",
      route: ["<sip:edge.example.com:5061;transport=tls;lr>", "<sip:127.0.0.1:5070;transport=udp;lr>"],
    }),
  );
  assert.equal(h.hops.inner.get(FIRST), undefined);
  assert.equal(h.hops.inner.get(SECOND)!.requests("BYE").length, 1);
});

test("flowFailed: a connection that fails after send() accepted the request fails over at once", () => {
  const h = harness({ targets: [{ transport: "tcp", address: "127.0.0.2", port: 5060 }, TARGETS[1]!] });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "INVITE", uri: "sip:bob@edge.example.com" }));
  const first = h.hops.inner.get("inner:tcp:127.0.0.2:5060")!;
  assert.equal(first.requests("INVITE").length, 1);
  assert.equal(h.hops.inner.get(SECOND), undefined);
  h.core.flowFailed(first);
  assert.equal(h.hops.inner.get(SECOND)!.requests("INVITE").length, 1);
  assert.equal(h.counters.get("proxy.failover.transport-error"), 1);
  assert.equal(h.counters.get("proxy.failover.silent"), 0);
  // Another flow failing touches nothing.
  h.core.flowFailed(outsideFlow("in:tls:77"));
  assert.equal(h.counters.get("proxy.flow-failed"), 1);
});

test("a bug in a timer-driven path is contained: counted, 500 upstream, no exception out of the clock", () => {
  const h = harness({ targets: TARGETS, failoverAfterMs: 0 });
  let reads = 0;
  // A decision whose identity value breaks the second time it is read: building the copy for the second
  // target (inside Timer B's callback) throws.
  h.policy.decideWith = () => ({
    action: "forward",
    to: { kind: "inner", group: "default" },
    get identityHeaderValue(): string {
      if (++reads > 1) throw new Error("bug");
      return "v";
    },
    tags: [],
  });
  const uac = outsideFlow();
  h.core.receive(uac, request({ method: "MESSAGE", uri: "sip:bob@edge.example.com" }));
  assert.equal(h.hops.inner.get(FIRST)!.requests("MESSAGE").length, 1);
  assert.doesNotThrow(() => h.clock.advance(32_000));
  assert.equal(uac.responses(500).length, 1);
  assert.equal(h.counters.get("proxy.dropped.internal-error"), 1);
});
