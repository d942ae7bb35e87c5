/** Test doubles for the proxy core: flows that record what they were sent, hops, a hand-written policy. */
import { parseMessage, type SipMessage } from "../../../../src/sip/index.js";
import { Counters } from "../../../../src/transport/counters.js";
import { ManualClock } from "../../../../src/proxy/transactions/index.js";
import type { PolicyDecision, RequestPolicy } from "../../../../src/proxy/policy/request-policy.js";
import {
  ProxyCore,
  type AcquireDestination,
  type Flow,
  type HopProvider,
  type InnerTarget,
  type LocalInterfaces,
  type OutsideFlowResult,
  type TransactionSummary,
} from "../../../../src/proxy/core/index.js";
import type { ProxyCoreOptions } from "../../../../src/proxy/core/proxy-core.js";

export const IDENTITY = "X-Siptrust-Identity";

export const INTERFACES: LocalInterfaces = {
  outside: { host: "edge.example.com", port: 5061 },
  inside: { host: "127.0.0.1", port: 5070, transport: "udp" },
  localNames: ["edge.example.com", "127.0.0.1"],
};

export class FakeFlow implements Flow {
  readonly sent: Buffer[] = [];
  ok = true;

  constructor(
    readonly id: string,
    readonly side: "outside" | "inside",
    readonly transport: "udp" | "tcp" | "tls",
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  get reliable(): boolean {
    return this.transport !== "udp";
  }

  send(data: Buffer): boolean {
    if (!this.ok) return false;
    this.sent.push(data);
    return true;
  }

  /** Every message sent so far, parsed. */
  messages(): SipMessage[] {
    return this.sent.map((b) => parseMessage(b));
  }

  /** Sent requests of a method. */
  requests(method: string): SipMessage[] {
    return this.messages().filter((m) => m.method === method);
  }

  /** Sent responses with a status (optionally for a CSeq method). */
  responses(status: number, cseqMethod?: string): SipMessage[] {
    return this.messages().filter(
      (m) => m.status === status && (cseqMethod === undefined || m.cseq.method === cseqMethod),
    );
  }

  last(): SipMessage {
    const b = this.sent[this.sent.length - 1];
    if (b === undefined) throw new Error(`${this.id} sent nothing`);
    return parseMessage(b);
  }
}

export function outsideFlow(id = "in:tls:1"): FakeFlow {
  return new FakeFlow(id, "outside", "tls", "192.0.2.10", 40001);
}

export class FakeHops implements HopProvider {
  readonly groups = new Map<string, InnerTarget[]>();
  readonly inner = new Map<string, FakeFlow>();
  readonly byId = new Map<string, Flow>();
  readonly acquired: AcquireDestination[] = [];
  outsideResult: () => OutsideFlowResult = () => ({
    ok: false,
    code: "no-outside",
    detail: "not configured",
  });
  released = 0;

  constructor(targets: InnerTarget[] = [{ transport: "udp", address: "127.0.0.2", port: 5060 }]) {
    this.groups.set("default", targets);
  }

  innerTargets(group: string): readonly InnerTarget[] | undefined {
    return this.groups.get(group);
  }

  innerFlow(target: InnerTarget): FakeFlow {
    const id = `inner:${target.transport}:${target.address}:${target.port}`;
    let f = this.inner.get(id);
    if (f === undefined) {
      f = new FakeFlow(id, "inside", target.transport, target.address, target.port);
      this.inner.set(id, f);
    }
    return f;
  }

  async outsideFlow(destination: AcquireDestination): Promise<OutsideFlowResult> {
    this.acquired.push(destination);
    await Promise.resolve();
    const r = this.outsideResult();
    if (!r.ok) return r;
    return { ok: true, flow: r.flow, release: () => this.released++ };
  }

