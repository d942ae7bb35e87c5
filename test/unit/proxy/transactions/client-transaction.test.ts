import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ClientTransaction,
  clientTransactionKey,
  DEFAULT_TIMERS,
  ManualClock,
  responseClientKey,
  type ClientTransactionOptions,
  type ClientTransactionState,
} from "../../../../src/proxy/transactions/index.js";
import { parseMessage } from "../../../../src/sip/index.js";
import { requestBuffer, response } from "./fixtures.js";

const BRANCH = "z9hG4bK-abc123";

interface Harness {
  readonly clock: ManualClock;
  readonly tx: ClientTransaction;
  /** [time, bytes] of every send() call. */
  readonly sent: Array<readonly [number, Buffer]>;
  readonly events: string[];
}

function harness(
  method: string,
  reliable: boolean,
  options: { failSend?: (n: number) => boolean; extra?: Partial<ClientTransactionOptions> } = {},
): Harness {
  const clock = new ManualClock();
  const sent: Array<readonly [number, Buffer]> = [];
  const events: string[] = [];
  let n = 0;
  const tx = new ClientTransaction({
    request: requestBuffer({ method, branch: BRANCH }),
    method,
    branch: BRANCH,
    reliable,
    clock,
    timers: DEFAULT_TIMERS,
    send: (data) => {
      n++;
      sent.push([clock.now(), data]);
      return options.failSend === undefined || !options.failSend(n);
    },
    onResponse: (r) => events.push(`response:${r.status}`),
    onTimeout: () => events.push("timeout"),
    onTransportError: () => events.push("transport-error"),
    onTerminated: (t) => events.push(`terminated:${t.terminationReason}`),
    ...options.extra,
  });
  return { clock, tx, sent, events };
}

/** First word of a sent message: the method of a request. */
function label(data: Buffer): string {
  return data.toString("latin1", 0, data.indexOf(0x20));
}

type Action =
  readonly ["start"] | readonly ["response", number] | readonly ["advance", number] | readonly ["terminate"];
type Step = readonly [Action, ClientTransactionState, readonly string[]];

interface Scenario {
  readonly name: string;
  readonly method: string;
  readonly reliable: boolean;
  readonly steps: readonly Step[];
  readonly events: readonly string[];
}

