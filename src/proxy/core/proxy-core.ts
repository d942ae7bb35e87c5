/**
 * The transaction-stateful proxy core (RFC 3261 §16, transactions §17 from ../transactions). It sees parsed
 * messages from flows and sends bytes to flows; sockets, TLS and DNS live in the wiring (HopProvider).
 *
 * Requests: identity header stripped when from outside, retransmissions and ACKs matched to server
 * transactions (§17.2.3), CANCEL matched to its INVITE (§9.2, §16.10), validation and loop detection (§16.3),
 * 100 Trying for INVITE (§16.2), OPTIONS to us answered (§11.2), route preprocessing (§16.4), the policy
 * decision (authorization and routing rules), targets (§16.5), forwarding (§16.6) through a response
 * context (response-context.ts, §16.7). ACK for a 2xx is forwarded statelessly (§16.11 with RFC 6026).
 * Responses: matched to client transactions (§17.1.3); others forwarded statelessly if they can be (§16.11),
 * else dropped and counted.
 */
import { randomBytes } from "node:crypto";
import {
  createResponse,
  headerKey,
  isSipUri,
  parseMessage,
  serializeMessage,
  type SipMessage,
  type SipUri,
} from "../../sip/index.js";
import { KNOWN_METHODS } from "../../sip/start-line.js";
import { getUriParam } from "../../sip/uri.js";
import { Counters } from "../../transport/counters.js";
import type { TransportLogger } from "../../transport/tls-listener.js";
import type { PolicyDecision, RequestPolicy } from "../policy/request-policy.js";
import {
  DEFAULT_TIMERS,
  ownedString,
  realClock,
  responseClientKey,
  serverTransactionKey,
  ServerTransaction,
  type ClientTransaction,
  type Clock,
  type TimerHandle,
  type TimerSettings,
} from "../transactions/index.js";
import { BranchIds } from "./branch-id.js";
import { cancelReason } from "./cancel.js";
import { sendSafely, type Flow } from "./flow.js";
import { FlowTokens } from "./flow-token.js";
import { forwardedRequest, normalizeAddress } from "./forwarding.js";
import type {
  AcquireDestination,
  HopProvider,
  InnerTarget,
  LocalInterfaces,
  OutsideFlowResult,
} from "./hops.js";
import { isOptionsToUs, optionsResponse } from "./local-options.js";
import { LocalNames } from "./local-names.js";
import { checkRequest, type RequestCheckResult } from "./request-checks.js";
import { ResponseContext, type ContextEnvironment, type Hop } from "./response-context.js";
import { preprocessRoute, type RoutePlan } from "./route-preprocess.js";
import type { TransactionSummary } from "./summary.js";

export interface ProxyCoreOptions {
  readonly interfaces: LocalInterfaces;
  readonly hops: HopProvider;
  readonly policy: RequestPolicy;
  /** Stripped from every outside message, added inside (value from the policy decision). */
  readonly identityHeader: string;
  readonly timers?: TimerSettings;
  readonly clock?: Clock;
  /**
   * Beyond this many server transactions waiting for their final response: 503 with Retry-After, counted.
   * Default 100 000.
   */
  readonly maxTransactions?: number;
  readonly counters?: Counters;
  readonly logger?: TransportLogger;
  /** Accounting hook: once per server transaction. */
  readonly onTransactionEnd?: (summary: TransactionSummary) => void;
  /** HMAC key for flow tokens; random per process by default. */
  readonly flowTokenKey?: Buffer;
  /** A branch towards an inner target that received nothing within this time is abandoned for the next target (default 5000; 0 = off). */
  readonly failoverAfterMs?: number;
}

