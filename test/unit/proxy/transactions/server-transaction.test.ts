import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TIMERS,
  ManualClock,
  ServerTransaction,
  serverTransactionKey,
  TransactionKeyError,
  type ServerTransactionState,
  type TimerSettings,
} from "../../../../src/proxy/transactions/index.js";
import { formatMessage, parseMessage } from "../../../../src/sip/index.js";
import { request } from "./fixtures.js";

interface Harness {
  readonly clock: ManualClock;
  readonly tx: ServerTransaction;
  /** [time, label] of every send() call. */
  readonly sent: Array<readonly [number, string]>;
  /** Callbacks in order. */
  readonly events: string[];
}

function harness(
  method: string,
  reliable: boolean,
  options: { failSend?: (n: number) => boolean; timers?: TimerSettings } = {},
): Harness {
  const clock = new ManualClock();
  const sent: Array<readonly [number, string]> = [];
  const events: string[] = [];
  let n = 0;
  const tx = new ServerTransaction({
    request: request({ method }),
    reliable,
    clock,
    timers: options.timers ?? DEFAULT_TIMERS,
    send: (data) => {
      n++;
      sent.push([clock.now(), data.toString()]);
      return options.failSend === undefined || !options.failSend(n);
    },
    onTerminated: (t) => events.push(`terminated:${t.terminationReason}`),
    onTransportError: () => events.push("transport-error"),
  });
  return { clock, tx, sent, events };
}

type Action =
  | readonly ["respond", number]
  | readonly ["retransmission"]
  | readonly ["ack", boolean]
  | readonly ["advance", number]
  | readonly ["terminate"];

/** One step: what happens, the state after it, and the labels sent during it. */
type Step = readonly [Action, ServerTransactionState, readonly string[]];

interface Scenario {
  readonly name: string;
  readonly method: string;
  readonly reliable: boolean;
  readonly steps: readonly Step[];
  readonly events: readonly string[];
}

const INVITE_2XX_STEPS: readonly Step[] = [
  [["respond", 180], "proceeding", ["180"]],
  [["respond", 200], "accepted", ["200"]],
  // RFC 6026 §7.1: INVITE retransmissions absorbed, 2xx from the TU sent, ACK not ours.
  [["retransmission"], "accepted", []],
  [["respond", 200], "accepted", ["200"]],
  [["respond", 486], "accepted", []],
  [["respond", 183], "accepted", []],
  [["ack", false], "accepted", []],
  [["advance", 31_999], "accepted", []],
  [["advance", 1], "terminated", []], // Timer L = 64·T1 on any transport
  [["respond", 200], "terminated", []],
  [["retransmission"], "terminated", []],
];

