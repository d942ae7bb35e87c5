/**
 * The highest passing call rate, found in bounded steps: a ladder (start, ×factor, … up to maxRate) until a
 * step fails, then bisection between the best pass and the lowest failure. When the very first step fails,
 * the ladder goes down instead (÷factor) for at most `maxDown` steps. Every rate is rounded to 2 significant
 * digits so the printed rates stay readable.
 */
export interface RateSearchSettings {
  readonly start: number;
  readonly factor: number;
  readonly maxRate: number;
  /** Bisection steps after the bracket is found. */
  readonly bisections: number;
  /** Stop bisecting once (fail − pass) / pass is below this. */
  readonly resolution: number;
  readonly maxDown: number;
}

export class RateSearch {
  private passed: number | undefined;
  private failed: number | undefined;
  private pending: number | undefined;
  private bisected = 0;
  private down = 0;
  readonly tried: Array<{ rate: number; pass: boolean }> = [];

  constructor(private readonly settings: RateSearchSettings) {
    this.pending = roundRate(Math.min(settings.start, settings.maxRate));
  }

  /** The next rate to try, or undefined when the search is over. */
  next(): number | undefined {
    return this.pending;
  }

  /** The best passing rate so far. */
  best(): number | undefined {
    return this.passed;
  }

  record(rate: number, pass: boolean): void {
    this.tried.push({ rate, pass });
    if (pass) this.passed = Math.max(this.passed ?? 0, rate);
    else this.failed = Math.min(this.failed ?? Infinity, rate);
    this.pending = this.choose(rate, pass);
  }

  private choose(rate: number, pass: boolean): number | undefined {
    const s = this.settings;
    if (this.failed === undefined) {
      // Still climbing: every step so far passed.
      if (rate >= s.maxRate) return undefined;
      return roundRate(Math.min(rate * s.factor, s.maxRate));
    }
    if (this.passed === undefined) {
      // Nothing passed yet: go down.
      if (pass || this.down >= s.maxDown) return undefined;
      this.down++;
      const lower = roundRate(rate / s.factor);
      return lower >= 1 && lower < rate ? lower : undefined;
    }
    if (this.bisected >= s.bisections) return undefined;
    if ((this.failed - this.passed) / this.passed < s.resolution) return undefined;
    const mid = roundRate((this.passed + this.failed) / 2);
    if (mid <= this.passed || mid >= this.failed) return undefined;
    this.bisected++;
    return mid;
  }
}

/** 2 significant digits (1234 → 1200, 37 → 37), at least 1. */
export function roundRate(rate: number): number {
  if (rate < 10) return Math.max(1, Math.round(rate));
  const scale = 10 ** (Math.floor(Math.log10(rate)) - 1);
  return Math.round(rate / scale) * scale;
}
