/**
 * Client transactions (RFC 3261 §17.1): INVITE (§17.1.1, with the "Accepted" state and Timer M of RFC 6026
 * §7.2) and non-INVITE (§17.1.2). The proxy core creates one per forwarded request (branch = the one in the
 * Via it inserted), calls start(), and routes every response whose responseClientKey equals `key` to
 * receiveResponse(). The transaction retransmits over unreliable transports, absorbs retransmitted final
 * responses, ACKs 300-699 INVITE finals itself (§17.1.1.3) and reports timeouts.
 *
 * Callbacks run synchronously, state first: when onResponse runs the transaction is already in its new state.
 * onTerminated is always the last callback and comes exactly once. A transport error after a final response
 * was passed up (re-sending an ACK) ends the transaction without onTransportError: the TU has its answer and
 * must not fail over.
 *
 * Per §17.1.1.2 Timer B only matters in "Calling"; the proxy's Timer C (§16.6 step 11) guards "Proceeding".
 * It runs here when the caller passes onTimerC (an addition to the contract), else the caller runs it.
 */
import type { SipMessage } from "../../sip/index.js";
import { ackForNonSuccess } from "./ack.js";
import type { Clock, TimerHandle } from "./clock.js";
import {
  nextCappedInterval,
  timerD,
  timerT4OrZero,
  transactionTimeout,
  type TimerSettings,
} from "./timers.js";
import { clientTransactionKey, ownedString } from "./transaction-key.js";

export type ClientTransactionState =
  "calling" | "trying" | "proceeding" | "completed" | "accepted" | "terminated";

/** Why a client transaction ended (for counters and logs). */
export type ClientTerminationReason =
  /** Timer D, K or M ran out after a final response, or a reliable transport ended it at once. */
  | "completed"
  /** Timer B or F fired (onTimeout was called). */
  | "timeout"
  /** send() returned false. */
  | "transport-error"
  /** terminate() was called. */
  | "aborted";

export interface ClientTransactionOptions {
  /** The forwarded request as sent (top Via carries `branch`). */
  readonly request: Buffer;
  readonly method: string;
  readonly branch: string;
  readonly reliable: boolean;
  readonly send: (data: Buffer) => boolean;
  readonly clock: Clock;
  readonly timers: TimerSettings;
  /** 1xx, every 2xx, and the first 300-699 final (retransmissions are absorbed). */
  readonly onResponse: (response: SipMessage, tx: ClientTransaction) => void;
  /** Timer B (INVITE, still "Calling") or Timer F (non-INVITE): the caller answers 408. */
  readonly onTimeout: (tx: ClientTransaction) => void;
  /** send() returned false before a final response arrived: the caller fails over or answers 503. */
  readonly onTransportError: (tx: ClientTransaction) => void;
  readonly onTerminated: (tx: ClientTransaction) => void;
  /**
   * Addition to the contract, INVITE only: run Timer C (timers.timerCMs, §16.6 step 11) here, reset by every
   * 101-199 (§16.7 step 2). When it fires this is called (the proxy CANCELs if provisionalSeen, else acts as
   * on a 408, §16.8); if no final response follows within 64·T1, onTimeout is called and the transaction ends.
   * Without it the transaction runs no timer while "Proceeding" (Timer B is for "Calling" only, §17.1.1.2).
   */
  readonly onTimerC?: (tx: ClientTransaction) => void;
}

