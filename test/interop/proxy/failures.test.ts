/**
 * The proxy's transaction behaviour through the daemon (issue 7 §1, §4) with SIPp as the outside UAC:
 * CANCEL before the answer (RFC 3261 §9.2, §16.10), a silent inner server (Timer B → 408, §16.7/§17.1.1.2)
 * and failover from an inner target that is down to the next one.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { freeTcpPort } from "../tls/free-port.js";
import { freeUdpPort, ProxyLab, requireProxyTools, udpTarget } from "./proxy-lab.js";
import { uacCallScenario, uacCancelScenario, uacTimeoutScenario, uasAnswerScenario } from "./scenarios.js";
import { failedCalls, successfulCalls, type SippResult } from "./sipp-process.js";
import { startUdpUas, type ReceivedRequest } from "./udp-uas.js";
import type { InnerTargetConfig } from "./edge-config.js";

requireProxyTools();

const ALICE = { fromUser: "alice", fromDomain: "a.example" } as const;

function assertAllSucceeded(lab: ProxyLab, calls: number, ...results: SippResult[]): void {
  const why = lab.describe(...results);
  for (const r of results) {
    assert.equal(r.signal, null, `SIPp ${r.name} ended by itself\n${why}`);
    assert.equal(r.exitCode, 0, `SIPp ${r.name} exit 0 = every call succeeded\n${why}`);
    assert.equal(successfulCalls(r), calls, `SIPp ${r.name}: successful calls\n${why}`);
    assert.equal(failedCalls(r), 0, `SIPp ${r.name}: failed calls\n${why}`);
  }
}

function byCall(received: readonly ReceivedRequest[]): Map<string, ReceivedRequest[]> {
  const calls = new Map<string, ReceivedRequest[]>();
  for (const r of received) calls.set(r.callId, [...(calls.get(r.callId) ?? []), r]);
  return calls;
}

test(
  "CANCEL before the answer: 200 for the CANCEL, 487 for the INVITE, both hop by hop",
  { timeout: 60_000 },
  async (t) => {
    const calls = 10;
    const lab = ProxyLab.create(t, "cancel");
    const inner = await startUdpUas("ring-then-cancel");
    t.after(() => inner.close());
    await lab.startEdge({ innerServers: [udpTarget(inner.port)] });
    const uac = await lab.startSippUac({
      name: "uac-cancel",
      scenario: uacCancelScenario(ALICE),
      partner: "a",
      calls,
      rate: 20,
      timeoutSeconds: 20,
    });
    const result = await uac.result;
    assertAllSucceeded(lab, calls, result);
    const why = lab.describe(result);
    const seen = byCall(inner.received);
    assert.equal(seen.size, calls, `every INVITE reached the inner server\n${why}`);
    for (const [callId, requests] of seen) {
      const invite = requests.find((r) => r.method === "INVITE");
      const cancel = requests.find((r) => r.method === "CANCEL");
      const ack = requests.find((r) => r.method === "ACK");
      const trace = `${callId}: ${requests.map((r) => `${r.method} ${r.branch} ${r.cseq}`).join(" | ")}`;
      assert.ok(invite && cancel && ack, `INVITE, CANCEL and the ACK for the 487 arrived\n${trace}`);
      // RFC 3261 §9.1/§16.10: the proxy's CANCEL matches the INVITE it forwarded (same branch, same CSeq number).
      assert.equal(cancel.branch, invite.branch, `CANCEL branch = forwarded INVITE branch\n${trace}`);
      assert.equal(cancel.cseq.split(/\s+/)[0], invite.cseq.split(/\s+/)[0], trace);
      // §17.1.1.3: the ACK for the 487 is the edge's own, inside the INVITE client transaction.
      assert.equal(ack.branch, invite.branch, `ACK for the 487 has the INVITE's branch\n${trace}`);
      assert.match(ack.cseq, /^\d+ ACK$/, trace);
    }
    const lines = lab.accounting();
    const invites = lines.filter((r) => r["method"] === "INVITE");
    assert.equal(invites.length, calls, `accounting: one INVITE line per call\n${JSON.stringify(lines[0])}`);
    assert.ok(
      invites.every((r) => r["status"] === 487),
      `each INVITE ended with 487\n${JSON.stringify(invites)}`,
    );
    // CANCEL is a transaction of its own (RFC 3261 §9.2), answered 200 by the edge (§16.10).
    const cancels = lines.filter((r) => r["method"] === "CANCEL");
    assert.equal(cancels.length, calls, `accounting: one CANCEL line per call\n${JSON.stringify(lines)}`);
    assert.ok(
      cancels.every((r) => r["status"] === 200),
      JSON.stringify(cancels),
    );
  },
);

test(
  "a silent inner server: the edge retransmits (Timer A) and answers 408 when Timer B fires",
  { timeout: 60_000 },
  async (t) => {
    const calls = 3;
    const t1Ms = 50;
    const lab = ProxyLab.create(t, "timeout");
    const inner = await startUdpUas("silent");
    t.after(() => inner.close());
    await lab.startEdge({ innerServers: [udpTarget(inner.port)], timers: { t1: `${t1Ms}ms` } });
    const started = Date.now();
    const uac = await lab.startSippUac({
      name: "uac-timeout",
      scenario: uacTimeoutScenario(ALICE),
      partner: "a",
      calls,
      rate: 10,
      timeoutSeconds: 20,
    });
    const result = await uac.result;
    const elapsed = Date.now() - started;
    t.diagnostic(`${calls} calls answered 408 after ${elapsed} ms (Timer B = 64·T1 = ${64 * t1Ms} ms)`);
    assertAllSucceeded(lab, calls, result);
    const why = lab.describe(result);
    // RFC 3261 §17.1.1.2: Timer B = 64·T1; the 408 cannot come before it.
    assert.ok(elapsed >= 64 * t1Ms, `408 came after Timer B (${elapsed} ms)\n${why}`);
    assert.ok(elapsed < 64 * t1Ms + 5000, `408 came soon after Timer B (${elapsed} ms)\n${why}`);
    const seen = byCall(inner.received);
    assert.equal(seen.size, calls, why);
    for (const [callId, requests] of seen) {
      const sends = requests.filter((r) => r.method === "INVITE");
      const trace = `${callId}: ${sends.map((r) => `${r.at - (sends[0]?.at ?? 0)}ms`).join(" ")}`;
      // Timer A: T1, 2·T1, 4·T1, … until Timer B: 7 sends at 0, 50, 150, 350, 750, 1550, 3150 ms.
      assert.ok(sends.length >= 5 && sends.length <= 8, `INVITE retransmitted by Timer A over UDP\n${trace}`);
      assert.equal(new Set(sends.map((r) => r.branch)).size, 1, `retransmissions keep the branch\n${trace}`);
      const gaps = sends.slice(1).map((r, i) => r.at - (sends[i]?.at ?? r.at));
      assert.ok((gaps.at(-1) ?? 0) >= 4 * (gaps[0] ?? 0), `the interval doubles\n${trace}`);
      assert.equal(
        requests.filter((r) => r.method === "CANCEL").length,
        0,
        `no CANCEL without a provisional (§9.1)\n${trace}`,
      );
    }
    const invites = lab.accounting().filter((r) => r["method"] === "INVITE");
    assert.equal(invites.length, calls, why);
    assert.ok(
      invites.every((r) => r["status"] === 408),
      JSON.stringify(invites),
    );
  },
);

/**
 * `silent`: the dead target is UDP, where nothing tells the edge (no ICMP is read), so only the failoverAfter
 * timer moves on; over TCP the refused connection is a transport error (RFC 3261 §8.1.3.1) that fails over
 * at once.
 */