const DEFAULT_MAX_TRANSACTIONS = 100_000;
const DEFAULT_FAILOVER_AFTER_MS = 5000;
/** Retry-After (RFC 3261 §20.33) on our 503s for overload and shutdown. */
const RETRY_AFTER_SECONDS = "5";
/** Methods that create a dialog when sent outside one (RFC 3261 §12.1; RFC 6665 §4.1; RFC 3515 §2.4.1). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(["INVITE", "SUBSCRIBE", "REFER"]);
const METHOD_LABELS: ReadonlySet<string> = new Set(KNOWN_METHODS);

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined };

interface ClientEntry {
  readonly tx: ClientTransaction;
  readonly flow: Flow;
  readonly onFlowFailed: (() => void) | undefined;
}

export class ProxyCore {
  readonly counters: Counters;
  private policy: RequestPolicy;
  private readonly interfaces: LocalInterfaces;
  private readonly hops: HopProvider;
  private readonly identityHeader: string;
  private readonly identityKey: string;
  private readonly clock: Clock;
  private readonly timers: TimerSettings;
  private readonly maxTransactions: number;
  private readonly logger: TransportLogger;
  private readonly onTransactionEnd: ((summary: TransactionSummary) => void) | undefined;
  private readonly names: LocalNames;
  private readonly tokens: FlowTokens;
  private readonly branchIds = new BranchIds();
  private readonly toTag = randomBytes(6).toString("hex");
  private readonly env: ContextEnvironment;
  /** Server transaction key → response context (§17.2.3 matching). */
  private readonly contexts = new Map<string, ResponseContext>();
  /** INVITE contexts by the key a CANCEL finds them with (§9.2). */
  private readonly invites = new Map<string, ResponseContext>();
  /** Client transaction key → transaction (§17.1.3 matching). */
  private readonly clients = new Map<string, ClientEntry>();
  /** host:port of inner targets we have used: the only inside places a stray response may go (§16.11). */
  private readonly knownInner = new Set<string>();
  /** Inner hops by target object (see innerHop): gone with the targets after a reload. */
  private readonly failoverHops = new WeakMap<InnerTarget, Hop>();
  private readonly fixedHops = new WeakMap<InnerTarget, Hop>();
  /** Server transactions' send() by flow (see sender()): gone with the flow. */
  private readonly senders = new WeakMap<Flow, (data: Buffer) => boolean>();
  /** onTransportError of every server transaction. */
  private readonly responseTransportError = (): void =>
    this.counters.increment("proxy.dropped.response-transport-error");
  /** Flow tokens by flow object: gone with the flow. */
  private readonly tokenCache = new WeakMap<Flow, string>();
  /** Contexts without a final response yet (shutdown waits for them). */
  private open = 0;
  private draining = false;
  private drainWaiters: Array<() => void> = [];
  private graceTimer: TimerHandle | undefined = undefined;

  constructor(options: ProxyCoreOptions) {
    this.interfaces = options.interfaces;
    this.hops = options.hops;
    this.policy = options.policy;
    this.identityHeader = options.identityHeader;
    this.identityKey = headerKey(options.identityHeader);
    this.clock = options.clock ?? realClock;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.maxTransactions = options.maxTransactions ?? DEFAULT_MAX_TRANSACTIONS;
    this.counters = options.counters ?? new Counters();
    this.logger = options.logger ?? silentLogger;
    this.onTransactionEnd = options.onTransactionEnd;
    this.names = new LocalNames(options.interfaces);
    this.tokens = new FlowTokens(options.flowTokenKey);
    this.env = {
      clock: this.clock,
      timers: this.timers,
      counters: this.counters,
      failoverAfterMs: options.failoverAfterMs ?? DEFAULT_FAILOVER_AFTER_MS,
      toTag: this.toTag,
      registerClient: (key, tx, flow, onFlowFailed) => this.clients.set(key, { tx, flow, onFlowFailed }),
      unregisterClient: (key) => this.clients.delete(key),
      clientTerminated: (tx) => this.clients.delete(tx.key),
      finished: (ctx) => this.finished(ctx),
    };
  }

  /**
   * Server transactions alive, including those that answered and absorb retransmissions until their timers
   * end (RFC 6026 Timer L keeps an answered INVITE 64·T1). maxTransactions limits the unanswered ones.
   */
  get activeTransactions(): number {
    return this.contexts.size;
  }

  updatePolicy(policy: RequestPolicy): void {
    this.policy = policy;
  }

  /** Requests and responses from any flow. Never throws: a bug is logged, counted and answered 500. */
  receive(flow: Flow, message: SipMessage): void {
    try {
      const msg = this.stripIdentity(flow, message);
      if (msg.isRequest) this.onRequest(flow, msg);
      else this.onResponse(flow, msg);
    } catch (err) {
      this.internalError(flow, message, err);
    }
  }

  /**
   * The wiring tells the core that a flow died after send() had accepted data (a TCP connect refused, a
   * connection reset): every client transaction on it fails as on a transport error (RFC 3261 §17.1.4), so
   * an inner target fails over at once. Never throws. (Addition to the PROXY.md contract.)
   */
  flowFailed(flow: Flow): void {
    try {
      const hit: Array<() => void> = [];
      for (const e of this.clients.values()) {
        if (e.onFlowFailed !== undefined && (e.flow === flow || e.flow.id === flow.id))
          hit.push(e.onFlowFailed);
      }
      if (hit.length > 0) this.counters.increment("proxy.flow-failed");
      for (const fail of hit) fail();
    } catch (err) {
      this.counters.increment("proxy.dropped.internal-error");
      this.logger.warn({ err: String(err), flow: flow.id }, "proxy: internal error on a failed flow");
    }
  }

  /** New requests get 503; running transactions get `graceMs` to reach their final response. */
  shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.open === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.drainWaiters.push(resolve);
      this.graceTimer ??= this.clock.setTimer(graceMs, () => {
        try {
          this.abortAll();
        } catch (err) {
          this.counters.increment("proxy.dropped.internal-error");
          this.logger.warn({ err: String(err) }, "proxy: internal error at the end of the shutdown grace");
          this.resolveDrain();
        }
      });
    });
  }

  // ---- identity header ------------------------------------------------------------------------------------------

  /**
   * DESIGN.md: the verified-identity header is never trusted from outside: every copy (any spelling) goes,
   * before anything reads the message. Re-parsing costs only when a copy is actually there.
   */
  private stripIdentity(flow: Flow, msg: SipMessage): SipMessage {
    if (flow.side !== "outside") return msg;
    let present = false;
    for (const f of msg.headers) {
      if (f.key === this.identityKey) {
        present = true;
        break;
      }
    }
    if (!present) return msg;
    this.counters.increment("proxy.identity-header.stripped");
    const bytes = serializeMessage(msg, { removeHeaders: [this.identityHeader] });
    return parseMessage(bytes, { acceptAnyVersion: true });
  }

  // ---- requests -------------------------------------------------------------------------------------------------

  private onRequest(flow: Flow, msg: SipMessage): void {
    if (msg.method === "ACK") return this.onAck(flow, msg);
    const key = transactionKey(flow, msg);
    if (key !== undefined) {
      const existing = this.contexts.get(key);
      if (existing !== undefined) {
        // §17.2.1/§17.2.2: a retransmission is absorbed by its transaction (last response resent).
        this.counters.increment("proxy.retransmissions");
        existing.server?.receiveRetransmission();
        return;
      }
    }
    // A CANCEL belongs to a running transaction: it is still served while draining.
    if (this.draining && msg.method !== "CANCEL") return this.refuse(flow, msg, "shutting-down");
    // The limit counts transactions still waiting for their final response: those grow under overload,
    // while answered ones end on their own timers (J, L, ...).
    if (this.open >= this.maxTransactions) {
      // Peers probe the edge with OPTIONS (keep-alive, monitoring): shedding new transactions must not make
      // the edge look dead, so an OPTIONS to us is still answered (statelessly, no transaction).
      if (safe(() => isOptionsToUs(msg, this.names)) === true) return this.answerOptionsUnderLoad(flow, msg);
      return this.refuse(flow, msg, "overload");
    }
    if (key === undefined) return this.answerMalformed(flow, msg);
    const ctx = this.openContext(flow, msg, key);
    try {
      this.process(ctx, flow, msg);
    } catch (err) {
      this.logger.warn({ err: String(err), flow: flow.id }, "proxy: internal error handling a request");
      this.counters.increment("proxy.dropped.internal-error");
      if (!ctx.finalSent)
        ctx.respond(500, "Server Internal Error", "failed", {
          failure: { code: "internal-error", detail: String(err) },
        });
    }
  }

  private openContext(flow: Flow, msg: SipMessage, receivedKey: string): ResponseContext {
    // The key lives as long as the transaction (64·T1 after a 2xx): a copy that does not keep the
    // request's header text alive (see ownedString).
    const key = ownedString(receivedKey);
    const ctx = new ResponseContext({
      env: this.env,
      request: msg,
      source: flow,
      startedAt: this.clock.now(),
    });
    ctx.server = new ServerTransaction({
      request: msg,
      key,
      reliable: flow.reliable,
      send: this.sender(flow),
      clock: this.clock,
      timers: this.timers,
      onTerminated: () => this.closeContext(key, ctx),
      onTransportError: this.responseTransportError,
    });
    this.contexts.set(key, ctx);
    this.open++;
    this.counters.increment("proxy.transactions.server");
    if (msg.method === "INVITE") {
      const found = cancelIndexKey(flow, msg);
      const cancelKey = found === undefined ? undefined : ownedString(found);
      if (cancelKey !== undefined) {
        this.invites.set(cancelKey, ctx);
        ctx.cancelKey = cancelKey;
      }
    }
    return ctx;
  }

  /**
   * send() for server transactions, one per flow (not one closure per transaction: answered INVITEs linger
   * for Timer L, and a flow carries many of them).
   */
  private sender(flow: Flow): (data: Buffer) => boolean {
    let send = this.senders.get(flow);
    if (send === undefined) {
      send = (data) => sendSafely(flow, data);
      this.senders.set(flow, send);
    }
    return send;
  }

  private closeContext(key: string, ctx: ResponseContext): void {
    if (this.contexts.get(key) === ctx) this.contexts.delete(key);
    if (ctx.isInvite) {
      // The key was kept from openContext: the request itself is released at the final response.
      const cancelKey = ctx.cancelKey;
      if (cancelKey !== undefined && this.invites.get(cancelKey) === ctx) this.invites.delete(cancelKey);
      // The sender is unreachable (transport error) before any final response: nobody waits for the
      // answer any more, so pending branches are cancelled (§16.10 as if a CANCEL had arrived).
      if (!ctx.finalSent) ctx.cancel();
    }
    ctx.close(false);
  }

  private process(ctx: ResponseContext, flow: Flow, msg: SipMessage): void {
    const check = checkRequest(msg, this.names, flow.side);
    if (!check.ok) return this.rejectInvalid(ctx, msg, check);
    // §16.2 / §17.2.1: an INVITE gets 100 Trying at once unless a response is certain within 200 ms (here
    // the answer depends on the next hop), so the sender stops retransmitting.
    if (ctx.isInvite) ctx.respond(100, "Trying", "forwarded");
    if (msg.method === "CANCEL") return this.onCancel(ctx, flow, msg);
    if (isOptionsToUs(msg, this.names)) {
      return ctx.respond(200, "OK", "local", { raw: optionsResponse(msg, this.toTag) });
    }
    const route = preprocessRoute(msg, this.names);
    const decision = this.policy.decide(flow, msg);
    ctx.decision = decision;
    this.countAuth(decision);
    if (decision.action === "reject") {
      return ctx.respond(decision.status, decision.reason, "rejected", {
        failure: { code: decision.code, detail: decision.reason },
      });
    }
    this.dispatch(ctx, flow, msg, check.hash, route, decision);
  }

  private rejectInvalid(
    ctx: ResponseContext,
    msg: SipMessage,
    check: RequestCheckResult & { ok: false },
  ): void {
    // §16.3 step 3: an OPTIONS with Max-Forwards 0 addressed to us is answered as a UAS would.
    if (check.code === "too-many-hops" && isOptionsToUs(msg, this.names)) {
      return ctx.respond(200, "OK", "local", { raw: optionsResponse(msg, this.toTag) });
    }
    ctx.decision = syntheticReject(check.status, check.reason, check.code);
    ctx.respond(check.status, check.reason, "rejected", {
      headers: check.headers,
      failure: { code: check.code, detail: check.detail },
    });
  }

  /** RFC 3261 §16.5: who receives the request, by direction. */
  private dispatch(
    ctx: ResponseContext,
    flow: Flow,
    msg: SipMessage,
    hash: string,
    route: RoutePlan,
    decision: PolicyDecision & { action: "forward" },
  ): void {
    ctx.recipe = {
      build: (out, branch) => this.build(msg, flow, out, route, branch, decision),
      newBranch: () => this.branchIds.next(hash),
    };
    if (decision.to.kind === "inner") return this.forwardInner(ctx, decision.to.group, route);
    // Outside-origin requests only ever go inside: a peer must not use the edge as an open relay.
    if (flow.side === "outside") {
      ctx.decision = syntheticReject(403, "Relaying Denied", "no-relay", decision);
      return ctx.respond(403, "Relaying Denied", "rejected", {
        failure: { code: "no-relay", detail: "outside requests are forwarded inside only" },
      });
    }
    this.forwardOutside(ctx, route);
  }

  private forwardInner(ctx: ResponseContext, group: string, route: RoutePlan): void {
    const targets = this.hops.innerTargets(group);
    if (targets === undefined || targets.length === 0) {
      return ctx.fail(503, "Service Unavailable", {
        code: "no-target",
        detail: `no inner target in group ${group}`,
      });
    }
    ctx.forward(
      this.innerHops(targets, route),
      undefined,
      ctx.source.side === "outside" ? ctx.source : undefined,
    );
  }

  /**
   * An in-dialog request (it came through our Route) whose Request-URI names one of the group's targets goes
   * to that target only: a dialog lives on one server. Otherwise the targets in order, with failover.
   */
  private innerHops(targets: readonly InnerTarget[], route: RoutePlan): Hop[] {
    if (route.viaOurRoute) {
      const match = targets.find((t) => uriNamesTarget(route.requestUriParsed, t));
      if (match !== undefined) return [this.innerHop(match, false)];
    }
    return targets.map((t) => this.innerHop(t, true));
  }

  /**
   * Hops are cached per target object (the wiring hands out the same targets until a reload): every branch
   * of every call refers to one shared Hop instead of carrying its own closure and label while it lingers.
   */
  private innerHop(target: InnerTarget, failover: boolean): Hop {
    const cache = failover ? this.failoverHops : this.fixedHops;
    let hop = cache.get(target);
    if (hop === undefined) {
      hop = this.newInnerHop(target, failover);
      cache.set(target, hop);
    }
    return hop;
  }

  private newInnerHop(target: InnerTarget, failover: boolean): Hop {
    return {
      label: `${target.transport}:${target.address}:${target.port}`,
      failover,
      open: () => {
        this.rememberInner(target.address, target.port);
        return this.hops.innerFlow(target);
      },
    };
  }

  private rememberInner(address: string, port: number): void {
    if (this.knownInner.size < 4096) this.knownInner.add(`${normalizeAddress(address)}:${port}`);
  }

  /** Inside → outside: our flow token's connection, else RFC 3263 via hops.outsideFlow. */
  private forwardOutside(ctx: ResponseContext, route: RoutePlan): void {
    const tokenFlow = this.tokenFlow(route);
    if (tokenFlow === "gone") {
      // RFC 5626 §5.3: the flow named by the token is gone → 430 Flow Failed.
      return ctx.fail(430, "Flow Failed", {
        code: "flow-failed",
        detail: "the connection of the dialog is gone",
      });
    }
    if (tokenFlow !== undefined) {
      return ctx.forward(
        [{ label: tokenFlow.id, failover: false, open: () => tokenFlow }],
        undefined,
        tokenFlow,
      );
    }
    const destination = this.destination(route);
    if (typeof destination === "string") {
      return ctx.fail(404, "Not Found", {
        code: destination,
        detail: `no outside next hop for ${route.nextHopText}`,
      });
    }
    ctx.acquiring = true;
    this.hops.outsideFlow(destination).then(
      (r) => this.onOutsideFlow(ctx, r),
      (err: unknown) => this.onOutsideFlow(ctx, { ok: false, code: "internal", detail: String(err) }),
    );
  }

  private onOutsideFlow(ctx: ResponseContext, r: OutsideFlowResult): void {
    try {
      if (r.ok) {
        ctx.forward([{ label: r.flow.id, failover: false, open: () => r.flow }], r.release, r.flow);
        return;
      }
      ctx.acquiring = false;
      if (ctx.finalSent) return;
      if (ctx.cancelled) return ctx.respond(487, "Request Terminated", "local");
      this.counters.increment(`proxy.outbound.failed`);
      ctx.fail(
        503,
        "Service Unavailable",
        { code: `outbound-failed:${r.code}`, detail: r.detail },
        r.code, // RFC 3326 Reason text: the code of the outbound procedure
      );
    } catch (err) {
      this.logger.warn({ err: String(err) }, "proxy: internal error after outbound acquisition");
      this.counters.increment("proxy.dropped.internal-error");
      if (!ctx.finalSent)
        ctx.respond(500, "Server Internal Error", "failed", {
          failure: { code: "internal-error", detail: String(err) },
        });
    }
  }

  /** A verified flow token in our Route entry: honoured only on requests from the inside. */
  private tokenFlow(route: RoutePlan): Flow | "gone" | undefined {
    if (route.flowToken === undefined) return undefined;
    const r = this.tokens.decode(route.flowToken);
    if (!r.ok) {
      this.counters.increment("proxy.flow-token.invalid");
      return undefined;
    }
    return this.hops.flowById(r.flowId) ?? "gone";
  }

  /** RFC 3263 input from the next-hop URI (§16.6 step 7: first Route, else the Request-URI). */
  private destination(route: RoutePlan): AcquireDestination | string {
    const uri = route.nextHopUri;
    if (!isSipUri(uri)) return "unroutable-uri";
    if (this.names.isOurUri(uri)) return "request-uri-is-local";
    const transport = getUriParam(uri, "transport");
    return {
      scheme: uri.scheme,
      host: uri.host,
      ...(uri.port !== undefined ? { port: uri.port } : {}),
      ...(typeof transport === "string" ? { transport } : {}),
      uri: route.nextHopText,
    };
  }

  /** §16.6 for one next hop; Record-Route twice when a dialog-creating request changes side (RFC 5658). */
  private build(
    msg: SipMessage,
    source: Flow,
    out: Flow,
    route: RoutePlan,
    branch: string,
    decision: PolicyDecision & { action: "forward" },
  ): Buffer {
    const recordRoute =
      source.side !== out.side && DIALOG_CREATING.has(msg.method!) && msg.to.tag === undefined
        ? { token: this.flowToken(source), secure: isSips(msg, route) }
        : undefined;
    return forwardedRequest({
      request: msg,
      source,
      out,
      route,
      branch,
      interfaces: this.interfaces,
      recordRoute,
      identityHeader: this.identityHeader,
      identityValue: decision.identityHeaderValue,
    });
  }

  /** The token for an inbound outside connection, computed once per flow (the HMAC is not free). */
  private flowToken(source: Flow): string | undefined {
    if (source.side !== "outside" || !source.id.startsWith("in:")) return undefined;
    let token = this.tokenCache.get(source);
    if (token === undefined) {
      token = this.tokens.encode(source.id);
      this.tokenCache.set(source, token);
    }
    return token;
  }

  // ---- CANCEL (§9.2, §16.10) ------------------------------------------------------------------------------------

  private onCancel(ctx: ResponseContext, flow: Flow, msg: SipMessage): void {
    const key = cancelIndexKey(flow, msg);
    const invite = key === undefined ? undefined : this.invites.get(key);
    // Only the side (and for the outside, the connection) the INVITE came from may cancel it.
    if (invite === undefined || !sameOrigin(invite.source, flow)) {
      ctx.decision = syntheticReject(481, "Call/Transaction Does Not Exist", "no-matching-invite");
      return ctx.respond(481, "Call/Transaction Does Not Exist", "local", {
        failure: { code: "no-matching-invite", detail: "CANCEL matches no INVITE transaction" },
      });
    }
    // §16.10: "the element MUST immediately return a 200 (OK) response to the CANCEL request".
    ctx.decision = invite.decision;
    ctx.respond(200, "OK", "local");
    invite.cancel(cancelReason(msg));
  }

  // ---- ACK ------------------------------------------------------------------------------------------------------

  private onAck(flow: Flow, msg: SipMessage): void {
    const key = transactionKey(flow, msg);
    const ctx = key === undefined ? undefined : this.contexts.get(key);
    // §17.2.1: an ACK for our non-2xx final belongs to the INVITE server transaction.
    if (ctx?.server !== undefined && ctx.server.receiveAck()) return;
    // The ACK for a 503 we sent without a transaction (overload, shutdown) carries our To tag.
    if (safe(() => msg.to.tag) === this.toTag) return;
    this.forwardAck(flow, msg);
  }

  /**
   * ACK for a 2xx (RFC 6026 §7.1: not part of the INVITE transaction): forwarded statelessly along its
   * route (§16.11), with a branch derived from the received one so retransmissions look the same.
   */
  private forwardAck(flow: Flow, msg: SipMessage): void {
    const check = checkRequest(msg, this.names, flow.side);
    if (!check.ok) return this.drop(`ack-${check.code}`);
    const route = preprocessRoute(msg, this.names);
    const decision = this.policy.decide(flow, msg);
    if (decision.action === "reject") return this.drop("ack-rejected");
    const branch = this.branchIds.stateless(check.hash, msg.topVia.branch ?? msg.callId);
    const send = (out: Flow): void => {
      const ok = out.send(this.build(msg, flow, out, route, branch, decision));
      this.counters.increment(ok ? "proxy.requests.ACK.forwarded" : "proxy.requests.ACK.failed");
    };
    if (decision.to.kind === "inner") {
      const targets = this.hops.innerTargets(decision.to.group);
      const first = targets === undefined ? undefined : this.innerHops(targets, route)[0];
      if (first === undefined) return this.drop("ack-no-target");
      return send(first.open());
    }
    if (flow.side === "outside") return this.drop("ack-no-relay");
    const tokenFlow = this.tokenFlow(route);
    if (tokenFlow === "gone") return this.drop("ack-flow-failed");
    if (tokenFlow !== undefined) return send(tokenFlow);
    const destination = this.destination(route);
    if (typeof destination === "string") return this.drop("ack-no-target");
    this.hops.outsideFlow(destination).then(
      (r) => {
        if (!r.ok) return this.drop("ack-outbound-failed");
        try {
          send(r.flow);
        } catch (err) {
          // An async callback must not reject: count it like any other internal error.
          this.internalError(flow, msg, err);
        } finally {
          r.release();
        }
      },
      () => this.drop("ack-outbound-failed"),
    );
  }

  // ---- responses ------------------------------------------------------------------------------------------------

  private onResponse(flow: Flow, msg: SipMessage): void {
    const key = responseClientKey(msg);
    const entry = key === undefined ? undefined : this.clients.get(key);
    if (entry === undefined) return this.forwardStray(msg);
    // A response must come back from where its request went (the outside: the very connection), so a peer
    // cannot answer for transactions it never saw.
    if (entry.flow.side !== flow.side || (flow.side === "outside" && entry.flow.id !== flow.id)) {
      return this.drop("response-wrong-flow");
    }
    entry.tx.receiveResponse(msg);
  }

  /**
   * §16.11: a response no transaction knows is forwarded statelessly when our Via is on top and another
   * Via is below it. Only the inside can be reached that way (an outside hop needs its connection), and
   * only an inner server we have sent to.
   */
  private forwardStray(msg: SipMessage): void {
    let vias;
    try {
      vias = msg.via;
    } catch {
      return this.drop("malformed-response");
    }
    const side = vias.length >= 2 ? this.names.viaSide(vias[0]!) : undefined;
    const next = vias[1];
    if (side !== "outside" || next === undefined) return this.drop("stray-response");
    const address = next.received ?? next.host;
    const port = next.rport ?? next.port ?? 5060;
    if (!this.knownInner.has(`${address}:${port}`)) return this.drop("stray-response");
    const transport = next.transport === "TCP" ? "tcp" : "udp";
    const out = this.hops.innerFlow({ transport, address: address.replace(/^\[|\]$/g, ""), port });
    out.send(serializeMessage(msg, { removeTopVia: true, ensureContentLength: out.reliable }));
    this.counters.increment("proxy.stateless.responses");
  }

  // ---- answers without a transaction -----------------------------------------------------------------------------

  /** Overload / shutdown: 503 with Retry-After, sent without creating a transaction. */
  private refuse(flow: Flow, msg: SipMessage, code: "overload" | "shutting-down"): void {
    this.counters.increment(`proxy.refused.${code}`);
    this.statelessAnswer(flow, msg, 503, "Service Unavailable", code, [["Retry-After", RETRY_AFTER_SECONDS]]);
  }

  private answerOptionsUnderLoad(flow: Flow, msg: SipMessage): void {
    this.counters.increment("proxy.requests.OPTIONS.local");
    flow.send(optionsResponse(msg, this.toTag));
    this.counters.increment("proxy.responses.2xx");
  }

  /** A request whose Via or CSeq cannot be read: no transaction can hold it; 400 if it can be answered. */
  private answerMalformed(flow: Flow, msg: SipMessage): void {
    const check = checkRequest(msg, this.names, flow.side);
    const status = check.ok ? 400 : check.status;
    const reason = check.ok ? "Bad Request" : check.reason;
    this.statelessAnswer(flow, msg, status, reason, check.ok ? "bad-request" : check.code, []);
  }

  private statelessAnswer(
    flow: Flow,
    msg: SipMessage,
    status: number,
    reason: string,
    code: string,
    headers: ReadonlyArray<readonly [string, string]>,
  ): void {
    const now = this.clock.now();
    try {
      flow.send(createResponse(msg, status, reason, { toTag: this.toTag, headers }));
      this.counters.increment(`proxy.responses.${Math.floor(status / 100)}xx`);
    } catch {
      return this.drop("unanswerable");
    }
    this.emit(
      {
        ...requestFields(msg),
        startedAt: now,
        endedAt: now,
        direction: flow.side === "outside" ? "inbound" : "outbound",
        status,
        source: flow,
        ...(flow.side === "outside" ? { outsideFlow: flow } : {}),
        decision: syntheticReject(status, reason, code),
        failure: { code, detail: reason },
      },
      "rejected",
    );
  }

  // ---- bookkeeping -----------------------------------------------------------------------------------------------

  private finished(ctx: ResponseContext): void {
    this.open--;
    // Runs before the context releases its request (ResponseContext.trim).
    const msg = ctx.request;
    const inbound = ctx.source.side === "outside";
    // One literal (no conditional spreads): this runs once per transaction.
    const summary: TransactionSummary = {
      startedAt: ctx.startedAt,
      endedAt: ctx.endedAt,
      direction: inbound ? "inbound" : "outbound",
      method: ctx.method,
      callId: safe(() => msg?.callId) ?? "",
      from: safe(() => msg?.get("from")) ?? "",
      to: safe(() => msg?.get("to")) ?? "",
      requestUri: msg?.requestUriText ?? "",
      status: ctx.finalSent ? ctx.finalStatus : 0,
      source: ctx.source,
      outsideFlow: inbound ? ctx.source : ctx.outsideFlow,
      decision: ctx.decision ?? syntheticReject(0, "", "no-decision"),
      failure: ctx.failure,
    };
    this.emit(summary, ctx.outcome);
    if (this.draining && this.open === 0) this.resolveDrain();
  }

  private emit(summary: TransactionSummary, outcome: string): void {
    const method = METHOD_LABELS.has(summary.method) ? summary.method : "other";
    this.counters.increment(`proxy.requests.${method}.${outcome}`);
    if (this.onTransactionEnd === undefined) return;
    try {
      this.onTransactionEnd(summary);
    } catch (err) {
      this.logger.warn({ err: String(err) }, "proxy: onTransactionEnd threw");
    }
  }

  private countAuth(decision: PolicyDecision): void {
    const auth = decision.auth;
    if (auth === undefined) return;
    this.counters.increment(`proxy.auth.${auth.ok ? "ok" : "denied"}.${auth.code}`);
  }

  private drop(reason: string): void {
    this.counters.increment(`proxy.dropped.${reason}`);
  }

  private internalError(flow: Flow, msg: SipMessage, err: unknown): void {
    this.counters.increment("proxy.dropped.internal-error");
    this.logger.warn({ err: String(err), flow: flow.id }, "proxy: internal error");
    if (!msg.isRequest || msg.method === "ACK") return;
    try {
      flow.send(createResponse(msg, 500, "Server Internal Error", { toTag: this.toTag }));
    } catch {
      // Nothing more can be done for a message that cannot even be answered.
    }
  }

  private abortAll(): void {
    for (const ctx of [...this.contexts.values()]) {
      if (!ctx.finalSent)
        ctx.fail(503, "Service Unavailable", { code: "shutting-down", detail: "shutdown grace over" });
      ctx.close(true);
    }
    this.resolveDrain();
  }

  private resolveDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