  flowById(id: string): Flow | undefined {
    return this.byId.get(id);
  }
}

/** Hand-written policy: outside requests go to group "default" with an identity value; inside ones outside. */
export class FakePolicy implements RequestPolicy {
  calls = 0;
  decideWith: ((flow: Flow, request: SipMessage) => PolicyDecision) | undefined;

  decide(flow: Flow, request: SipMessage): PolicyDecision {
    this.calls++;
    if (this.decideWith !== undefined) return this.decideWith(flow, request);
    if (flow.side === "outside") {
      return {
        action: "forward",
        to: { kind: "inner", group: "default" },
        identityHeaderValue: "example.org;method=pkix+rfc5922",
        auth: { ok: true, code: "covered-by-domain", detail: "ok", dropped: [] } as never,
        tags: ["t1"],
      };
    }
    return { action: "forward", to: { kind: "outside" }, tags: [] };
  }
}

export interface Harness {
  core: ProxyCore;
  clock: ManualClock;
  hops: FakeHops;
  policy: FakePolicy;
  counters: Counters;
  summaries: TransactionSummary[];
}

export function harness(options: Partial<ProxyCoreOptions> & { targets?: InnerTarget[] } = {}): Harness {
  const clock = new ManualClock(1_000_000);
  const hops = new FakeHops(options.targets);
  const policy = new FakePolicy();
  const counters = new Counters();
  const summaries: TransactionSummary[] = [];
  const core = new ProxyCore({
    interfaces: INTERFACES,
    hops,
    policy,
    identityHeader: IDENTITY,
    clock,
    counters,
    onTransactionEnd: (s) => summaries.push(s),
    flowTokenKey: Buffer.alloc(32, 7),
    ...options,
  });
  return { core, clock, hops, policy, counters, summaries };
}

/** A message from text lines (CRLF joined, Content-Length added when missing). */
export function sip(lines: string[], body = ""): SipMessage {
  const head = lines.some((l) => /^content-length:/i.test(l))
    ? lines
    : [...lines, `Content-Length: ${Buffer.byteLength(body)}`];
  return parseMessage(Buffer.from(`${head.join("\r\n")}\r\n\r\n${body}`, "utf8"));
}

export interface RequestSpec {
  method: string;
  uri: string;
  via?: string[];
  from?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  maxForwards?: number | null;
  route?: string[];
  extra?: string[];
  body?: string;
}

export function request(spec: RequestSpec): SipMessage {
  const lines = [
    `${spec.method} ${spec.uri} SIP/2.0`,
    ...(spec.via ?? ["SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKuac1"]).map((v) => `Via: ${v}`),
    ...(spec.maxForwards === null ? [] : [`Max-Forwards: ${spec.maxForwards ?? 70}`]),
    ...(spec.route ?? []).map((r) => `Route: ${r}`),
    `From: ${spec.from ?? "<sip:alice@example.org>;tag=fa1"}`,
    `To: ${spec.to ?? "<sip:bob@edge.example.com>"}`,
    `Call-ID: ${spec.callId ?? "call-1@example.org"}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method === "ACK" || spec.method === "CANCEL" ? spec.method : spec.method}`,
    ...(spec.method === "INVITE" ? ["Contact: <sip:alice@192.0.2.10:5061;transport=tls>"] : []),
    ...(spec.extra ?? []),
  ];
  return sip(lines, spec.body ?? "");
}

/**
 * The response a UAS sends to a request it received (copies Via, From, To (+tag), Call-ID, CSeq), with extra
 * header lines.
 */
export function answer(
  req: SipMessage,
  status: number,
  reason: string,
  extra: string[] = [],
  toTag?: string,
): SipMessage {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.values("via")) lines.push(`Via: ${v}`);
  for (const rr of req.values("record-route")) lines.push(`Record-Route: ${rr}`);
  lines.push(`From: ${req.get("from")!}`);
  const to = req.get("to")!;
  lines.push(`To: ${toTag !== undefined && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.get("cseq")!}`, ...extra);
  return sip(lines);
}

/** Lets promise callbacks (outsideFlow) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
