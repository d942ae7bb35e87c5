// connections.partialMessageTimeout is the slowloris guard: "a started SIP message must complete within
// this" (docs/config.md). A peer that keeps sending complete messages must not trip it, however its bytes are
// cut into TLS records; a peer that starts a message and never finishes it must. Found with the flood test:
// a busy connection whose reads rarely end on a message boundary was closed after the timeout although
// every message completed in milliseconds.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { optionsToEdge, scrape, total, type HostileLab } from "./hostile-lab.js";
import { header } from "./sip-wire.js";
import type { TlsPeer } from "./tls-peer.js";

/** Three seconds of traffic (twice the lab's timeout), one write every 100 ms. */
const MESSAGES = 30;
const GAP_MS = 100;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** OPTIONS requests to the edge (answered by the edge itself), with their Call-IDs. */
function options(peer: TlsPeer, count: number): Array<{ text: string; callId: string }> {
  return Array.from({ length: count }, () => optionsToEdge(peer, "steady"));
}

/**
 * Sends `messages` one write every GAP_MS. `split` = each write is the rest of one message plus the first
 * 40 bytes of the next, so no write ends on a message boundary (as on a busy link); each message still
 * completes within GAP_MS of its first byte.
 */
async function steadyTraffic(peer: TlsPeer, messages: readonly string[], split: boolean): Promise<void> {
  const stream = Buffer.from(messages.join(""), "latin1");
  const ends: number[] = [];
  let at = 0;
  for (const m of messages) ends.push((at += Buffer.byteLength(m, "latin1")));
  let from = 0;
  for (let i = 0; i < ends.length; i++) {
    const to = split && i < ends.length - 1 ? ends[i]! + 40 : ends[i]!;
    if (!peer.send(stream.subarray(from, to))) return;
    from = to;
    await delay(GAP_MS);
  }
}

/** `partialTimeoutMs`: the lab's connections.partialMessageTimeout, at most 1.5 s (the traffic lasts 3 s). */
export function partialTimeoutSuite(getLab: () => HostileLab, partialTimeoutMs: number): void {
  describe("partialMessageTimeout under steady traffic", () => {
    let lab: HostileLab;

    before(() => {
      lab = getLab();
    });

    const run = async (split: boolean): Promise<{ answered: number; closed: boolean; timeouts: number }> => {
      const before = total(await scrape(lab), "siptrust_limits_hit_total", {
        limit: "partial-message-timeout",
      });
      const peer = await lab.connect();
      try {
        const list = options(peer, MESSAGES);
        await steadyTraffic(
          peer,
          list.map((m) => m.text),
          split,
        );
        const ids = new Set(list.map((m) => m.callId));
        const answered = (): number =>
          peer.received.filter((m) => ids.has(header(m, "call-id") ?? "")).length;
        await peer.waitUntil(() => answered() === MESSAGES, 2000);
        const after = total(await scrape(lab), "siptrust_limits_hit_total", {
          limit: "partial-message-timeout",
        });
        return { answered: answered(), closed: peer.closed, timeouts: after - before };
      } finally {
        peer.close();
      }
    };

    it("whole messages per write for 3 s: every one answered, the connection stays open", async () => {
      const r = await run(false);
      assert.deepEqual(r, { answered: MESSAGES, closed: false, timeouts: 0 }, lab.describe());
    });

    it(
      "messages that straddle writes for 3 s, each complete within 100 ms: every one answered, connection open",
      {},
      async () => {
        const r = await run(true);
        assert.deepEqual(r, { answered: MESSAGES, closed: false, timeouts: 0 }, lab.describe());
      },
    );

    it("a message started and never finished is still cut at the timeout", async () => {
      const before = total(await scrape(lab), "siptrust_limits_hit_total", {
        limit: "partial-message-timeout",
      });
      const peer = await lab.connect();
      try {
        const started = Date.now();
        peer.send(optionsToEdge(peer, "slowloris").text.slice(0, 60));
        assert.ok(await peer.waitClosed(partialTimeoutMs + 2000), "the edge kept a half message open");
        const ms = Date.now() - started;
        assert.ok(ms >= partialTimeoutMs - 50, `closed after ${ms} ms, before the timeout`);
        const after = total(await scrape(lab), "siptrust_limits_hit_total", {
          limit: "partial-message-timeout",
        });
        assert.equal(after - before, 1);
      } finally {
        peer.close();
      }
    });
  });
}
