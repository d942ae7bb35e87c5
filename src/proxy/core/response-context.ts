/**
 * The response context of one proxied request (RFC 3261 §16.4 "response context"): the server transaction
 * towards the sender, the client transactions (branches) towards the targets tried one after the other, and
 * the final responses collected so far. It implements §16.7 (response processing), §16.8 (Timer C), §16.10
 * (CANCEL) and inner-server failover (RFC 3263 §4.3 spirit: on timeout, 503 or transport error try the next
 * target of the group).
 */
import { createResponse, serializeMessage, type SipMessage } from "../../sip/index.js";
import type { Counters } from "../../transport/counters.js";
import {
  ClientTransaction,
  type Clock,
  type ServerTransaction,
  type TimerHandle,
  type TimerSettings,
} from "../transactions/index.js";
import { bestResponse, type FinalCandidate } from "./best-response.js";
import { buildCancel } from "./cancel.js";
import type { PolicyDecision } from "../policy/request-policy.js";
import { sendSafely, type Flow } from "./flow.js";

/** One next hop to try: opened only when it is its turn. */
export interface Hop {
  readonly label: string;
  /** Whether a timeout, 503, transport error or silence on this hop moves on to the next one. */
  readonly failover: boolean;
  open(): Flow;
}

export type Outcome = "forwarded" | "rejected" | "local" | "failed";

const NO_HOPS: readonly Hop[] = Object.freeze([]);

/** What the context needs from the core (no import of proxy-core: no cycle). */
export interface ContextEnvironment {
  readonly clock: Clock;
  readonly timers: TimerSettings;
  readonly counters: Counters;
  /** A branch that received nothing within this time is abandoned for the next target. */
  readonly failoverAfterMs: number;
  /** To tag of the final responses we generate. */
  readonly toTag: string;
  /** `onFlowFailed`: what to do when the wiring reports the flow dead (ProxyCore.flowFailed). */
  registerClient(key: string, tx: ClientTransaction, flow: Flow, onFlowFailed?: () => void): void;
  unregisterClient(key: string): void;
  /** onTerminated of every client transaction: one shared function, not a closure per branch. */
  readonly clientTerminated: (tx: ClientTransaction) => void;
  /** The first final response went upstream (or the context ended without one). */
  finished(ctx: ResponseContext): void;
}

type CancelState = "none" | "pending" | "sent";

class Branch {
  tx: ClientTransaction | undefined = undefined;
  done = false;
  abandoned = false;
  heard = false;
  cancel: CancelState = "none";
  silence: TimerHandle | undefined = undefined;

  constructor(
    readonly id: string,
    readonly hop: Hop,
    readonly flow: Flow,
    /** The request as sent: kept only while a CANCEL may still have to be built from it (§9.1). */
    public bytes: Buffer | undefined,
  ) {}

  clearTimers(): void {
    this.silence?.cancel();
    this.silence = undefined;
  }

  /** The branch has its final answer: timers off, and the request copy goes unless a CANCEL still waits. */
  finish(): void {
    this.done = true;
    this.clearTimers();
    if (this.cancel !== "pending") this.bytes = undefined;
  }

  /** Still waiting for a final response that counts (§16.7 step 6: "all client transactions terminated"). */
  get pending(): boolean {
    return !this.done && !this.abandoned;
  }
}

export interface ContextInit {
  readonly env: ContextEnvironment;
  readonly request: SipMessage;
  readonly source: Flow;
  readonly startedAt: number;
}

/** How this context's request is copied for a next hop (forwarding.ts) and how its branches are named. */
export interface ForwardingRecipe {
  build(out: Flow, branch: string): Buffer;
  newBranch(): string;
}