export class ClientTransaction {
  readonly key: string;
  readonly branch: string;
  readonly method: string;
  private currentState: ClientTransactionState;
  private provisional = false;
  private reason: ClientTerminationReason | undefined = undefined;
  private finalStatusValue: number | undefined = undefined;
  /** The request while it may need retransmission; released once a response stops retransmissions. */
  private request: Buffer | undefined;
  /** The ACK sent for a 300-699 final, resent for each retransmission of that final (§17.1.1.2). */
  private ack: Buffer | undefined = undefined;
  private readonly invite: boolean;
  private readonly reliable: boolean;
  /** Cleared (with the callbacks below) once a final response leaves nothing more to send: see shed(). */
  private send: ((data: Buffer) => boolean) | undefined;
  private readonly clock: Clock;
  private readonly timers: TimerSettings;
  private readonly onResponse: (response: SipMessage, tx: ClientTransaction) => void;
  private onTimeout: ((tx: ClientTransaction) => void) | undefined;
  private onTransportError: ((tx: ClientTransaction) => void) | undefined;
  private readonly onTerminated: (tx: ClientTransaction) => void;
  /** Timer A (INVITE) or E (non-INVITE). */
  private retransmitTimer: TimerHandle | undefined = undefined;
  private retransmitInterval = 0;
  /** Timer B or F while waiting; D, K or M after the final response. */
  private endTimer: TimerHandle | undefined = undefined;
  private started = false;
  // Bound once per transaction (on first use), so re-arming a timer allocates no closure.
  private fireRetransmit: (() => void) | undefined = undefined;
  private readonly fireEnd = (): void => this.onEndTimer();
  /** Timer C, only when the caller asked for it (options.onTimerC). */
  private timerC: TimerHandle | undefined = undefined;
  private onTimerCallback: ((tx: ClientTransaction) => void) | undefined;
  private fireTimerC: (() => void) | undefined = undefined;

  constructor(options: ClientTransactionOptions) {
    this.request = options.request;
    this.method = options.method;
    this.branch = options.branch;
    // Stored for the transaction's whole life (64·T1 in "Accepted"): one flat string, not a concatenation.
    this.key = ownedString(clientTransactionKey(options.branch, options.method));
    this.invite = options.method === "INVITE";
    this.reliable = options.reliable;
    this.send = options.send;
    this.clock = options.clock;
    this.timers = options.timers;
    this.onResponse = options.onResponse;
    this.onTimeout = options.onTimeout;
    this.onTransportError = options.onTransportError;
    this.onTerminated = options.onTerminated;
    this.onTimerCallback = this.invite ? options.onTimerC : undefined;
    // §17.1.1.2: an INVITE client transaction starts in "Calling"; §17.1.2.2: a non-INVITE one in "Trying".
    this.currentState = this.invite ? "calling" : "trying";
  }

  get state(): ClientTransactionState {
    return this.currentState;
  }

  /** A provisional response arrived (a CANCEL may be sent only then, §9.1). */
  get provisionalSeen(): boolean {
    return this.provisional;
  }

  /** Addition to the contract: status of the first final response passed up. */
  get finalStatus(): number | undefined {
    return this.finalStatusValue;
  }

  /** Addition to the contract: why the transaction terminated; undefined while it runs. */
  get terminationReason(): ClientTerminationReason | undefined {
    return this.reason;
  }

  /**
   * Sends the request and arms the timers: §17.1.1.2 Timer A = T1 (unreliable only) and Timer B = 64·T1;
   * §17.1.2.2 Timer E = T1 (unreliable only) and Timer F = 64·T1. A second call does nothing.
   */
  start(): void {
    if (this.started || this.currentState === "terminated") return;
    this.started = true;
    if (!this.reliable) {
      this.retransmitInterval = this.timers.t1Ms;
      this.fireRetransmit = (): void => this.onRetransmitTimer();
      this.retransmitTimer = this.clock.setTimer(this.retransmitInterval, this.fireRetransmit);
    }
    this.endTimer = this.clock.setTimer(transactionTimeout(this.timers), this.fireEnd);
    if (this.onTimerCallback !== undefined) this.armTimerC();
    this.transmitRequest();
  }

  /** A response whose responseClientKey equals `key`. */
  receiveResponse(response: SipMessage): void {
    const status = response.status;
    if (status === undefined || status < 100 || status > 699) return;
    if (this.invite) this.inviteResponse(status, response);
    else this.nonInviteResponse(status, response);
  }

  /** Stops every timer now (shutdown); onTerminated is called once, as for any other end. */
  terminate(): void {
    this.end("aborted");
  }

  // ---- INVITE (§17.1.1.2, RFC 6026 §7.2) ----------------------------------------------------------------------

