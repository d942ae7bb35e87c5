// Issue 7, hostile input from the outside: every RFC 4475 torture message, each on its own TLS connection
// from a partner with a verified client certificate, to the running daemon. Each gets a clear outcome
// (forwarded to the inner server, answered with a 4xx/5xx and a reason, the connection closed for a framing
// error, or a stray response dropped) — see torture-cases.ts — and afterwards the edge still runs, answers
// OPTIONS, and its admin /metrics counted what it refused.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { optionsToEdge, probeEdge, scrape, total, type HostileLab } from "./hostile-lab.js";
import { header, parseWire, type WireMessage } from "./sip-wire.js";
import { TORTURE_CASES, type Outcome, type TortureCase } from "./torture-cases.js";

const CORPUS = "/work/shared/corpora/rfc4475";
/** Time for the edge's own answer or close before the barrier OPTIONS goes behind the message. */
const QUIET_MS = 500;
/** Time for the inner server's answer to a forwarded request. */
const ANSWER_MS = 2000;
/** Connections in flight at once. */
const CONCURRENCY = 8;

interface Observation {
  readonly outcome: Outcome | "unanswered";
  readonly statuses: readonly number[];
  readonly finals: readonly WireMessage[];
  readonly forwardedToInner: boolean;
  /** After the outcome, OPTIONS on the same connection: its status, or undefined (closed / no answer). */
  readonly barrier: number | undefined;
  readonly closedAfterMs: number | undefined;
  readonly unparsed: number;
}

function corpusBytes(c: TortureCase): Buffer {
  const bytes = readFileSync(join(CORPUS, c.file));
  return c.completeHead === true ? Buffer.concat([bytes, Buffer.from("\r\n", "latin1")]) : bytes;
}

/** The Call-ID of the (first) message in the file, if it has one. */
function callIdOf(bytes: Buffer): string | undefined {
  const head = parseWire(bytes);
  return head === undefined ? undefined : header(head, "call-id");
}

/**
 * RFC 3261 §17.2.3 matches server transactions by top Via branch, sent-by and method, not by connection; some
 * corpus files share all three (cparam01/cparam02, escnull/regescrt). Sent at the same time from two
 * connections, the second is a "retransmission" of the first (answered on the first connection only), so
 * such files are never in flight together.
 */
function transactionKeyOf(bytes: Buffer): string {
  const head = parseWire(bytes);
  // Responses create no server transaction: they never need to wait for each other.
  if (head === undefined || head.method === undefined) return `response ${Math.random()}`;
  return `${head.method} ${header(head, "via") ?? ""}`;
}