export class ResponseContext {
  readonly source: Flow;
  readonly method: string;
  readonly startedAt: number;
  server: ServerTransaction | undefined = undefined;
  finalSent = false;
  finalStatus = 0;
  endedAt = 0;
  outcome: Outcome = "failed";
  failure: { code: string; detail: string } | undefined = undefined;
  /** Set while an outside hop is being acquired (async). */
  acquiring = false;
  outsideFlow: Flow | undefined = undefined;
  cancelled = false;
  /** Where the core indexes this INVITE for CANCEL matching (§9.2); set by the core. */
  cancelKey: string | undefined = undefined;
  private cancelReasonValue: string | undefined = undefined;
  private release: (() => void) | undefined = undefined;
  private readonly env: ContextEnvironment;
  recipe: ForwardingRecipe | undefined = undefined;
  decision: PolicyDecision | undefined = undefined;
  private hops: readonly Hop[] = [];
  private hopIndex = 0;
  private readonly branches: Branch[] = [];
  private readonly candidates: FinalCandidate[] = [];
  private summarized = false;
  /** The request until the first final response is out and summarized (see trim()). */
  private requestValue: SipMessage | undefined;

  constructor(init: ContextInit) {
    this.env = init.env;
    this.requestValue = init.request;
    this.source = init.source;
    this.method = init.request.method!;
    this.startedAt = init.startedAt;
  }

  /** The request, until the first final response went out; undefined afterwards. */
  get request(): SipMessage | undefined {
    return this.requestValue;
  }

  get isInvite(): boolean {
    return this.method === "INVITE";
  }

  // ---- answering ourselves ----------------------------------------------------------------------------------

  /** A response we generate (§8.2.6 via createResponse): 100 Trying, rejections, local answers, failures. */
  respond(
    status: number,
    reason: string,
    outcome: Outcome,
    options: {
      headers?: ReadonlyArray<readonly [string, string]>;
      failure?: { code: string; detail: string };
      raw?: Buffer;
    } = {},
  ): void {
    // After the final response nothing more can go upstream from us (the server transaction drops it).
    const request = this.requestValue;
    if (this.finalSent || request === undefined) return;
    const bytes =
      options.raw ??
      createResponse(request, status, reason, { toTag: this.env.toTag, headers: options.headers });
    if (status < 200) return this.sendUpstream(status, bytes);
    this.setFinal(status, outcome, options.failure);
    this.sendUpstream(status, bytes);
    this.afterFinal();
  }

  /** No target could be reached: 503 with our code in an RFC 3326 Reason header. */
  fail(
    status: number,
    reason: string,
    failure: { code: string; detail: string },
    reasonText: string = failure.code,
  ): void {
    this.respond(status, reason, "failed", { headers: [reasonHeader(status, reasonText)], failure });
  }

  // ---- forwarding ---------------------------------------------------------------------------------------------

  /** Tries the hops in order (failover), starting with the first. */
  forward(hops: readonly Hop[], release?: () => void, outsideFlow?: Flow): void {
    this.acquiring = false;
    if (release !== undefined) this.release = release;
    if (outsideFlow !== undefined) this.outsideFlow = outsideFlow;
    if (this.finalSent || this.cancelled) {
      if (!this.finalSent) this.respond(487, "Request Terminated", "local");
      this.releaseHop();
      return;
    }
    this.hops = hops;
    this.hopIndex = 0;
    this.startNext();
  }

  private startNext(): void {
    const hop = this.hops[this.hopIndex++];
    if (hop === undefined) {
      this.maybeFinish();
      return;
    }
    if (this.hopIndex > 1) this.env.counters.increment("proxy.failover.next");
    this.startBranch(hop);
  }

  private hasNextHop(): boolean {
    return this.hopIndex < this.hops.length;
  }

