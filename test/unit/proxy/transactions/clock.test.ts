import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_TIMERS,
  ManualClock,
  nextCappedInterval,
  realClock,
  timerD,
  timerJ,
  timerT4OrZero,
  transactionTimeout,
} from "../../../../src/proxy/transactions/index.js";

test("ManualClock fires due timers in time order, ties in the order they were set", () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimer(300, () => fired.push(`c@${clock.now()}`));
  clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
  clock.setTimer(100, () => fired.push(`b@${clock.now()}`));
  assert.equal(clock.pending, 3);
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ["a@100", "b@100"]);
  assert.equal(clock.pending, 1);
  clock.advance(1000);
  assert.deepEqual(fired, ["a@100", "b@100", "c@300"]);
  assert.equal(clock.now(), 1100);
  assert.equal(clock.pending, 0);
});

test("ManualClock fires timers set while advancing when they fall inside the window", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const tick = (): void => {
    fired.push(clock.now());
    if (fired.length < 5) clock.setTimer(100, tick);
  };
  clock.setTimer(100, tick);
  clock.advance(350);
  assert.deepEqual(fired, [100, 200, 300]);
  assert.equal(clock.pending, 1);
  clock.advance(1000);
  assert.deepEqual(fired, [100, 200, 300, 400, 500]);
  assert.equal(clock.pending, 0);
});

test("ManualClock cancel removes the timer; cancelling twice or after firing is harmless", () => {
  const clock = new ManualClock();
  let fired = 0;
  const h = clock.setTimer(10, () => fired++);
  const g = clock.setTimer(5, () => fired++);
  h.cancel();
  h.cancel();
  assert.equal(clock.pending, 1);
  clock.advance(20);
  g.cancel();
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0);
  assert.throws(() => clock.advance(-1), RangeError);
});

test("realClock fires after the delay, cancel prevents firing, timers do not hold the process", async () => {
  const refTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  let fired = 0;
  const before = refTimers();
  const cancelled = realClock.setTimer(5, () => fired++);
  assert.equal(refTimers(), before, "unref()'d: not an active resource keeping the loop alive");
  cancelled.cancel();
  const start = realClock.now();
  // An unref'd timer alone would let the loop end: a ref'd guard keeps the test alive while waiting.
  let guard: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      guard = setTimeout(() => reject(new Error("realClock timer did not fire")), 2000);
      realClock.setTimer(10, () => resolve());
    });
  } finally {
    clearTimeout(guard);
  }
  assert.ok(realClock.now() - start >= 9);
  assert.equal(fired, 0);
  assert.ok(Math.abs(realClock.now() - Date.now()) < 50, "realClock.now() is epoch milliseconds");
});

test("timer values follow RFC 3261 Table 4 and RFC 6026", () => {
  const t = DEFAULT_TIMERS;
  assert.deepEqual({ ...t }, { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timerCMs: 180_000 });
  assert.equal(transactionTimeout(t), 32_000);
  assert.equal(timerD(t, false), 32_000);
  assert.equal(timerD({ ...t, t1Ms: 100 }, false), 32_000, "at least 32 s");
  assert.equal(timerD({ ...t, t1Ms: 1000 }, false), 64_000, "never shorter than 64·T1");
  assert.equal(timerD(t, true), 0);
  assert.equal(timerJ(t, false), 32_000);
  assert.equal(timerJ(t, true), 0);
  assert.equal(timerT4OrZero(t, false), 5000);
  assert.equal(timerT4OrZero(t, true), 0);
  const seq = [500];
  while (seq.length < 6) seq.push(nextCappedInterval(seq[seq.length - 1]!, t));
  assert.deepEqual(seq, [500, 1000, 2000, 4000, 4000, 4000]);
});