// ---- helpers --------------------------------------------------------------------------------------------------

/**
 * §17.2.3 matching, scoped to where the request came from. Branch and sent-by are chosen by the sender, so on
 * the outside a peer could reuse another peer's values and have its request taken for a retransmission (the
 * real one then never forwarded), or cancel a call it did not make: outside transactions belong to their
 * connection. Inside, the inner servers are trusted and one scope is kept (a retransmission may arrive from
 * another source port).
 */
function originScope(flow: Flow): string {
  return flow.side === "outside" ? flow.id : "inside";
}

function transactionKey(flow: Flow, msg: SipMessage): string | undefined {
  try {
    return `${originScope(flow)}#${serverTransactionKey(msg)}`;
  } catch {
    return undefined;
  }
}

/**
 * §9.2: the CANCEL "matches" the INVITE it cancels by the same rules as §17.2.3 with the method ignored: for
 * RFC 3261 clients branch and sent-by of the top Via (the CANCEL copies the INVITE's top Via, §9.1).
 */
function cancelIndexKey(flow: Flow, msg: SipMessage): string | undefined {
  try {
    const via = msg.topVia;
    const scope = originScope(flow);
    if (via.branch !== undefined && via.branch.startsWith("z9hG4bK")) {
      return `${scope}#${via.branch}|${via.host}:${via.port ?? ""}`;
    }
    return `${scope}#2543|${msg.requestUriText ?? ""}|${msg.from.tag ?? ""}|${msg.callId}|${msg.cseq.seq}|${via.host}:${via.port ?? ""}`;
  } catch {
    return undefined;
  }
}