  private startBranch(hop: Hop): void {
    let flow: Flow;
    try {
      flow = hop.open();
    } catch (err) {
      this.candidates.push({
        status: 503,
        reason: "Service Unavailable",
        failure: { code: "no-flow", detail: `${hop.label}: ${String(err)}` },
      });
      if (hop.failover && this.hasNextHop()) this.startNext();
      else this.maybeFinish();
      return;
    }
    const id = this.recipe!.newBranch();
    const bytes = this.recipe!.build(flow, id);
    const branch = new Branch(id, hop, flow, bytes);
    const env = this.env;
    branch.tx = new ClientTransaction({
      request: bytes,
      method: this.method,
      branch: id,
      reliable: flow.reliable,
      send: (data) => sendSafely(flow, data),
      clock: env.clock,
      timers: env.timers,
      onResponse: (response) => this.guard(() => this.onBranchResponse(branch, response)),
      onTimeout: () => this.guard(() => this.onBranchFailure(branch, 408, "Request Timeout", "timeout")),
      onTransportError: () =>
        this.guard(() => this.onBranchFailure(branch, 503, "Service Unavailable", "transport-error")),
      onTerminated: env.clientTerminated,
      // §16.6 step 11: Timer C runs inside the INVITE client transaction, reset by 101-199 (§16.7 step 2).
      onTimerC: () => this.guard(() => this.onTimerC(branch)),
    });
    this.branches.push(branch);
    env.registerClient(branch.tx.key, branch.tx, flow, () => this.onFlowFailed(branch));
    env.counters.increment("proxy.transactions.client");
    // Silence failover: only worth it when there is somewhere else to go.
    if (hop.failover && this.hasNextHop() && env.failoverAfterMs > 0) {
      branch.silence = env.clock.setTimer(env.failoverAfterMs, () =>
        this.guard(() => this.onSilence(branch)),
      );
    }
    branch.tx.start();
  }

  /**
   * Timer callbacks run outside receive()'s safety net: a bug there must not crash the process. It is
   * counted, and the sender gets a 500 if it has no final response yet.
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.env.counters.increment("proxy.dropped.internal-error");
      if (!this.finalSent) {
        try {
          this.fail(500, "Server Internal Error", { code: "internal-error", detail: String(err) });
        } catch {
          // Nothing more can be done.
        }
      }
    }
  }

  // ---- responses from a branch (§16.7) -------------------------------------------------------------------------

  private onBranchResponse(branch: Branch, response: SipMessage): void {
    const status = response.status!;
    branch.heard = true;
    branch.silence?.cancel();
    branch.silence = undefined;
    if (status < 200) return this.onProvisional(branch, response, status);
    if (status < 300) return this.onSuccess(branch, response, status);
    return this.onFailureResponse(branch, response, status);
  }

  private onProvisional(branch: Branch, response: SipMessage, status: number): void {
    // §9.1: a CANCEL waits for the first provisional response of its branch.
    if (branch.cancel === "pending") this.sendCancel(branch);
    // §16.7 step 5: 100 Trying is not forwarded (the transaction resets Timer C on the others, step 2).
    if (status === 100 || !branch.pending) return;
    if (!this.finalSent) this.relay(response, status);
  }

  /** §16.7 step 5: "Any 2xx response to an INVITE ... MUST be forwarded immediately"; step 10: cancel the rest. */
  private onSuccess(branch: Branch, response: SipMessage, status: number): void {
    branch.finish();
    const first = !this.finalSent;
    if (first) this.setFinal(status, "forwarded", undefined);
    this.relay(response, status);
    if (first) this.afterFinal();
    if (this.isInvite) this.cancelPending();
  }

  private onFailureResponse(branch: Branch, response: SipMessage, status: number): void {
    if (!branch.pending) return;
    branch.finish();
    this.candidates.push({ status, response, reason: response.reason ?? "" });
    if (status === 503 && this.mayFailOver(branch)) {
      this.env.counters.increment("proxy.failover.503");
      return this.startNext();
    }
    // §16.7 step 5: a 6xx is held for step 6, and pending branches are cancelled (step 10).
    if (status >= 600 && this.isInvite) this.cancelPending();
    this.maybeFinish();
  }

  /** Timer B/F (408) or a transport error (503) on a branch (§16.7 step 6 / §16.9). */
  private onBranchFailure(branch: Branch, status: number, reason: string, code: string): void {
    if (!branch.pending) return;
    branch.finish();
    this.candidates.push({
      status,
      reason,
      failure: { code, detail: `${this.method} to ${branch.hop.label}: ${code}` },
    });
    if (this.mayFailOver(branch)) {
      this.env.counters.increment(`proxy.failover.${code}`);
      return this.startNext();
    }
    this.maybeFinish();
  }

