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
    readonly fn: () => void,
  ) {}

  cancel(): void {
    if (!this.active) return;
    this.active = false;
    this.clock.release(this);
  }
}

/**
 * Deterministic clock for tests: time moves only in advance(); due timers fire in time order (ties in the
 * order they were set), each seeing now() equal to its due time. `pending` counts armed timers, so a test
 * can prove a terminated transaction left none behind.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<ManualTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = new ManualTimer(this, this.time + delay, this.seq++, fn);
    this.timers.add(timer);
    return timer;
  }

  /** Number of timers set and neither fired nor cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones set while advancing). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance needs ms >= 0, got ${ms}`);
    const target = this.time + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (next === undefined) break;
      this.time = next.at;
      next.active = false;
      this.timers.delete(next);
      next.fn();
    }
    this.time = target;
  }

  /** @internal called by ManualTimer.cancel */
  release(timer: ManualTimer): void {
    this.timers.delete(timer);
  }

  private earliestDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.at > limit) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
