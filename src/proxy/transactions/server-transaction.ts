/**
 * Server transactions (RFC 3261 §17.2): INVITE (§17.2.1, with the "Accepted" state of RFC 6026 §7.1) and
 * non-INVITE (§17.2.2). The transaction user (the proxy core) hands responses down with respond(); request
 * retransmissions and ACKs matched by serverTransactionKey come in through receiveRetransmission() and
 * receiveAck(). The transaction keeps the request until its first final response and the last response only
 * while a retransmitted request or Timer G may need it again; in RFC 6026 "Accepted" and in "Confirmed" it
 * holds neither (an answered INVITE lingers 64·T1, so per-transaction memory is what a busy edge pays).
 *
 * Callbacks run synchronously: onTerminated may be called from inside respond() or receiveAck() (reliable
 * transports use zero-length Timers I and J, i.e. the transaction ends at once). A transaction that already
 * terminated ignores everything.
 */
import type { SipMessage } from "../../sip/index.js";
import type { Clock, TimerHandle } from "./clock.js";
import {
  nextCappedInterval,
  timerJ,
  timerT4OrZero,
  transactionTimeout,
  type TimerSettings,
} from "./timers.js";
import { ownedString, serverTransactionKey } from "./transaction-key.js";

export type ServerTransactionState =
  "trying" | "proceeding" | "completed" | "confirmed" | "accepted" | "terminated";

/** Why a server transaction ended (for counters and logs). */
export type ServerTerminationReason =
  /** Timer I, J or L ran out after a final response: the normal end. */
  | "completed"
  /** Timer H fired: no ACK arrived for a non-2xx final response to an INVITE (§17.2.1). */
  | "ack-timeout"
  /** send() returned false (§17.2.1, §17.2.2: "inform the TU"). */
  | "transport-error"
  /** terminate() was called (shutdown). */
  | "aborted";

export interface ServerTransactionOptions {
  readonly request: SipMessage;
  readonly reliable: boolean;
  /** Sends towards the request's sender; false = transport error. */
  readonly send: (data: Buffer) => boolean;
  readonly clock: Clock;
  readonly timers: TimerSettings;
  readonly onTerminated: (tx: ServerTransaction) => void;
  readonly onTransportError?: (tx: ServerTransaction) => void;
  /**
   * Addition to the contract: the key the caller already computed with serverTransactionKey (saves a parse).
   * Stored as given: pass ownedString(key) when the transaction may linger (see transaction-key.ts).
   */
  readonly key?: string;
}

export class ServerTransaction {
  readonly key: string;
  readonly method: string;
  /** The request, released at the first final response (nothing after it reads the request). */
  private requestValue: SipMessage | undefined;
  private currentState: ServerTransactionState;
  private status: number | undefined = undefined;
  private reason: ServerTerminationReason | undefined = undefined;
  /** The most recent response passed to the transport: what a retransmitted request gets again. */
  private lastResponse: Buffer | undefined = undefined;
  private readonly invite: boolean;
  private readonly reliable: boolean;
  private readonly send: (data: Buffer) => boolean;
  private readonly clock: Clock;
  private readonly timers: TimerSettings;
  private readonly onTerminated: (tx: ServerTransaction) => void;
  private readonly onTransportError: ((tx: ServerTransaction) => void) | undefined;
  /** Timer G (INVITE response retransmission). */
  private retransmitTimer: TimerHandle | undefined = undefined;
  private retransmitInterval = 0;
  /** Timer H, I, J or L: whichever ends the current state. */
  private endTimer: TimerHandle | undefined = undefined;
  // Bound once per transaction (Timer G's on first use: only 300-699 over UDP need it), so re-arming a timer
  // allocates no closure.
  private fireRetransmit: (() => void) | undefined = undefined;
  private readonly fireEnd = (): void => this.onEndTimer();

