/**
 * What a transaction keeps while it lingers after its final response (RFC 6026 "Accepted" for 64·T1,
 * RFC 3261 §17.2.1 "Completed"/"Confirmed", §17.2.2 "Completed"): only what later events can still need.
 * Retention is observed with WeakRef and a forced GC, behaviour with the events the transaction produces.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  ClientTransaction,
  DEFAULT_TIMERS,
  ManualClock,
  ownedString,
  ServerTransaction,
} from "../../../../src/proxy/transactions/index.js";
import { request, requestBuffer, response } from "./fixtures.js";

setFlagsFromString("--expose-gc");
/** Keeps transactions reachable while the objects they were built from are checked for release. */
const held: ClientTransaction[] = [];
const gc = runInNewContext("gc") as () => void;

/** Whether the object behind `ref` was collected. WeakRef targets live until the current job ends. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return ref.deref() === undefined;
}

interface ServerSetup {
  readonly tx: ServerTransaction;
  readonly clock: ManualClock;
  readonly sent: string[];
  readonly requestRef: WeakRef<object>;
}

function server(method: string, reliable: boolean): ServerSetup {
  const clock = new ManualClock();
  const sent: string[] = [];
  const msg = request({ method });
  const tx = new ServerTransaction({
    request: msg,
    reliable,
    clock,
    timers: DEFAULT_TIMERS,
    send: (data) => {
      sent.push(data.toString());
      return true;
    },
    onTerminated: () => undefined,
  });
  return { tx, clock, sent, requestRef: new WeakRef(msg) };
}

/** Responds with a buffer nobody else holds; returns a WeakRef to it. */
function respondWith(tx: ServerTransaction, status: number, text: string): WeakRef<object> {
  const bytes = Buffer.from(text);
  tx.respond(status, bytes);
  return new WeakRef(bytes);
}

test("RFC 6026 §7.1: an INVITE server transaction in Accepted holds neither request nor response", async () => {
  const s = server("INVITE", false);
  const ringing = respondWith(s.tx, 180, "180");
  assert.equal(await collected(s.requestRef), false, "the request stays until the final response");
  assert.equal(await collected(ringing), false, "Proceeding resends the last provisional");
  const ok = respondWith(s.tx, 200, "200");
  assert.equal(s.tx.state, "accepted");
  assert.equal(s.tx.request, undefined);
  assert.equal(await collected(s.requestRef), true, "request released");
  assert.equal(await collected(ok), true, "2xx released: retransmissions come from the TU");
  assert.equal(await collected(ringing), true);
  // Behaviour is unchanged: retransmitted INVITEs are absorbed, further 2xx from the TU go out.
  s.tx.receiveRetransmission();
  assert.deepEqual(s.sent, ["180", "200"]);
  s.tx.respond(200, Buffer.from("200 again"));
  assert.deepEqual(s.sent, ["180", "200", "200 again"]);
  s.clock.advance(64 * DEFAULT_TIMERS.t1Ms);
  assert.equal(s.tx.state, "terminated");
  assert.equal(s.clock.pending, 0);
});

test("§17.2.1: a 300-699 final is kept for Timer G and retransmissions until the ACK, then released", async () => {
  const s = server("INVITE", false);
  const busy = respondWith(s.tx, 486, "486");
  assert.equal(await collected(s.requestRef), true, "request released at the final response");
  assert.equal(await collected(busy), false, "Completed still needs the response");
  s.tx.receiveRetransmission();
  s.clock.advance(DEFAULT_TIMERS.t1Ms); // Timer G
  assert.deepEqual(s.sent, ["486", "486", "486"]);
  assert.equal(s.tx.receiveAck(), true);
  assert.equal(s.tx.state, "confirmed");
  assert.equal(await collected(busy), true, "Confirmed never sends it again");
  s.tx.receiveRetransmission();
  s.clock.advance(DEFAULT_TIMERS.t2Ms);
  assert.deepEqual(s.sent, ["486", "486", "486"], "Confirmed absorbs, Timer G is off");
  s.clock.advance(DEFAULT_TIMERS.t4Ms); // Timer I
  assert.equal(s.tx.state, "terminated");
});

