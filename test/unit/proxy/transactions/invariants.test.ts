/**
 * Property tests: whatever order responses, retransmissions, ACKs, timers and send failures come in, a
 * transaction never throws, ends at most once, sends nothing after it ended, leaves no timer behind, and
 * (once it has something that ends it) terminates on its own instead of growing the proxy's tables.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ClientTransaction,
  DEFAULT_TIMERS,
  ManualClock,
  ServerTransaction,
} from "../../../../src/proxy/transactions/index.js";
import { request, requestBuffer, response } from "./fixtures.js";

const STATUSES = [100, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603];
const METHODS = ["INVITE", "OPTIONS", "BYE"];

const serverAction = fc.oneof(
  fc.record({ kind: fc.constant("respond" as const), status: fc.constantFrom(...STATUSES) }),
  fc.record({ kind: fc.constant("retransmission" as const) }),
  fc.record({ kind: fc.constant("ack" as const) }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ kind: fc.constant("terminate" as const) }),
);

test("server transactions: no throw, one end, silent after the end, no timer left", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...METHODS),
      fc.boolean(),
      fc.array(serverAction, { maxLength: 25 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      (method, reliable, actions, sendResults) => {
        const clock = new ManualClock();
        let ends = 0;
        let sendsAfterEnd = 0;
        let n = 0;
        const tx = new ServerTransaction({
          request: request({ method }),
          reliable,
          clock,
          timers: DEFAULT_TIMERS,
          send: () => {
            if (ends > 0) sendsAfterEnd++;
            return sendResults[n++ % sendResults.length]!;
          },
          onTerminated: () => ends++,
          onTransportError: () => {},
        });
        let finalSent = false;
        for (const a of actions) {
          if (a.kind === "respond") {
            tx.respond(a.status, Buffer.from(String(a.status)));
            if (a.status >= 200) finalSent = true;
          } else if (a.kind === "retransmission") tx.receiveRetransmission();
          else if (a.kind === "ack") tx.receiveAck();
          else if (a.kind === "advance") clock.advance(a.ms);
          else tx.terminate();
          assert.ok(ends <= 1);
          if (tx.state === "terminated") assert.equal(clock.pending, 0);
        }
        // A final response always leads to the end (H, I, J or L); before one the TU owns the transaction.
        if (finalSent) {
          clock.advance(64 * DEFAULT_TIMERS.t1Ms + DEFAULT_TIMERS.t4Ms);
          assert.equal(tx.state, "terminated");
        }
        if (tx.state === "terminated") assert.equal(ends, 1);
        assert.equal(sendsAfterEnd, 0);
        tx.terminate();
        assert.equal(clock.pending, 0);
        assert.equal(ends, 1);
      },
    ),
    { numRuns: 400 },
  );
});

const clientAction = fc.oneof(
  fc.record({ kind: fc.constant("response" as const), status: fc.constantFrom(...STATUSES) }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
  fc.record({ kind: fc.constant("terminate" as const) }),
);

test("client transactions: no throw, one end, silent after the end, always end on their own", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...METHODS),
      fc.boolean(),
      fc.array(clientAction, { maxLength: 25 }),
      fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
      (method, reliable, actions, sendResults) => {
        const clock = new ManualClock();
        let ends = 0;
        let sendsAfterEnd = 0;
        let finals = 0;
        let n = 0;
        const tx = new ClientTransaction({
          request: requestBuffer({ method }),
          method,
          branch: "z9hG4bK-abc123",
          reliable,
          clock,
          timers: DEFAULT_TIMERS,
          send: () => {
            if (ends > 0) sendsAfterEnd++;
            return sendResults[n++ % sendResults.length]!;
          },
          onResponse: (r) => {
            if (r.status! >= 300) finals++;
          },
          onTimeout: () => {},
          onTransportError: () => {},
          onTerminated: () => ends++,
          onTimerC: () => {},
        });
        tx.start();
        for (const a of actions) {
          if (a.kind === "response") tx.receiveResponse(response({ status: a.status, method, toTag: "t" }));
          else if (a.kind === "advance") clock.advance(a.ms);
          else tx.terminate();
          assert.ok(ends <= 1);
          assert.ok(finals <= 1, "a 300-699 final goes up once");
          if (tx.state === "terminated") assert.equal(clock.pending, 0);
        }
        // Timer B/F, D/K/M, or Timer C + 64·T1 end every client transaction.
        clock.advance(DEFAULT_TIMERS.timerCMs + 64 * DEFAULT_TIMERS.t1Ms);
        assert.equal(tx.state, "terminated");
        assert.equal(ends, 1);
        assert.equal(clock.pending, 0);
        assert.equal(sendsAfterEnd, 0);
      },
    ),
    { numRuns: 400 },
  );
});