  /** Throws TransactionKeyError (see transaction-key.ts) when no key is given and none can be computed. */
  constructor(options: ServerTransactionOptions) {
    const method = options.request.method;
    if (method === undefined) throw new TypeError("a server transaction needs a request");
    this.requestValue = options.request;
    this.method = method;
    // A key given by the caller is kept as given (the caller stores the same string in its own map).
    this.key = options.key ?? ownedString(serverTransactionKey(options.request));
    this.invite = method === "INVITE";
    this.reliable = options.reliable;
    this.send = options.send;
    this.clock = options.clock;
    this.timers = options.timers;
    this.onTerminated = options.onTerminated;
    this.onTransportError = options.onTransportError;
    // §17.2.1: an INVITE server transaction starts in "Proceeding"; §17.2.2: a non-INVITE one in "Trying".
    this.currentState = this.invite ? "proceeding" : "trying";
  }

  /**
   * The request that created the transaction, until the first final response; undefined afterwards. (Contract
   * change: was `readonly request: SipMessage`; no caller reads it after the final response.)
   */
  get request(): SipMessage | undefined {
    return this.requestValue;
  }

  get state(): ServerTransactionState {
    return this.currentState;
  }

  /** Status of the first final response sent (the one that left "proceeding"/"trying"). */
  get finalStatus(): number | undefined {
    return this.status;
  }

  /** Addition to the contract: why the transaction terminated; undefined while it runs. */
  get terminationReason(): ServerTerminationReason | undefined {
    return this.reason;
  }

  /**
   * A response from the TU. 1xx while proceeding: sent, no state change. INVITE: 2xx → "accepted" (RFC 6026
   * §7.1, Timer L), later 2xx also sent (the proxy forwards every 2xx, §16.7 step 5); 300-699 → "completed"
   * (Timers G and H). Non-INVITE: any final → "completed" (Timer J). Responses in other states are dropped:
   * §17.2.1/§17.2.2 allow no second final response.
   */
  respond(status: number, response: Buffer): void {
    if (!(status >= 100 && status <= 699)) return;
    switch (this.currentState) {
      case "trying":
      case "proceeding":
        if (status < 200) return this.sendProvisional(response);
        return this.invite
          ? this.sendInviteFinal(status, response)
          : this.sendNonInviteFinal(status, response);
      case "accepted":
        // RFC 6026 §7.1: "2xx from TU: send response" while Accepted (retransmissions or other forks' 2xx).
        if (status >= 200 && status < 300) this.transmitAccepted(response);
        return;
      default:
        return;
    }
  }

  /**
   * The same request arrived again. §17.2.1: in "Proceeding" the most recent provisional response is resent,
   * in "Completed" the final one; RFC 6026 §7.1 absorbs it in "Accepted" (the 2xx is retransmitted end to end
   * by the UAS); "Confirmed" absorbs it. §17.2.2: "Trying" discards it (nothing sent yet), "Proceeding" and
   * "Completed" resend the last response.
   */
  receiveRetransmission(): void {
    const s = this.currentState;
    if (s !== "proceeding" && s !== "completed") return;
    if (this.lastResponse !== undefined) this.transmit(this.lastResponse);
  }

  /**
   * An ACK matched this INVITE transaction. Returns true when the transaction absorbed it: in "Completed" it
   * moves to "Confirmed" (§17.2.1, Timer I); in "Confirmed" it is a retransmission. Returns false when the
   * ACK is not part of the transaction: in "Accepted" (RFC 6026 §7.1: "passed to the TU") the ACK
   * acknowledges a 2xx and the caller forwards it; in other states there is nothing it could acknowledge.
   * (The boolean is an addition to the contract; callers may ignore it.)
   */
  receiveAck(): boolean {
    if (!this.invite) return false;
    if (this.currentState === "confirmed") return true;
    if (this.currentState !== "completed") return false;
    this.currentState = "confirmed";
    // §17.2.1: "Confirmed" only absorbs ACKs; the final response is never sent again.
    this.lastResponse = undefined;
    this.fireRetransmit = undefined;
    this.cancelTimers();
    // §17.2.1: "timer I is set to fire in T4 seconds for unreliable transports, and zero seconds for reliable".
    this.armEnd(timerT4OrZero(this.timers, this.reliable), "completed");
    return true;
  }

  /** Addition to the contract: stop now (shutdown). onTerminated is called once, as for any other end. */
  terminate(): void {
    this.end("aborted");
  }

  // ---- transitions ------------------------------------------------------------------------------------------

