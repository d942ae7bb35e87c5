// Two partners on two TLS connections whose INVITEs carry the same top Via branch and sent-by (a client with a
// constant branch, as in several RFC 4475 messages, or one that copies another's): RFC 3261 §17.2.3 matches
// server transactions by branch, sent-by and method only, so the edge takes the second request — another
// connection, another Call-ID — for a retransmission of the first. The standard of this project is that
// nothing is silently dropped: the second partner must get an answer of its own.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { freshIds, type HostileLab } from "./hostile-lab.js";
import { header, requestText, type WireMessage } from "./sip-wire.js";

const WAIT_MS = 2000;

function inviteWithBranch(branch: string, callId: string): string {
  return requestText({
    method: "INVITE",
    requestUri: "sip:bob@inner.example",
    via: "TLS client.example.com:5061",
    branch,
    callId,
  });
}

/** The lab's inner server must be in "answer" mode (INVITE → 486). */
export function crossConnectionSuite(getLab: () => HostileLab): void {
  describe("the same branch and sent-by from two connections", () => {
    let lab: HostileLab;

    before(() => {
      lab = getLab();
    });

    it(
      "the second connection's INVITE is handled as its own request, not absorbed into the first's",
      {},
      async () => {
        const first = await lab.connect();
        const second = await lab.connect();
        try {
          const { branch } = freshIds("shared");
          const a = freshIds("conn-a").callId;
          const b = freshIds("conn-b").callId;
          const isFinalFor =
            (callId: string) =>
            (m: WireMessage): boolean =>
              m.status !== undefined && m.status >= 200 && header(m, "call-id") === callId;
          first.send(inviteWithBranch(branch, a));
          assert.equal((await first.waitFor(isFinalFor(a), WAIT_MS))?.status, 486, lab.describe());
          // The first INVITE's server transaction now waits for its ACK (Timer H): the key is still in use.
          second.send(inviteWithBranch(branch, b));
          const answer = await second.waitFor(isFinalFor(b), WAIT_MS);
          const toFirst = first.received.filter((m) => header(m, "call-id") === a).map((m) => m.startLine);
          assert.ok(
            answer !== undefined,
            `no answer on the second connection; the first connection received ${JSON.stringify(toFirst)}; ` +
              `inner server saw ${String((await lab.uas.waitForRequest(b, 10)) !== undefined)}`,
          );
        } finally {
          first.close();
          second.close();
        }
      },
    );
  });
}