const scenarios: Scenario[] = [
  {
    name: "INVITE/unreliable: 1xx → Proceeding, 2xx → Accepted (RFC 6026), every 2xx up, Timer M",
    method: "INVITE",
    reliable: false,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["advance", 500], "calling", ["INVITE"]], // Timer A
      [["response", 180], "proceeding", []],
      [["advance", 100_000], "proceeding", []], // no Timer A, no Timer B once Proceeding
      [["response", 183], "proceeding", []],
      [["response", 200], "accepted", []],
      [["response", 200], "accepted", []],
      [["response", 486], "accepted", []],
      [["response", 180], "accepted", []],
      [["advance", 31_999], "accepted", []],
      [["advance", 1], "terminated", []],
      [["response", 200], "terminated", []],
    ],
    events: ["response:180", "response:183", "response:200", "response:200", "terminated:completed"],
  },
  {
    name: "INVITE/unreliable: 2xx straight from Calling",
    method: "INVITE",
    reliable: false,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["response", 200], "accepted", []],
      [["advance", 40_000], "terminated", []], // no Timer A or B left behind
    ],
    events: ["response:200", "terminated:completed"],
  },
  {
    name: "INVITE/unreliable: 486 → ACK, Completed; retransmitted 486 re-ACKed and absorbed; Timer D",
    method: "INVITE",
    reliable: false,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["response", 100], "proceeding", []],
      [["response", 486], "completed", ["ACK"]],
      [["response", 486], "completed", ["ACK"]],
      [["response", 200], "completed", []],
      [["response", 180], "completed", []],
      [["advance", 31_999], "completed", []],
      [["advance", 1], "terminated", []],
      [["response", 486], "terminated", []],
    ],
    events: ["response:100", "response:486", "terminated:completed"],
  },
  {
    name: "INVITE/reliable: no Timer A; 486 ACKed and the transaction ends at once (Timer D = 0)",
    method: "INVITE",
    reliable: true,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["advance", 31_999], "calling", []],
      [["response", 486], "terminated", ["ACK"]],
    ],
    events: ["response:486", "terminated:completed"],
  },
  {
    name: "INVITE/reliable: Timer B = 64·T1 while Calling",
    method: "INVITE",
    reliable: true,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["advance", 31_999], "calling", []],
      [["advance", 1], "terminated", []],
      [["response", 180], "terminated", []],
    ],
    events: ["timeout", "terminated:timeout"],
  },
  {
    name: "non-INVITE/unreliable: 1xx → Proceeding, final → Completed, retransmitted final absorbed, Timer K = T4",
    method: "OPTIONS",
    reliable: false,
    steps: [
      [["start"], "trying", ["OPTIONS"]],
      [["response", 100], "proceeding", []],
      [["response", 200], "completed", []],
      [["response", 200], "completed", []],
      [["response", 500], "completed", []],
      [["advance", 4_999], "completed", []], // no Timer E after the final
      [["advance", 1], "terminated", []],
    ],
    events: ["response:100", "response:200", "terminated:completed"],
  },
  {
    name: "non-INVITE/reliable: no Timer E; final ends it at once (Timer K = 0)",
    method: "BYE",
    reliable: true,
    steps: [
      [["start"], "trying", ["BYE"]],
      [["advance", 31_999], "trying", []],
      [["response", 481], "terminated", []],
    ],
    events: ["response:481", "terminated:completed"],
  },
  {
    name: "non-INVITE/reliable: Timer F = 64·T1 also in Proceeding",
    method: "REGISTER",
    reliable: true,
    steps: [
      [["start"], "trying", ["REGISTER"]],
      [["response", 100], "proceeding", []],
      [["advance", 31_999], "proceeding", []],
      [["advance", 1], "terminated", []],
    ],
    events: ["response:100", "timeout", "terminated:timeout"],
  },
  {
    name: "terminate() while Calling stops Timers A and B",
    method: "INVITE",
    reliable: false,
    steps: [
      [["start"], "calling", ["INVITE"]],
      [["terminate"], "terminated", []],
      [["advance", 60_000], "terminated", []],
      [["start"], "terminated", []],
    ],
    events: ["terminated:aborted"],
  },
];

for (const s of scenarios) {
  test(`client ${s.name}`, () => {
    const h = harness(s.method, s.reliable);
    s.steps.forEach(([action, state, labels], i) => {
      const before = h.sent.length;
      const where = `step ${i} ${action.join(" ")}`;
      switch (action[0]) {
        case "start":
          h.tx.start();
          break;
        case "response":
          h.tx.receiveResponse(response({ status: action[1], method: s.method, toTag: "uas-1" }));
          break;
        case "advance":
          h.clock.advance(action[1]);
          break;
        case "terminate":
          h.tx.terminate();
          break;
      }
      assert.equal(h.tx.state, state, where);
      assert.deepEqual(
        h.sent.slice(before).map(([, d]) => label(d)),
        labels,
        `${where}: sent`,
      );
    });
    assert.deepEqual(h.events, s.events);
    assert.equal(h.clock.pending, 0, "no timer left after termination");
  });
}

/** Send times until the transaction ends, with `onEachMs` hook to inject responses. */
function runUntilEnd(h: Harness, inject?: (now: number) => void): number {
  h.tx.start();
  while (h.tx.state !== "terminated") {
    h.clock.advance(1);
    inject?.(h.clock.now());
  }
  return h.clock.now();
}

test("§17.1.1.2 Timer A doubles without a cap until Timer B (64·T1)", () => {
  const h = harness("INVITE", false);
  const end = runUntilEnd(h);
  assert.deepEqual(
    h.sent.map(([t]) => t),
    [0, 500, 1500, 3500, 7500, 15_500, 31_500],
  );
  assert.equal(end, 32_000);
  assert.deepEqual(h.events, ["timeout", "terminated:timeout"]);
  assert.equal(h.clock.pending, 0);
});