const scenarios: Scenario[] = [
  {
    name: "INVITE/unreliable: 1xx, 486, ACK → Confirmed, Timer I = T4",
    method: "INVITE",
    reliable: false,
    steps: [
      [["retransmission"], "proceeding", []], // nothing sent yet: nothing to resend
      [["respond", 100], "proceeding", ["100"]],
      [["respond", 180], "proceeding", ["180"]],
      [["retransmission"], "proceeding", ["180"]], // the most recent provisional
      [["respond", 486], "completed", ["486"]],
      [["retransmission"], "completed", ["486"]],
      [["respond", 500], "completed", []], // no second final
      [["advance", 500], "completed", ["486"]], // Timer G
      [["ack", true], "confirmed", []],
      [["advance", 4_999], "confirmed", []], // no G after the ACK
      [["retransmission"], "confirmed", []],
      [["ack", true], "confirmed", []], // ACK retransmission absorbed
      [["advance", 1], "terminated", []],
    ],
    events: ["terminated:completed"],
  },
  {
    name: "INVITE/reliable: 486 without Timer G, ACK ends it at once (Timer I = 0)",
    method: "INVITE",
    reliable: true,
    steps: [
      [["respond", 486], "completed", ["486"]],
      [["advance", 31_999], "completed", []],
      [["retransmission"], "completed", ["486"]],
      [["ack", true], "terminated", []],
      [["ack", false], "terminated", []],
    ],
    events: ["terminated:completed"],
  },
  {
    name: "INVITE/reliable: no ACK, Timer H = 64·T1",
    method: "INVITE",
    reliable: true,
    steps: [
      [["respond", 603], "completed", ["603"]],
      [["advance", 31_999], "completed", []],
      [["advance", 1], "terminated", []],
    ],
    events: ["terminated:ack-timeout"],
  },
  {
    name: "INVITE/unreliable: 2xx → Accepted (RFC 6026), Timer L",
    method: "INVITE",
    reliable: false,
    steps: INVITE_2XX_STEPS,
    events: ["terminated:completed"],
  },
  {
    name: "INVITE/reliable: 2xx → Accepted (RFC 6026), Timer L",
    method: "INVITE",
    reliable: true,
    steps: INVITE_2XX_STEPS,
    events: ["terminated:completed"],
  },
  {
    name: "non-INVITE/unreliable: Trying absorbs, 1xx → Proceeding, final → Completed, Timer J = 64·T1",
    method: "OPTIONS",
    reliable: false,
    steps: [
      [["retransmission"], "trying", []],
      [["respond", 100], "proceeding", ["100"]],
      [["retransmission"], "proceeding", ["100"]],
      [["respond", 200], "completed", ["200"]],
      [["retransmission"], "completed", ["200"]],
      [["respond", 500], "completed", []],
      [["ack", false], "completed", []],
      [["advance", 31_999], "completed", []], // no retransmission of non-INVITE responses
      [["advance", 1], "terminated", []],
    ],
    events: ["terminated:completed"],
  },
  {
    name: "non-INVITE/unreliable: final straight from Trying",
    method: "BYE",
    reliable: false,
    steps: [
      [["respond", 404], "completed", ["404"]],
      [["retransmission"], "completed", ["404"]],
      [["advance", 32_000], "terminated", []],
    ],
    events: ["terminated:completed"],
  },
  {
    name: "non-INVITE/reliable: Timer J = 0 ends it with the final response",
    method: "REGISTER",
    reliable: true,
    steps: [
      [["respond", 100], "proceeding", ["100"]],
      [["respond", 200], "terminated", ["200"]],
      [["retransmission"], "terminated", []],
    ],
    events: ["terminated:completed"],
  },
  {
    name: "terminate() while Completed stops Timers G and H",
    method: "INVITE",
    reliable: false,
    steps: [
      [["respond", 486], "completed", ["486"]],
      [["terminate"], "terminated", []],
      [["advance", 60_000], "terminated", []],
      [["terminate"], "terminated", []],
    ],
    events: ["terminated:aborted"],
  },
];

for (const s of scenarios) {
  test(`server ${s.name}`, () => {
    const h = harness(s.method, s.reliable);
    assert.equal(h.tx.state, s.method === "INVITE" ? "proceeding" : "trying");
    s.steps.forEach(([action, state, labels], i) => {
      const before = h.sent.length;
      const where = `step ${i} ${action.join(" ")}`;
      switch (action[0]) {
        case "respond":
          h.tx.respond(action[1], Buffer.from(String(action[1])));
          break;
        case "retransmission":
          h.tx.receiveRetransmission();
          break;
        case "ack":
          assert.equal(h.tx.receiveAck(), action[1], `${where}: absorbed`);
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
        h.sent.slice(before).map(([, l]) => l),
        labels,
        `${where}: sent`,
      );
    });
    assert.deepEqual(h.events, s.events);
    assert.equal(h.clock.pending, 0, "no timer left after termination");
  });
}

/** Times at which the final response went out, with no ACK (Timer G until Timer H). */
function timerGSchedule(timers: TimerSettings): { times: number[]; end: number; h: Harness } {
  const h = harness("INVITE", false, { timers });
  h.tx.respond(480, Buffer.from("480"));
  while (h.tx.state !== "terminated") h.clock.advance(1);
  return { times: h.sent.map(([t]) => t), end: h.clock.now(), h };
}

test("§17.2.1 Timer G: T1, 2·T1, 4·T1, then T2, until Timer H (64·T1)", () => {
  const { times, end, h } = timerGSchedule(DEFAULT_TIMERS);
  assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
  assert.equal(end, 32_000);
  assert.deepEqual(h.events, ["terminated:ack-timeout"]);
  assert.equal(h.tx.terminationReason, "ack-timeout");
  assert.equal(h.clock.pending, 0);
});

test("§17.2.1 Timer G with configured T1/T2: the cap applies at T2", () => {
  const { times, end } = timerGSchedule({ t1Ms: 100, t2Ms: 300, t4Ms: 1000, timerCMs: 10_000 });
  assert.deepEqual(
    times,
    [
      0, 100, 300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000, 3300, 3600, 3900, 4200, 4500, 4800,
      5100, 5400, 5700, 6000, 6300,
    ],
  );
  assert.equal(end, 6400);
});

