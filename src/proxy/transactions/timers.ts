/**
 * Transaction timer values: RFC 3261 §17.1.1.1, §17.1.2.2, §17.2.1, §17.2.2 and Table 4 (Appendix A); Timers L
 * and M from RFC 6026 §7.1 and §7.2. Every derived value is computed here so the state machines read one
 * function per timer instead of repeating the arithmetic.
 */

export interface TimerSettings {
  /** T1: RTT estimate, 500 ms (§17.1.1.1). */
  readonly t1Ms: number;
  /** T2: maximum retransmit interval for non-INVITE requests and INVITE responses, 4 s (§17.1.2.2). */
  readonly t2Ms: number;
  /** T4: maximum duration a message remains in the network, 5 s (§17.1.2.2). */
  readonly t4Ms: number;
  /** Timer C: proxy INVITE transaction timeout, > 3 min (§16.6 step 11); used by the proxy core. */
  readonly timerCMs: number;
}

export const DEFAULT_TIMERS: TimerSettings = Object.freeze({
  t1Ms: 500,
  t2Ms: 4000,
  t4Ms: 5000,
  timerCMs: 180_000,
});

/** Timers B, F, H, J (unreliable), L and M: 64·T1 (Table 4; RFC 6026 §7.1, §7.2). */
export function transactionTimeout(t: TimerSettings): number {
  return 64 * t.t1Ms;
}

/**
 * Timer D: "at least 32 seconds for unreliable transports, and a value of zero seconds for reliable
 * transports" (§17.1.1.2). With a larger T1 the server's Timer H (64·T1) outlasts 32 s, so D follows it.
 */
export function timerD(t: TimerSettings, reliable: boolean): number {
  return reliable ? 0 : Math.max(32_000, 64 * t.t1Ms);
}

/** Timers I (§17.2.1) and K (§17.1.2.2): T4 for unreliable transports, zero for reliable ones. */
export function timerT4OrZero(t: TimerSettings, reliable: boolean): number {
  return reliable ? 0 : t.t4Ms;
}

/** Timer J (§17.2.2): 64·T1 for unreliable transports, zero for reliable ones. */
export function timerJ(t: TimerSettings, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1Ms;
}

/**
 * Next interval of a capped doubling retransmission timer: E (§17.1.2.2) and G (§17.2.1) go
 * T1, 2·T1, 4·T1, … up to T2 and stay there.
 */
export function nextCappedInterval(current: number, t: TimerSettings): number {
  return Math.min(2 * current, t.t2Ms);
}
