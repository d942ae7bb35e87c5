/**
 * Memory and CPU cost of lingering transactions in the proxy core (not a test).
 *
 * Drives ProxyCore with in-memory flows through N complete INVITE/100/180/200/ACK calls (outside TLS UAC →
 * inner UDP UAS) on a ManualClock. No timer fires while the calls run, so every call's server transaction
 * stays in RFC 6026 "Accepted" (Timer L) and its client transaction in "Accepted" (Timer M): the state a
 * busy edge holds for 32 s per answered call. Then the clock moves past Timers L/M and everything must be
 * gone.
 *
 *   node --expose-gc --import tsx bench/edge/transaction-memory.ts [N]   memory + CPU
 *   node --import tsx bench/edge/transaction-memory.ts [N]               CPU only (no forced GC)
 */
import assert from "node:assert/strict";
import { writeHeapSnapshot } from "node:v8";
import { parseMessage, type SipMessage } from "../../src/sip/index.js";
import { Counters } from "../../src/transport/counters.js";
import {
  ProxyCore,
  type AcquireDestination,
  type Flow,
  type HopProvider,
  type InnerTarget,
  type OutsideFlowResult,
} from "../../src/proxy/core/index.js";
import type { PolicyDecision, RequestPolicy } from "../../src/proxy/policy/request-policy.js";
import { DEFAULT_TIMERS, ManualClock, transactionTimeout } from "../../src/proxy/transactions/index.js";

const N = Number(process.argv[2] ?? 50_000);
const gc = (globalThis as { gc?: () => void }).gc;

/** A flow that keeps only the last message it was given (a recording flow would dominate the heap). */
class SinkFlow implements Flow {
  last: Buffer | undefined = undefined;
  count = 0;

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
    this.last = data;
    this.count++;
    return true;
  }

  lastMessage(): SipMessage {
    assert.ok(this.last !== undefined, `${this.id} sent nothing`);
    return parseMessage(this.last);
  }
}

const TARGET: InnerTarget = { transport: "udp", address: "127.0.0.2", port: 5060 };

class SinkHops implements HopProvider {
  readonly inner = new SinkFlow("inner:udp:127.0.0.2:5060", "inside", "udp", "127.0.0.2", 5060);
  readonly byId = new Map<string, Flow>();

  innerTargets(): readonly InnerTarget[] {
    return [TARGET];
  }

  innerFlow(): Flow {
    return this.inner;
  }

  outsideFlow(destination: AcquireDestination): Promise<OutsideFlowResult> {
    return Promise.resolve({ ok: false, code: "none", detail: String(destination.host) });
  }

  flowById(id: string): Flow | undefined {
    return this.byId.get(id);
  }
}

/** Like the real policy: one fresh decision object per request. */
const policy: RequestPolicy = {
  decide(flow: Flow): PolicyDecision {
    if (flow.side === "outside") {
      return {
        action: "forward",
        to: { kind: "inner", group: "default" },
        identityHeaderValue: "example.org;method=pkix+rfc5922",
        tags: ["federation"],
      };
    }
    return { action: "forward", to: { kind: "outside" }, tags: [] };
  },
};

function message(lines: string[]): SipMessage {
  return parseMessage(Buffer.from(`${lines.join("\r\n")}\r\nContent-Length: 0\r\n\r\n`, "latin1"));
}

function invite(i: number): SipMessage {
  return message([
    `INVITE sip:bob${i}@edge.example.com SIP/2.0`,
    `Via: SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKinv${i}x7f3a9c`,
    "Max-Forwards: 70",
    `From: "Alice" <sip:alice@example.org>;tag=fa${i}`,
    `To: <sip:bob${i}@edge.example.com>`,
    `Call-ID: ${i}-4f2a8c1e9b7d@uac.example.org`,
    "CSeq: 1 INVITE",
    "Contact: <sip:alice@192.0.2.10:5061;transport=tls>",
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
    "User-Agent: bench-uac/1.0",
  ]);
}

/** The UAS's answer to the forwarded request (Vias, Record-Routes, From, To(+tag), Call-ID, CSeq copied). */
function answer(fwd: SipMessage, status: number, reason: string, i: number): SipMessage {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of fwd.values("via")) lines.push(`Via: ${v}`);
  for (const rr of fwd.values("record-route")) lines.push(`Record-Route: ${rr}`);
  lines.push(`From: ${fwd.get("from")!}`);
  lines.push(`To: ${fwd.get("to")!}${status > 100 ? `;tag=uas${i}` : ""}`);
  lines.push(`Call-ID: ${fwd.callId}`, `CSeq: ${fwd.get("cseq")!}`);
  if (status >= 200) lines.push(`Contact: <sip:bob${i}@127.0.0.2:5060>`, "Server: bench-uas/1.0");
  return message(lines);
}