  private sendProvisional(response: Buffer): void {
    // §17.2.2: a provisional response moves a non-INVITE transaction from "Trying" to "Proceeding".
    if (this.currentState === "trying") this.currentState = "proceeding";
    this.lastResponse = response;
    this.transmit(response);
  }

  private sendInviteFinal(status: number, response: Buffer): void {
    this.status = status;
    this.requestValue = undefined;
    if (status < 300) {
      // RFC 6026 §7.1: 2xx → "Accepted", Timer L = 64·T1 for any transport. Retransmitted INVITEs are
      // absorbed and 2xx retransmissions come from the TU with their own bytes: no response is kept.
      this.lastResponse = undefined;
      this.currentState = "accepted";
      this.endTimer = this.clock.setTimer(transactionTimeout(this.timers), this.fireEnd);
      this.transmitAccepted(response);
      return;
    }
    // §17.2.1: 300-699 → "Completed"; Timer G = T1 for unreliable transports only; Timer H = 64·T1 always.
    // The response stays for Timer G and for retransmitted INVITEs until the ACK comes.
    this.lastResponse = response;
    this.currentState = "completed";
    if (!this.reliable) {
      this.retransmitInterval = this.timers.t1Ms;
      this.fireRetransmit = (): void => this.onTimerG();
      this.retransmitTimer = this.clock.setTimer(this.retransmitInterval, this.fireRetransmit);
    }
    this.endTimer = this.clock.setTimer(transactionTimeout(this.timers), this.fireEnd);
    this.transmit(response);
  }

  private sendNonInviteFinal(status: number, response: Buffer): void {
    this.status = status;
    this.requestValue = undefined;
    // §17.2.2: kept for retransmitted requests during Timer J (unreliable only: reliable ends at once).
    this.lastResponse = response;
    this.currentState = "completed";
    if (!this.transmit(response)) return;
    // §17.2.2: Timer J = 64·T1 for unreliable transports, zero for reliable ones.
    this.armEnd(timerJ(this.timers, this.reliable), "completed");
  }

  /** Timer G (§17.2.1): resend the final response; the interval doubles up to T2. */
  private onTimerG(): void {
    this.retransmitTimer = undefined;
    if (this.currentState !== "completed" || this.lastResponse === undefined) return;
    if (!this.transmit(this.lastResponse)) return;
    this.retransmitInterval = nextCappedInterval(this.retransmitInterval, this.timers);
    this.fireRetransmit ??= (): void => this.onTimerG();
    this.retransmitTimer = this.clock.setTimer(this.retransmitInterval, this.fireRetransmit);
  }

  /** Timer H (in "Completed"), I ("Confirmed"), J (non-INVITE "Completed") or L ("Accepted"). */
  private onEndTimer(): void {
    this.endTimer = undefined;
    // §17.2.1: Timer H firing in "Completed" means the ACK never came.
    this.end(this.invite && this.currentState === "completed" ? "ack-timeout" : "completed");
  }

  /** Sends; on failure ends the transaction (§17.2.1, §17.2.2) and tells the TU. */
  private transmit(data: Buffer): boolean {
    if (this.send(data)) return true;
    // The TU hears of the error first, then of the end (terminated is always the last event).
    this.onTransportError?.(this);
    this.end("transport-error");
    return false;
  }

  /**
   * Sends a 2xx while "Accepted". A transport error is reported but the transaction stays: terminating
   * would make the INVITE's retransmissions look like a new request, which is what RFC 6026 fixes.
   */
  private transmitAccepted(data: Buffer): void {
    if (!this.send(data)) this.onTransportError?.(this);
  }

  private armEnd(ms: number, reason: ServerTerminationReason): void {
    if (ms <= 0) return this.end(reason);
    this.endTimer = this.clock.setTimer(ms, this.fireEnd);
  }

  private cancelTimers(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.endTimer?.cancel();
    this.endTimer = undefined;
  }

  /** "Terminated": timers cancelled, the response buffer released, onTerminated called exactly once. */
  private end(reason: ServerTerminationReason): void {
    if (this.currentState === "terminated") return;
    this.currentState = "terminated";
    this.reason = reason;
    this.cancelTimers();
    this.lastResponse = undefined;
    this.requestValue = undefined;
    this.onTerminated(this);
  }
}