  /**
   * RFC 3261 §17.1.4 / §16.9: the connection under this branch failed after send() had accepted the bytes
   * (e.g. a refused TCP connect): a transport error like a failed send, so the next target is tried now
   * instead of at Timer B or failoverAfterMs.
   */
  private onFlowFailed(branch: Branch): void {
    this.onBranchFailure(branch, 503, "Service Unavailable", "transport-error");
    branch.tx?.terminate();
  }

  private mayFailOver(branch: Branch): boolean {
    return branch.hop.failover && this.hasNextHop() && !this.cancelled && !this.finalSent;
  }

  /** The branch sent nothing at all within failoverAfterMs: give up on it and try the next target. */
  private onSilence(branch: Branch): void {
    branch.silence = undefined;
    if (branch.heard || !branch.pending || !this.mayFailOver(branch)) return;
    branch.abandoned = true;
    branch.clearTimers();
    // §9.1: no provisional yet, so a CANCEL waits for one (and is given up at Timer B).
    if (this.isInvite) branch.cancel = "pending";
    this.env.counters.increment("proxy.failover.silent");
    this.startNext();
  }

  // ---- Timer C (§16.6 step 11, §16.8) ----------------------------------------------------------------------

  /**
   * §16.8: "If the client transaction has received a provisional response, the proxy MUST generate a CANCEL
   * request matching that transaction. If the client transaction has not received a provisional response,
   * the proxy MUST behave as if the transaction received a 408 (Request Timeout) response."
   */
  private onTimerC(branch: Branch): void {
    if (!branch.pending) return;
    this.env.counters.increment("proxy.timer-c");
    this.cancelBranch(branch);
    branch.finish();
    this.candidates.push({
      status: 408,
      reason: "Request Timeout",
      failure: { code: "timer-c", detail: `no final response from ${branch.hop.label} within Timer C` },
    });
    this.maybeFinish();
  }

  // ---- CANCEL (§16.10) ------------------------------------------------------------------------------------------