test("§17.2.2: a non-INVITE final is kept during Timer J over UDP; over a stream J is 0", async () => {
  const udp = server("OPTIONS", false);
  const ok = respondWith(udp.tx, 200, "200");
  assert.equal(await collected(udp.requestRef), true);
  assert.equal(await collected(ok), false, "a retransmitted request gets the response again");
  udp.tx.receiveRetransmission();
  assert.deepEqual(udp.sent, ["200", "200"]);
  udp.clock.advance(64 * DEFAULT_TIMERS.t1Ms);
  assert.equal(udp.tx.state, "terminated");
  assert.equal(await collected(ok), true);

  const tls = server("OPTIONS", true);
  const okTls = respondWith(tls.tx, 200, "200");
  assert.equal(tls.tx.state, "terminated", "Timer J = 0 over a reliable transport");
  assert.equal(await collected(okTls), true);
});

test("RFC 6026 §7.2: an INVITE client transaction in Accepted drops the request and the unused callbacks", async () => {
  const clock = new ManualClock();
  const events: string[] = [];
  const refs = ((): { request: WeakRef<object>; timeout: WeakRef<object>; timerC: WeakRef<object> } => {
    const bytes = requestBuffer({ method: "INVITE", branch: "z9hG4bK-ret1" });
    const onTimeout = (): void => void events.push("timeout");
    const onTimerC = (): void => void events.push("timer-c");
    const tx = new ClientTransaction({
      request: bytes,
      method: "INVITE",
      branch: "z9hG4bK-ret1",
      reliable: false,
      send: () => true,
      clock,
      timers: DEFAULT_TIMERS,
      onResponse: (r) => void events.push(String(r.status)),
      onTimeout,
      onTransportError: () => void events.push("transport-error"),
      onTerminated: () => void events.push("terminated"),
      onTimerC,
    });
    tx.start();
    held.push(tx);
    return { request: new WeakRef(bytes), timeout: new WeakRef(onTimeout), timerC: new WeakRef(onTimerC) };
  })();
  const tx = held[0]!;
  tx.receiveResponse(response({ status: 180, branch: "z9hG4bK-ret1", toTag: "t" }));
  assert.equal(await collected(refs.request), false, "Proceeding keeps the request (ACK for a 300-699)");
  tx.receiveResponse(response({ status: 200, branch: "z9hG4bK-ret1", toTag: "t" }));
  assert.equal(tx.state, "accepted");
  assert.equal(await collected(refs.request), true);
  assert.equal(await collected(refs.timeout), true, "no timeout can happen any more");
  assert.equal(await collected(refs.timerC), true, "Timer C is over");
  tx.receiveResponse(response({ status: 200, branch: "z9hG4bK-ret1", toTag: "t" }));
  clock.advance(64 * DEFAULT_TIMERS.t1Ms); // Timer M
  assert.deepEqual(events, ["180", "200", "200", "terminated"]);
  assert.equal(clock.pending, 0);
});

test("ownedString returns an equal string for any content", () => {
  for (const s of ["", "z9hG4bK-abc|edge.example.com:5060|INVITE", 'ü€😀\u0000"\\', "x".repeat(5000)]) {
    assert.equal(ownedString(s), s);
  }
  // A key as the transaction layer builds it: a slice of received text joined to other parts.
  const text = "Via: SIP/2.0/UDP host;branch=z9hG4bK-long-branch-value\r\n";
  const branch = text.slice(text.indexOf("z9"), text.indexOf("\r"));
  assert.equal(ownedString(branch + "|" + "INVITE"), "z9hG4bK-long-branch-value|INVITE");
});
