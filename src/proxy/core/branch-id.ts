/**
 * Branch parameters for the requests we forward (RFC 3261 §16.6 step 8, §8.1.1.7):
 *
 *   z9hG4bK <loop hash> . <unique part>
 *
 * The loop hash covers the fields that decide how a request is processed (Request-URI, Call-ID, From tag,
 * To tag, CSeq number, Route, Proxy-Require, Proxy-Authorization), so a request that comes back to us with all
 * of them unchanged carries one of our Via entries with the hash we would compute now: a loop (§16.3 step 4,
 * 482). A changed field makes it a spiral. The received top Via is left out on purpose: a looped request
 * arrives with another hop's Via on top. The unique part makes every client transaction distinct (§17.1.3).
 */
import { createHash, randomBytes } from "node:crypto";
import type { SipMessage } from "../../sip/index.js";
import { ownedString } from "../transactions/index.js";

export const MAGIC_COOKIE = "z9hG4bK";

const SEPARATOR = "\n";

/**
 * Hash of the loop-relevant fields as received, and of the side it arrived on; 16 base64url characters.
 * The side keeps a request that comes in from outside, goes to the inner server and is legitimately sent back
 * out through us from a false loop: only a return on the same side is a loop (a real
 * loop passes that side again one round later).
 */
export function loopHash(request: SipMessage, side: string): string {
  const h = createHash("sha1");
  h.update(side);
  h.update(SEPARATOR);
  h.update(request.requestUriText ?? "");
  h.update(SEPARATOR);
  h.update(request.callId);
  h.update(SEPARATOR);
  h.update(request.from.tag ?? "");
  h.update(SEPARATOR);
  h.update(request.to.tag ?? "");
  h.update(SEPARATOR);
  h.update(String(request.cseq.seq));
  for (const name of ["route", "proxy-require", "proxy-authorization"]) {
    for (const v of request.getAll(name)) {
      h.update(SEPARATOR);
      h.update(v);
    }
  }
  return h.digest("base64url").slice(0, 16);
}

/** The loop-hash part of one of our branch values; undefined for anything else. */
export function loopPart(branch: string | undefined): string | undefined {
  if (branch === undefined || !branch.startsWith(MAGIC_COOKIE)) return undefined;
  const dot = branch.indexOf(".", MAGIC_COOKIE.length);
  return dot < 0 ? undefined : branch.slice(MAGIC_COOKIE.length, dot);
}

/** Unique parts: a random per-process prefix and a counter (cheap, never repeats within a process). */
export class BranchIds {
  private readonly prefix = randomBytes(6).toString("base64url");
  private counter = 0;

  next(hash: string): string {
    this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER;
    // A lingering client transaction holds its branch for 64·T1: one flat string, not a concatenation.
    return ownedString(`${MAGIC_COOKIE}${hash}.${this.prefix}${this.counter.toString(36)}`);
  }

  /**
   * Stateless forwarding (ACK for a 2xx, RFC 3261 §16.11): a retransmission must get the same branch, so
   * the unique part is derived from the received top Via's branch.
   */
  stateless(hash: string, receivedBranch: string): string {
    const u = createHash("sha1").update(receivedBranch).digest("base64url").slice(0, 12);
    return `${MAGIC_COOKIE}${hash}.s${u}`;
  }
}