/** Runs `work` over `cases`, `limit` at a time, never two with the same transaction key at once. */
async function inPool<T>(
  cases: readonly TortureCase[],
  limit: number,
  work: (c: TortureCase) => Promise<T>,
): Promise<Map<string, T>> {
  const results = new Map<string, T>();
  const queue = [...cases];
  const busy = new Set<string>();
  const worker = async (): Promise<void> => {
    while (queue.length > 0) {
      const index = queue.findIndex((c) => !busy.has(transactionKeyOf(corpusBytes(c))));
      if (index < 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const [c] = queue.splice(index, 1) as [TortureCase];
      const key = transactionKeyOf(corpusBytes(c));
      busy.add(key);
      try {
        results.set(c.file, await work(c));
      } finally {
        busy.delete(key);
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function classify(
  partialTimeoutMs: number,
  closedAfterMs: number | undefined,
  finals: readonly WireMessage[],
  forwarded: boolean,
  barrier: number | undefined,
): Outcome | "unanswered" {
  const first = finals[0];
  if (first !== undefined) return forwarded ? "forwarded" : `answered ${first.status!}`;
  // A close this late is connections.partialMessageTimeout, not a framing error.
  if (closedAfterMs !== undefined) return closedAfterMs >= partialTimeoutMs ? "timed-out" : "closed";
  if (barrier === 200 && !forwarded) return "dropped";
  return "unanswered";
}

async function observe(lab: HostileLab, c: TortureCase, partialTimeoutMs: number): Promise<Observation> {
  const bytes = corpusBytes(c);
  const callId = callIdOf(bytes);
  const peer = await lab.connect();
  try {
    const sent = Date.now();
    peer.send(bytes);
    let barrierId: string | undefined;
    const isFinal = (m: WireMessage): boolean =>
      m.status !== undefined && m.status >= 200 && header(m, "call-id") !== barrierId;
    const forwarded = (): boolean =>
      callId !== undefined &&
      lab.uas.requests.some((r) => r.method !== "ACK" && header(r, "call-id") === callId);
    await peer.waitFor(isFinal, QUIET_MS);
    let barrier: number | undefined;
    if (!peer.closed) {
      // OPTIONS behind it on the same connection: the edge handles one connection's messages in order, so
      // whatever it answers itself comes first, and a stray response has been forwarded or dropped by then.
      // An incomplete message swallows these bytes and the partial-message timeout closes the connection.
      const probe = optionsToEdge(peer, "barrier");
      barrierId = probe.callId;
      peer.send(probe.text);
      const answer = await peer.waitFor(
        (m) => m.status !== undefined && header(m, "call-id") === probe.callId,
        partialTimeoutMs + 1000, // incomplete messages: until the partial timeout closes the connection
      );
      barrier = answer?.status;
    }
    // A close can overtake the forwarded datagram on its way to the inner server (dblreq).
    if (peer.closed && callId !== undefined) await lab.uas.waitUntil(forwarded, 300);
    // The inner server's answer travels UDP and back: it may come after the barrier's.
    if (forwarded()) await peer.waitFor(isFinal, ANSWER_MS);
    const finals = peer.received.filter(isFinal);
    const closedAfterMs = peer.closedTime === undefined ? undefined : peer.closedTime - sent;
    // A close that came only after the outcome (dblreq's trailing bytes) does not change the outcome.
    const closedFirst = finals.length === 0 ? closedAfterMs : undefined;
    const forwardedToInner = forwarded();
    return {
      outcome: classify(partialTimeoutMs, closedFirst, finals, forwardedToInner, barrier),
      statuses: peer.received.map((m) => m.status ?? 0),
      finals,
      forwardedToInner,
      barrier,
      closedAfterMs,
      unparsed: peer.unparsed.length,
    };
  } finally {
    peer.close();
  }
}

function explain(c: TortureCase, o: Observation, lab: HostileLab): string {
  const answers = o.finals.map((m) => m.startLine).join(" | ") || "none";
  return (
    `${c.file} (${c.why}): expected ${c.accept.join(" or ")}, observed ${o.outcome}; ` +
    `answers: ${answers}; statuses seen ${JSON.stringify(o.statuses)}; forwarded inside: ${o.forwardedToInner}; ` +
    `barrier OPTIONS: ${String(o.barrier)}; closed after ${String(o.closedAfterMs)} ms\n${lab.describe()}`
  );
}

function checkOutcome(c: TortureCase, o: Observation, lab: HostileLab): void {
  assert.ok((c.accept as readonly string[]).includes(o.outcome), explain(c, o, lab));
  assert.equal(o.unparsed, 0, `${c.file}: the edge sent bytes that are not SIP`);
  const first = o.finals[0];
  if (o.outcome.startsWith("answered")) {
    // A reason phrase that says something (RFC 3261 §21: the phrase is for humans; ours must not be empty).
    assert.match(first!.startLine, /^SIP\/2\.0 \d{3} \S/, `${c.file}: no reason phrase`);
    if (first!.status === 420) assert.ok(header(first!, "unsupported"), "420 without Unsupported (§20.40)");
  }
  if (c.closesAfterwards === true) assert.ok(o.forwardedToInner, explain(c, o, lab));
  // Rejected, forwarded or dropped, the connection stays usable: the next request is served.
  const usable = o.outcome === "forwarded" || o.outcome === "dropped" || o.outcome.startsWith("answered");
  if (usable && c.closesAfterwards !== true) assert.equal(o.barrier, 200, explain(c, o, lab));
}

/** The lab's inner server must answer ("answer" mode); metrics totals assume this suite runs first. */
export function tortureSuite(getLab: () => HostileLab, partialTimeoutMs: number): void {
  describe("RFC 4475 torture messages over TLS to the running edge", () => {
    let lab: HostileLab;
    const observed = new Map<string, Observation>();

    before(async () => {
      lab = getLab();
      // Each on its own connection, several at once.
      const work = (c: TortureCase): Promise<Observation> => observe(lab, c, partialTimeoutMs);
      for (const [file, o] of await inPool(TORTURE_CASES, CONCURRENCY, work)) observed.set(file, o);
    });

    it("the case table covers exactly the corpus (expected.tsv and the .dat files)", () => {
      const tsv = readFileSync(join(CORPUS, "expected.tsv"), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "" && !l.startsWith("#"))
        .map((l) => l.split("\t")[0]);
      const dat = readdirSync(CORPUS).filter((f) => f.endsWith(".dat"));
      const ours = TORTURE_CASES.map((c) => c.file);
      assert.deepEqual([...ours].sort(), [...(tsv as string[])].sort());
      assert.deepEqual([...ours].sort(), [...dat].sort());
    });

    for (const c of TORTURE_CASES) {
      it(`${c.file}: ${c.accept.join(" | ")}`, c.todo === undefined ? {} : { todo: c.todo }, () => {
        checkOutcome(c, observed.get(c.file)!, lab);
      });
    }

    it("the edge is alive afterwards and answers OPTIONS on a new connection within 1 s", async () => {
      assert.ok(lab.edge.running, lab.describe());
      const { answer, ms } = await probeEdge(lab, 1000);
      assert.equal(answer?.status, 200, `no 200 for OPTIONS within 1 s (${ms} ms)\n${lab.describe()}`);
    });

    it("admin /metrics counts every refusal: answered, framing errors, timeouts, stray responses", async () => {
      const all = [...observed.values()];
      const count = (f: (o: Observation) => boolean): number => all.filter(f).length;
      const series = await scrape(lab);
      const answered = count((o) => o.outcome.startsWith("answered"));
      // Each message that the edge closed the connection for (framing error, also dblreq's trailing bytes).
      const framing = count((o) => o.closedAfterMs !== undefined && o.outcome !== "timed-out");
      const timedOut = count((o) => o.outcome === "timed-out");
      const dropped = count((o) => o.outcome === "dropped");
      const detail = `\n${series
        .filter((s) => /requests|malformed|dropped|limits/.test(s.name))
        .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
        .join("\n")}`;
      assert.equal(total(series, "siptrust_requests_total", { outcome: "rejected" }), answered, detail);
      assert.equal(total(series, "siptrust_sip_malformed_total", { transport: "tls" }), framing, detail);
      assert.equal(
        total(series, "siptrust_limits_hit_total", { limit: "partial-message-timeout" }),
        timedOut,
        detail,
      );
      assert.equal(total(series, "siptrust_dropped_total", { reason: "stray-response" }), dropped, detail);
    });
  });
}