async function failover(t: TestContext, dead: InnerTargetConfig, silent: boolean): Promise<void> {
  const calls = 20;
  const lab = ProxyLab.create(t, "failover");
  const uas = await lab.startSippUas({
    name: "uas-second",
    scenario: uasAnswerScenario(),
    calls,
    timeoutSeconds: 30,
  });
  await lab.startEdge({
    innerServers: [dead, udpTarget(uas.port)],
    timers: { failoverAfter: "300ms" },
  });
  const started = Date.now();
  const uac = await lab.startSippUac({
    name: "uac",
    scenario: uacCallScenario(ALICE),
    partner: "a",
    calls,
    rate: 20,
    timeoutSeconds: 25,
  });
  const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
  t.diagnostic(`${calls} calls with the first target down in ${Date.now() - started} ms`);
  assertAllSucceeded(lab, calls, uacResult, uasResult);
  // Every INVITE tried the dead target first, then the second (in-dialog ACK/BYE follow the route set).
  const metrics = await lab.edge.metrics();
  const failovers = metrics.get('siptrust_events_total{name="proxy.failover.next"}');
  assert.equal(failovers, calls, `one failover per INVITE\n${lab.edge.describe()}`);
  const bySilence = metrics.get('siptrust_events_total{name="proxy.failover.silent"}') ?? 0;
  assert.equal(
    bySilence,
    silent ? calls : 0,
    silent
      ? `UDP: failovers by the silence timer\n${lab.edge.describe()}`
      : `TCP: a refused connection is a transport error (RFC 3261 §17.1.4) and fails over at once, ` +
          `not after failoverAfter\n${lab.edge.describe()}`,
  );
  const invites = lab.accounting().filter((r) => r["method"] === "INVITE");
  assert.equal(invites.length, calls);
  assert.ok(
    invites.every((r) => r["status"] === 200 && r["failure"] === undefined),
    JSON.stringify(invites[0]),
  );
}

test(
  "first inner target down (UDP, nothing listening): calls fail over to the second and complete",
  { timeout: 60_000 },
  async (t) => {
    await failover(t, udpTarget(await freeUdpPort()), true);
  },
);

test(
  "first inner target down (TCP, connection refused): calls fail over to the second and complete",
  { timeout: 60_000 },
  async (t) => {
    await failover(t, { transport: "tcp", address: "127.0.0.1", port: await freeTcpPort() }, false);
  },
);