test("transport errors: the TU is told, then the transaction ends without timers", () => {
  const cases: Array<{
    name: string;
    method: string;
    run: (h: Harness) => void;
    failAt: number;
    state: string;
  }> = [
    {
      name: "INVITE non-2xx final",
      method: "INVITE",
      failAt: 1,
      state: "terminated",
      run: (h) => h.tx.respond(486, Buffer.from("486")),
    },
    {
      name: "Timer G retransmission",
      method: "INVITE",
      failAt: 2,
      state: "terminated",
      run: (h) => {
        h.tx.respond(486, Buffer.from("486"));
        h.clock.advance(500);
      },
    },
    {
      name: "provisional",
      method: "INVITE",
      failAt: 1,
      state: "terminated",
      run: (h) => h.tx.respond(180, Buffer.from("180")),
    },
    {
      name: "non-INVITE final",
      method: "OPTIONS",
      failAt: 1,
      state: "terminated",
      run: (h) => h.tx.respond(200, Buffer.from("200")),
    },
    {
      name: "resend on request retransmission",
      method: "OPTIONS",
      failAt: 2,
      state: "terminated",
      run: (h) => {
        h.tx.respond(200, Buffer.from("200"));
        h.tx.receiveRetransmission();
      },
    },
  ];
  for (const c of cases) {
    const h = harness(c.method, false, { failSend: (n) => n === c.failAt });
    c.run(h);
    assert.equal(h.tx.state, c.state, c.name);
    assert.deepEqual(h.events, ["transport-error", "terminated:transport-error"], c.name);
    assert.equal(h.clock.pending, 0, c.name);
  }
});

test("RFC 6026 §7.1: a 2xx that cannot be sent is reported, the transaction stays Accepted", () => {
  const h = harness("INVITE", false, { failSend: () => true });
  h.tx.respond(200, Buffer.from("200"));
  assert.equal(h.tx.state, "accepted");
  assert.deepEqual(h.events, ["transport-error"]);
  h.tx.receiveRetransmission();
  assert.equal(h.sent.length, 1, "retransmitted INVITE still absorbed");
  h.clock.advance(32_000);
  assert.deepEqual(h.events, ["transport-error", "terminated:completed"]);
  assert.equal(h.clock.pending, 0);
});

test("finalStatus is the first final response; the key is the §17.2.3 key unless one is given", () => {
  const h = harness("INVITE", false);
  assert.equal(h.tx.finalStatus, undefined);
  h.tx.respond(183, Buffer.from("183"));
  assert.equal(h.tx.finalStatus, undefined);
  h.tx.respond(200, Buffer.from("200"));
  h.tx.respond(202, Buffer.from("202"));
  assert.equal(h.tx.finalStatus, 200);
  assert.equal(h.tx.method, "INVITE");
  // The request is released with the first final response (RFC 6026 "Accepted" keeps only the key).
  assert.equal(h.tx.request, undefined);
  assert.equal(h.tx.key, serverTransactionKey(request({ method: "INVITE" })));
  h.tx.terminate();

  const given = new ServerTransaction({
    request: request({}),
    reliable: true,
    clock: new ManualClock(),
    timers: DEFAULT_TIMERS,
    send: () => true,
    onTerminated: () => {},
    key: "precomputed",
  });
  assert.equal(given.key, "precomputed");
});

test("out-of-range status codes are ignored", () => {
  const h = harness("INVITE", false);
  h.tx.respond(99, Buffer.from("99"));
  h.tx.respond(700, Buffer.from("700"));
  assert.equal(h.sent.length, 0);
  assert.equal(h.tx.state, "proceeding");
});

test("a request whose Via cannot be read gives TransactionKeyError from the constructor", () => {
  const bad = parseMessage(
    formatMessage({ startLine: "INVITE sip:b@b.example SIP/2.0", headers: [["Via", "SIP/2.0/UDP ;;"]] }),
  );
  assert.throws(
    () =>
      new ServerTransaction({
        request: bad,
        reliable: false,
        clock: new ManualClock(),
        timers: DEFAULT_TIMERS,
        send: () => true,
        onTerminated: () => {},
      }),
    (e: unknown) => e instanceof TransactionKeyError && e.code === "bad-via",
  );
});