test("§17.1.2.2 Timer E doubles up to T2 in Trying, until Timer F (64·T1)", () => {
  const h = harness("OPTIONS", false);
  const end = runUntilEnd(h);
  assert.deepEqual(
    h.sent.map(([t]) => t),
    [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500],
  );
  assert.equal(end, 32_000);
  assert.deepEqual(h.events, ["timeout", "terminated:timeout"]);
});

test("§17.1.2.2 Timer E is reset to T2 once Proceeding", () => {
  const h = harness("OPTIONS", false);
  runUntilEnd(h, (now) => {
    if (now === 600) h.tx.receiveResponse(response({ status: 100, method: "OPTIONS" }));
  });
  assert.deepEqual(
    h.sent.map(([t]) => t),
    [0, 500, 1500, 5500, 9500, 13_500, 17_500, 21_500, 25_500, 29_500],
  );
  assert.deepEqual(h.events, ["response:100", "timeout", "terminated:timeout"]);
});

test("§17.1.1.3: the ACK the transaction sends is built from the request as sent and the response's To", () => {
  const h = harness("INVITE", false);
  h.tx.start();
  h.tx.receiveResponse(response({ status: 404, toTag: "uas-404" }));
  const ack = parseMessage(h.sent[1]![1]);
  assert.equal(ack.method, "ACK");
  assert.equal(ack.topVia.branch, BRANCH);
  assert.equal(ack.values("via").length, 1);
  assert.equal(ack.to.tag, "uas-404");
  assert.deepEqual(ack.cseq, { seq: 1, method: "ACK" });
  assert.equal(ack.requestUriText, "sip:bob@b.example");
  // The retransmitted final gets the same ACK again.
  h.tx.receiveResponse(response({ status: 404, toTag: "uas-404" }));
  assert.deepEqual(h.sent[2]![1], h.sent[1]![1]);
  h.tx.terminate();
});

test("transport errors before a final: onTransportError, then terminated, no timers", () => {
  const cases: Array<{ name: string; method: string; failAt: number; run: (h: Harness) => void }> = [
    { name: "INVITE first send", method: "INVITE", failAt: 1, run: (h) => h.tx.start() },
    {
      name: "Timer A retransmission",
      method: "INVITE",
      failAt: 3,
      run: (h) => (h.tx.start(), h.clock.advance(1500)),
    },
    { name: "non-INVITE first send", method: "OPTIONS", failAt: 1, run: (h) => h.tx.start() },
    {
      name: "Timer E retransmission",
      method: "MESSAGE",
      failAt: 2,
      run: (h) => (h.tx.start(), h.clock.advance(500)),
    },
  ];
  for (const c of cases) {
    const h = harness(c.method, false, { failSend: (n) => n === c.failAt });
    c.run(h);
    assert.equal(h.tx.state, "terminated", c.name);
    assert.deepEqual(h.events, ["transport-error", "terminated:transport-error"], c.name);
    assert.equal(h.clock.pending, 0, c.name);
  }
});

test("an ACK that cannot be sent ends the transaction after the final went up, without onTransportError", () => {
  for (const failAt of [2, 3]) {
    const h = harness("INVITE", false, { failSend: (n) => n === failAt });
    h.tx.start();
    h.tx.receiveResponse(response({ status: 486, toTag: "t" }));
    h.tx.receiveResponse(response({ status: 486, toTag: "t" }));
    assert.equal(h.tx.state, "terminated");
    assert.deepEqual(h.events, ["response:486", "terminated:transport-error"]);
    assert.equal(h.clock.pending, 0);
  }
});