  private inviteResponse(status: number, response: SipMessage): void {
    switch (this.currentState) {
      case "calling":
      case "proceeding":
        if (status < 200) return this.inviteProvisional(status, response);
        if (status < 300) return this.inviteSuccess(status, response);
        return this.inviteFailure(status, response);
      case "accepted":
        // RFC 6026 §7.2: further 2xx (retransmissions, other forks) are passed up; anything else is dropped.
        if (status >= 200 && status < 300) this.onResponse(response, this);
        return;
      case "completed":
        // §17.1.1.2: a retransmitted 300-699 final makes the ACK go out again and is not passed up.
        if (status >= 300 && this.ack !== undefined && !this.sendData(this.ack)) this.end("transport-error");
        return;
      default:
        return;
    }
  }

  /** §17.1.1.2: 1xx in "Calling" → "Proceeding", retransmissions stop; every 1xx is passed up. */
  private inviteProvisional(status: number, response: SipMessage): void {
    this.provisional = true;
    if (this.currentState === "calling") {
      this.currentState = "proceeding";
      // Timer A stops; Timer B "is only relevant in Calling" (§17.1.1.2): from here Timer C guards the wait.
      // The request stays: a later 300-699 final needs it to build the ACK.
      this.cancelRetransmitAndEnd();
    }
    // §16.7 step 2: a provisional response other than 100 resets Timer C.
    if (status > 100 && this.timerC !== undefined) this.armTimerC();
    this.onResponse(response, this);
  }

  /** RFC 6026 §7.2: 2xx → "Accepted" with Timer M = 64·T1; the response goes up. */
  private inviteSuccess(status: number, response: SipMessage): void {
    this.finalStatusValue = status;
    this.currentState = "accepted";
    this.cancelTimers();
    this.request = undefined;
    // RFC 6026 §7.2: "Accepted" sends nothing; it only passes 2xx retransmissions up until Timer M.
    this.shed(false);
    this.endTimer = this.clock.setTimer(transactionTimeout(this.timers), this.fireEnd);
    this.onResponse(response, this);
  }

  /**
   * §17.1.1.2: 300-699 → ACK generated (§17.1.1.3) and sent, response passed up, "Completed" with Timer D
   * (≥ 32 s unreliable, 0 reliable).
   */
  private inviteFailure(status: number, response: SipMessage): void {
    this.finalStatusValue = status;
    this.currentState = "completed";
    this.cancelTimers();
    const ack = this.buildAck(response);
    this.request = undefined;
    this.ack = ack;
    // §17.1.1.2: "Completed" only re-sends the ACK (when there is one) until Timer D.
    this.shed(ack !== undefined);
    const failed = ack !== undefined && !this.sendData(ack);
    const d = timerD(this.timers, this.reliable);
    // Timer D absorbs the final's retransmissions (re-ACKed while an ACK exists).
    if (!failed && d > 0) this.endTimer = this.clock.setTimer(d, this.fireEnd);
    this.onResponse(response, this);
    if (this.currentState !== "completed") return; // the TU ended it meanwhile
    if (failed) this.end("transport-error");
    else if (d <= 0) this.end("completed");
  }

  private buildAck(response: SipMessage): Buffer | undefined {
    if (this.request === undefined) return undefined;
    try {
      return ackForNonSuccess(this.request, response);
    } catch {
      // A final without a usable To cannot be acknowledged; the response still goes up.
      return undefined;
    }
  }

  // ---- non-INVITE (§17.1.2.2) -----------------------------------------------------------------------------------

  private nonInviteResponse(status: number, response: SipMessage): void {
    const s = this.currentState;
    if (s !== "trying" && s !== "proceeding") return; // "Completed" absorbs retransmitted finals
    if (status < 200) {
      // §17.1.2.2: 1xx → "Proceeding"; Timer E keeps running and is reset to T2 when it next fires.
      this.provisional = true;
      this.currentState = "proceeding";
      this.onResponse(response, this);
      return;
    }
    // §17.1.2.2: 200-699 → "Completed", Timer K = T4 unreliable, zero reliable.
    this.finalStatusValue = status;
    this.currentState = "completed";
    this.cancelTimers();
    this.request = undefined;
    // §17.1.2.2: "Completed" absorbs retransmitted finals and sends nothing.
    this.shed(false);
    const k = timerT4OrZero(this.timers, this.reliable);
    if (k > 0) this.endTimer = this.clock.setTimer(k, this.fireEnd);
    this.onResponse(response, this);
    if (k <= 0 && this.currentState === "completed") this.end("completed");
  }