/** RFC 3261 §16.6 step 4: a SIPS Request-URI or next-hop Route asks for a SIPS Record-Route. */
function isSips(msg: SipMessage, route: RoutePlan): boolean {
  return msg.requestUri?.scheme === "sips" || route.nextHopUri.scheme === "sips";
}

function sameOrigin(a: Flow, b: Flow): boolean {
  return a.side === b.side && (a.side === "inside" || a.id === b.id);
}

function uriNamesTarget(uri: SipUri | undefined, target: InnerTarget): boolean {
  if (uri === undefined) return false;
  return uri.host === normalizeAddress(target.address).toLowerCase() && (uri.port ?? 5060) === target.port;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function requestFields(
  msg: SipMessage,
): Pick<TransactionSummary, "method" | "callId" | "from" | "to" | "requestUri"> {
  return {
    method: msg.method ?? "",
    callId: safe(() => msg.get("call-id")) ?? "",
    from: safe(() => msg.get("from")) ?? "",
    to: safe(() => msg.get("to")) ?? "",
    requestUri: msg.requestUriText ?? "",
  };
}

/** A decision for answers given before (or instead of) the policy: validation, loops, overload. */
function syntheticReject(
  status: number,
  reason: string,
  code: string,
  from?: PolicyDecision,
): PolicyDecision {
  return {
    action: "reject",
    status,
    reason,
    code,
    ...(from?.auth !== undefined ? { auth: from.auth } : {}),
    ...(from?.rule !== undefined ? { rule: from.rule } : {}),
    tags: from?.tags ?? [],
  };
}