test("callbacks see the new state; a TU that terminates inside onResponse leaves no timer", () => {
  const seen: string[] = [];
  const clock = new ManualClock();
  const tx: ClientTransaction = new ClientTransaction({
    request: requestBuffer({ branch: BRANCH }),
    method: "INVITE",
    branch: BRANCH,
    reliable: false,
    clock,
    timers: DEFAULT_TIMERS,
    send: () => true,
    onResponse: (r, t) => {
      seen.push(`${r.status}:${t.state}`);
      if (r.status === 486) t.terminate();
    },
    onTimeout: () => seen.push("timeout"),
    onTransportError: () => seen.push("transport-error"),
    onTerminated: (t) => seen.push(`end:${t.terminationReason}`),
  });
  tx.start();
  tx.start(); // second start: nothing
  tx.receiveResponse(response({ status: 180, toTag: "a" }));
  tx.receiveResponse(response({ status: 486, toTag: "a" }));
  assert.deepEqual(seen, ["180:proceeding", "486:completed", "end:aborted"]);
  assert.equal(clock.pending, 0);
});

test("provisionalSeen, finalStatus and the §17.1.3 key", () => {
  const h = harness("INVITE", false);
  assert.equal(h.tx.key, clientTransactionKey(BRANCH, "INVITE"));
  assert.equal(h.tx.key, responseClientKey(response({ status: 180 })));
  assert.notEqual(h.tx.key, responseClientKey(response({ status: 200, method: "CANCEL" })));
  assert.equal(h.tx.branch, BRANCH);
  assert.equal(h.tx.method, "INVITE");
  h.tx.start();
  assert.equal(h.tx.provisionalSeen, false);
  h.tx.receiveResponse(response({ status: 100 }));
  assert.equal(h.tx.provisionalSeen, true);
  assert.equal(h.tx.finalStatus, undefined);
  h.tx.receiveResponse(response({ status: 200, toTag: "x" }));
  h.tx.receiveResponse(response({ status: 201, toTag: "y" }));
  assert.equal(h.tx.finalStatus, 200);
  h.tx.terminate();

  const n = harness("OPTIONS", true);
  n.tx.start();
  n.tx.receiveResponse(response({ status: 180, method: "OPTIONS" }));
  assert.equal(n.tx.provisionalSeen, true);
  n.tx.terminate();
  assert.equal(n.clock.pending, 0);
});

test("Timer C (optional onTimerC): reset by 101-199, not by 100; then 64·T1 for the final", () => {
  const fired: number[] = [];
  const h = harness("INVITE", false, {
    extra: { onTimerC: (tx) => fired.push(tx.state === "proceeding" ? 1 : 0) },
  });
  runUntilEnd(h, (now) => {
    if (now === 1000) h.tx.receiveResponse(response({ status: 100 }));
    if (now === 60_000) h.tx.receiveResponse(response({ status: 180, toTag: "r" }));
    if (now === 240_000) assert.equal(fired.length, 1, "Timer C fired 180 s after the 180");
  });
  assert.equal(h.clock.now(), 240_000 + 32_000);
  assert.deepEqual(fired, [1]);
  assert.deepEqual(h.events, ["response:100", "response:180", "timeout", "terminated:timeout"]);
  assert.equal(h.clock.pending, 0);
});

test("Timer C: a final after expiry (487 for our CANCEL) completes normally", () => {
  const h = harness("INVITE", true, { extra: { onTimerC: () => {} } });
  h.tx.start();
  h.tx.receiveResponse(response({ status: 180, toTag: "r" }));
  h.clock.advance(180_000);
  assert.equal(h.tx.state, "proceeding");
  h.tx.receiveResponse(response({ status: 487, toTag: "r" }));
  assert.equal(h.tx.state, "terminated");
  assert.deepEqual(h.events, ["response:180", "response:487", "terminated:completed"]);
  assert.equal(h.clock.pending, 0);
});

test("without onTimerC an INVITE in Proceeding holds no timer (the proxy core runs Timer C)", () => {
  const h = harness("INVITE", false);
  h.tx.start();
  h.tx.receiveResponse(response({ status: 180 }));
  assert.equal(h.clock.pending, 0);
  assert.equal(h.tx.state, "proceeding");
  h.tx.terminate();
});

test("responses with impossible status codes are ignored", () => {
  const h = harness("INVITE", false);
  h.tx.start();
  h.tx.receiveResponse(parseMessage(requestBuffer({})));
  assert.equal(h.tx.state, "calling");
  assert.deepEqual(h.events, []);
  h.tx.terminate();
});