  // ---- timers ---------------------------------------------------------------------------------------------

  /**
   * Timer A (§17.1.1.2): resend, interval doubles without a cap (Timer B ends it). Timer E (§17.1.2.2): in
   * "Trying" the interval doubles up to T2; in "Proceeding" it is T2.
   */
  private onRetransmitTimer(): void {
    this.retransmitTimer = undefined;
    const s = this.currentState;
    if (s !== "calling" && s !== "trying" && s !== "proceeding") return;
    if (s === "proceeding" && this.invite) return;
    if (!this.transmitRequest()) return;
    if (this.invite) this.retransmitInterval *= 2;
    else if (s === "proceeding") this.retransmitInterval = this.timers.t2Ms;
    else this.retransmitInterval = nextCappedInterval(this.retransmitInterval, this.timers);
    this.fireRetransmit ??= (): void => this.onRetransmitTimer();
    this.retransmitTimer = this.clock.setTimer(this.retransmitInterval, this.fireRetransmit);
  }

  /** Timer B / F while waiting (timeout); D, K or M afterwards (normal end). */
  private onEndTimer(): void {
    this.endTimer = undefined;
    const s = this.currentState;
    if (s === "calling" || s === "trying" || s === "proceeding") {
      this.onTimeout?.(this);
      this.end("timeout");
      return;
    }
    this.end("completed");
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  /** Sends the request; a failure reports onTransportError and ends the transaction (§17.1.1.2, §17.1.2.2). */
  private transmitRequest(): boolean {
    if (this.request !== undefined && this.sendData(this.request)) return true;
    this.onTransportError?.(this);
    this.end("transport-error");
    return false;
  }

  private sendData(data: Buffer): boolean {
    return this.send !== undefined && this.send(data);
  }

  /**
   * After the final response the transaction never retransmits, times out, fails over or runs Timer C: the
   * callbacks for those go, with whatever their closures hold (a transaction lingers up to 64·T1 in
   * "Accepted"/"Completed"). send stays only for re-sending an ACK (§17.1.1.2 "Completed").
   */
  private shed(keepSend: boolean): void {
    if (!keepSend) this.send = undefined;
    this.onTimeout = undefined;
    this.onTransportError = undefined;
    this.onTimerCallback = undefined;
    this.fireRetransmit = undefined;
    this.fireTimerC = undefined;
  }

  private cancelRetransmitAndEnd(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.endTimer?.cancel();
    this.endTimer = undefined;
  }

  private cancelTimers(): void {
    this.cancelRetransmitAndEnd();
    this.timerC?.cancel();
    this.timerC = undefined;
  }

  private armTimerC(): void {
    this.timerC?.cancel();
    this.fireTimerC ??= (): void => this.onTimerC();
    this.timerC = this.clock.setTimer(this.timers.timerCMs, this.fireTimerC);
  }

  /**
   * Timer C (§16.6 step 11, §16.8): the TU decides (CANCEL when a provisional arrived, else act as on a 408).
   * Then, like a CANCEL sender (§9.1), the transaction waits at most 64·T1 more for the final response
   * before it reports a timeout and ends.
   */
  private onTimerC(): void {
    this.timerC = undefined;
    const s = this.currentState;
    if ((s !== "calling" && s !== "proceeding") || this.onTimerCallback === undefined) return;
    this.onTimerCallback(this);
    if (this.currentState !== s || this.endTimer !== undefined) return;
    this.endTimer = this.clock.setTimer(transactionTimeout(this.timers), this.fireEnd);
  }

  /** "Terminated": timers cancelled, buffers released, onTerminated called exactly once. */
  private end(reason: ClientTerminationReason): void {
    if (this.currentState === "terminated") return;
    this.currentState = "terminated";
    this.reason = reason;
    this.cancelTimers();
    this.request = undefined;
    this.ack = undefined;
    this.shed(false);
    this.onTerminated(this);
  }
}
