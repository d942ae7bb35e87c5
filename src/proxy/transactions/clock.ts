/**
 * Time source for the transaction layer. Transactions never call setTimeout themselves: they ask a Clock, so
 * tests drive every RFC 3261 §17 timer deterministically with ManualClock and the daemon uses realClock.
 */

export interface TimerHandle {
  /** Stops the timer; calling it again, or after the timer fired, does nothing. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds; realClock gives wall-clock epoch time (accounting timestamps use it). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds unless cancelled. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** A Node timeout behind the TimerHandle interface (one small object per armed timer, no closure). */
class RealTimer implements TimerHandle {
  constructor(private readonly timeout: NodeJS.Timeout) {}

  cancel(): void {
    clearTimeout(this.timeout);
  }
}

/**
 * setTimeout-based clock. Every timer is unref()'d: a pending Timer D or L (up to 32 s) must never keep the
 * process alive once everything else has closed.
 */
export const realClock: Clock = Object.freeze({
  now(): number {
    return Date.now();
  },
  setTimer(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref();
    return new RealTimer(t);
  },
});

/** One timer of a ManualClock. */
class ManualTimer implements TimerHandle {
  active = true;

  constructor(
    private readonly clock: ManualClock,
    readonly at: number,
    readonly seq: number,
    /** Dropped on cancel: a cancelled timer still queued must not keep its transaction alive. */
    public fn: (() => void) | undefined,
  ) {}

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    this.fn = undefined;
    this.clock.release();
  }
}

/** Earlier due time first; ties in the order the timers were set. */
function before(a: ManualTimer, b: ManualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Deterministic clock for tests: time moves only in advance(); due timers fire in time order (ties in the
 * order they were set), each seeing now() equal to its due time. `pending` counts armed timers, so a test
 * can prove a terminated transaction left none behind.
 *
 * Timers sit in a binary min-heap (O(log n) per timer), so a benchmark can hold 100 000 lingering
 * transactions and still advance past their timers quickly. Cancelled timers are removed lazily (skipped
 * when they reach the top) and the heap is rebuilt when they outnumber the live ones.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private live = 0;
  private heap: ManualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = new ManualTimer(this, this.time + delay, this.seq++, fn);
    this.live++;
    this.push(timer);
    return timer;
  }

  /** Number of timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones set while advancing). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance needs ms >= 0, got ${ms}`);
    const target = this.time + ms;
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.at > target) break;
      this.pop();
      if (!next.active) continue;
      const fn = next.fn!;
      this.time = next.at;
      next.active = false;
      next.fn = undefined;
      this.live--;
      fn();
    }
    this.time = target;
  }

  /** @internal called by ManualTimer.cancel */
  release(): void {
    this.live--;
    if (this.heap.length > 64 && this.heap.length > 2 * this.live) this.compact();
  }

  private compact(): void {
    const kept = this.heap.filter((t) => t.active);
    this.heap = [];
    for (const t of kept) this.push(t);
  }

  private push(timer: ManualTimer): void {
    const h = this.heap;
    let i = h.length;
    h.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = timer;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