function ack(ok: SipMessage, i: number): SipMessage {
  const routes = [...ok.values("record-route")].reverse();
  return message([
    `ACK sip:bob${i}@127.0.0.2:5060 SIP/2.0`,
    `Via: SIP/2.0/TLS uac.example.org:5061;branch=z9hG4bKack${i}x7f3a9c`,
    "Max-Forwards: 70",
    ...routes.map((r) => `Route: ${r}`),
    `From: "Alice" <sip:alice@example.org>;tag=fa${i}`,
    `To: <sip:bob${i}@edge.example.com>;tag=uas${i}`,
    `Call-ID: ${i}-4f2a8c1e9b7d@uac.example.org`,
    "CSeq: 1 ACK",
  ]);
}

interface Setup {
  core: ProxyCore;
  clock: ManualClock;
  hops: SinkHops;
  uac: SinkFlow;
}

function setup(): Setup {
  const clock = new ManualClock(1_000_000);
  const hops = new SinkHops();
  const uac = new SinkFlow("in:tls:1", "outside", "tls", "192.0.2.10", 40001);
  hops.byId.set(uac.id, uac);
  const core = new ProxyCore({
    interfaces: {
      outside: { host: "edge.example.com", port: 5061 },
      inside: { host: "127.0.0.1", port: 5070, transport: "udp" },
      localNames: ["edge.example.com", "127.0.0.1"],
    },
    hops,
    policy,
    identityHeader: "X-Siptrust-Identity",
    clock,
    counters: new Counters(),
    flowTokenKey: Buffer.alloc(32, 7),
    maxTransactions: 10 * N,
  });
  return { core, clock, hops, uac };
}

/** One complete call; the messages built here are garbage once it returns. */
function call(s: Setup, i: number): void {
  s.core.receive(s.uac, invite(i));
  const fwd = s.hops.inner.lastMessage();
  s.core.receive(s.hops.inner, answer(fwd, 100, "Trying", i));
  s.core.receive(s.hops.inner, answer(fwd, 180, "Ringing", i));
  s.core.receive(s.hops.inner, answer(fwd, 200, "OK", i));
  const ok = s.uac.lastMessage();
  assert.equal(ok.status, 200);
  s.core.receive(s.uac, ack(ok, i));
}

/** Private maps of the core, read only to prove they are empty after the timers ran. */
function mapSizes(core: ProxyCore): Record<string, number> {
  const c = core as unknown as Record<string, { size: number }>;
  return { contexts: c.contexts!.size, invites: c.invites!.size, clients: c.clients!.size };
}

function heapAfterGc(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

function runCalls(s: Setup): number {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) call(s, i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / N;
}

function checkAllDone(s: Setup): void {
  // 100, 180, 200 upstream; INVITE and ACK downstream.
  assert.equal(s.uac.count, 3 * N, "responses sent to the UAC");
  assert.equal(s.hops.inner.count, 2 * N, "INVITE + ACK sent to the UAS");
}

function drain(s: Setup): void {
  assert.equal(s.core.activeTransactions, N, "every answered INVITE lingers until Timer L");
  // Timer L (server) and Timer M (client) are 64·T1; one more second covers both.
  s.clock.advance(transactionTimeout(DEFAULT_TIMERS) + 1000);
  assert.equal(s.core.activeTransactions, 0);
  assert.deepEqual(mapSizes(s.core), { contexts: 0, invites: 0, clients: 0 });
  assert.equal(s.clock.pending, 0, "no timer left armed");
}

function kb(bytes: number): string {
  return `${bytes.toFixed(0)} B`;
}

function main(): void {
  // Warm-up: JIT and lazily created module state, so they do not count as per-call memory.
  const warm = setup();
  for (let i = 0; i < 2000; i++) call(warm, i);
  warm.clock.advance(transactionTimeout(DEFAULT_TIMERS) + 1000);

  const s = setup();
  const base = gc === undefined ? 0 : heapAfterGc();
  const cpu = runCalls(s);
  checkAllDone(s);
  console.log(`calls: ${N} (INVITE/100/180/200/ACK, outside TLS → inner UDP)`);
  console.log(
    `cpu per call: ${cpu.toFixed(1)} µs (user+system, ${gc ? "GC not forced during the loop" : "no --expose-gc"})`,
  );
  if (gc !== undefined) {
    const lingering = heapAfterGc();
    // HEAP_SNAPSHOT=file: what the lingering calls hold, for Chrome DevTools (Memory tab).
    const snapshot = process.env.HEAP_SNAPSHOT;
    if (snapshot !== undefined) console.log(`heap snapshot: ${writeHeapSnapshot(snapshot)}`);
    console.log(`heap per lingering call (Accepted, Timers L/M pending): ${kb((lingering - base) / N)}`);
    console.log(`heap for ${N} lingering calls: ${((lingering - base) / 1048576).toFixed(1)} MiB`);
  }
  drain(s);
  if (gc !== undefined) {
    const after = heapAfterGc();
    console.log(`heap per call after Timers L/M: ${kb((after - base) / N)} (all maps empty, no timer armed)`);
  } else {
    console.log("after Timers L/M: all maps empty, no timer armed");
  }
}

main();