  /** The sender cancelled: cancel every pending branch; answer 487 ourselves when nothing is pending. */
  cancel(reason?: string): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelReasonValue = reason;
    if (this.finalSent) return;
    let pending = false;
    for (const b of this.branches) {
      if (!b.pending) continue;
      pending = true;
      this.cancelBranch(b);
    }
    if (!pending && !this.acquiring) this.respond(487, "Request Terminated", "local");
    // While an outside hop is being acquired, forward() answers 487 when it resolves.
  }

  private cancelPending(): void {
    for (const b of this.branches) if (b.pending || b.abandoned) this.cancelBranch(b);
  }

  private cancelBranch(branch: Branch): void {
    if (!this.isInvite || branch.cancel !== "none" || branch.tx === undefined) return;
    if (branch.tx.provisionalSeen) this.sendCancel(branch);
    else branch.cancel = "pending";
  }

  /** §9.1: the CANCEL is its own non-INVITE client transaction with the branch of the INVITE. */
  private sendCancel(branch: Branch): void {
    const sent = branch.bytes;
    if (branch.cancel === "sent" || sent === undefined) return;
    branch.cancel = "sent";
    branch.bytes = undefined;
    const env = this.env;
    const flow = branch.flow;
    const tx = new ClientTransaction({
      request: buildCancel(sent, this.cancelReasonValue),
      method: "CANCEL",
      branch: branch.id,
      reliable: flow.reliable,
      send: (data) => sendSafely(flow, data),
      clock: env.clock,
      timers: env.timers,
      // The 200 to our CANCEL means nothing to the sender; the 487 comes on the INVITE branch.
      onResponse: () => undefined,
      onTimeout: () => env.counters.increment("proxy.cancel.timeout"),
      onTransportError: () => env.counters.increment("proxy.cancel.transport-error"),
      onTerminated: env.clientTerminated,
    });
    env.registerClient(tx.key, tx, flow);
    env.counters.increment("proxy.transactions.client");
    tx.start();
  }

  // ---- the final answer ---------------------------------------------------------------------------------------

  /** §16.7 step 6: once no branch is pending and no target is left, send the best final response. */
  private maybeFinish(): void {
    if (this.finalSent || this.acquiring) return;
    for (const b of this.branches) if (b.pending) return;
    const best = bestResponse(this.candidates);
    if (best === undefined) {
      // §16.7 step 6: no final response at all → 408.
      this.fail(408, "Request Timeout", { code: "no-response", detail: "no target answered" });
      return;
    }
    if (best.response === undefined) {
      if (this.cancelled) return this.respond(487, "Request Terminated", "local");
      return this.fail(best.status, best.reason, best.failure ?? { code: "failed", detail: best.reason });
    }
    if (best.status === 503) {
      // §16.7 step 6: a 503 from downstream is not passed on; "the proxy SHOULD generate a 500".
      return this.fail(500, "Server Internal Error", {
        code: "downstream-503",
        detail: "every target answered 503 Service Unavailable",
      });
    }
    this.setFinal(best.status, "forwarded", undefined);
    this.relay(best.response, best.status);
    this.afterFinal();
  }

  /** §16.7 steps 3 and 8: our Via off, then out on the server transaction. */
  private relay(response: SipMessage, status: number): void {
    const bytes = serializeMessage(response, {
      removeTopVia: true,
      // §18.3: a datagram without Content-Length onto a stream gets one.
      ensureContentLength: this.source.reliable,
    });
    this.sendUpstream(status, bytes);
  }

  private sendUpstream(status: number, bytes: Buffer): void {
    this.env.counters.increment(`proxy.responses.${Math.floor(status / 100)}xx`);
    try {
      this.server?.respond(status, bytes);
    } catch {
      // e.g. a late 2xx after the transaction completed with a non-2xx: nothing left to deliver it on.
      this.env.counters.increment("proxy.dropped.late-response");
    }
  }

  /**
   * The final status is recorded before the bytes go out: over a stream the server transaction may end (and
   * close this context) inside respond().
   */
  private setFinal(
    status: number,
    outcome: Outcome,
    failure: { code: string; detail: string } | undefined,
  ): void {
    this.finalSent = true;
    this.finalStatus = status;
    this.outcome = outcome;
    this.failure = failure;
    this.endedAt = this.env.clock.now();
  }

  private afterFinal(): void {
    this.releaseHop();
    this.summarize();
    this.trim();
  }

  /**
   * Once the first final response is out and summarized, no new branch starts (forward() and failover
   * check finalSent) and nothing is built from the request any more: an answered context lingers for Timer
   * L / M (RFC 6026, 64·T1) with only what later 2xx retransmissions, CANCELs and flow failures need (the
   * server transaction, the branches and their transactions, source and decision).
   */
  private trim(): void {
    this.requestValue = undefined;
    this.recipe = undefined;
    this.hops = NO_HOPS;
    this.candidates.length = 0;
  }

  /** The accounting hook runs once: at the first final response, or when the context ends without one. */
  summarize(): void {
    if (this.summarized) return;
    this.summarized = true;
    if (this.endedAt === 0) this.endedAt = this.env.clock.now();
    this.env.finished(this);
  }

  private releaseHop(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  /** The server transaction is gone (or the core shuts down): stop everything still running. */
  close(terminateClients: boolean): void {
    for (const b of this.branches) {
      b.clearTimers();
      if (terminateClients) b.tx?.terminate();
    }
    this.releaseHop();
    this.summarize();
  }
}

/** RFC 3326 §2: `Reason: SIP ;cause=<status> ;text="<our code>"`. */
export function reasonHeader(status: number, code: string): readonly [string, string] {
  const text = code.replace(/["\\\r\n]/g, "");
  return ["Reason", `SIP;cause=${status};text="${text}"`];
}
