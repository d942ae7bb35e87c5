/**
 * Flow tokens: the id of an inbound outside connection, signed, carried in the user part of our outside-facing
 * Record-Route entry. An in-dialog request from the inside that comes back through that entry names the
 * connection to use (RFC 5626 §5.3: a proxy that Record-Routes with a flow token sends in-dialog requests over
 * that flow, and answers 430 Flow Failed when it is gone). The HMAC keeps a peer from naming flows it did not
 * get a token for; tokens are honoured only on requests from the inside.
 *
 * Format: `ft-<base64url(flowId)>.<base64url(HMAC-SHA256(key, flowId)[0..12))>` ("." is not a base64url
 * character, so it separates the parts unambiguously).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "ft-";
const MAC_BYTES = 12;
/** A flow id is short ("in:<listener>:<connId>"); anything longer is not ours. */
const MAX_TOKEN_LENGTH = 512;

export type FlowTokenResult =
  | { readonly ok: true; readonly flowId: string }
  | { readonly ok: false; readonly code: "not-a-token" | "bad-token"; readonly detail: string };

export class FlowTokens {
  private readonly key: Buffer;

  constructor(key?: Buffer) {
    this.key = key ?? randomBytes(32);
  }

  /** The token for a flow id; base64url is a subset of the URI user characters (RFC 3261 §25.1 unreserved). */
  encode(flowId: string): string {
    return `${PREFIX}${Buffer.from(flowId, "utf8").toString("base64url")}.${this.mac(flowId).toString("base64url")}`;
  }

  /** Whether a URI user part looks like one of our tokens at all (cheap, before the HMAC). */
  static looksLike(user: string | undefined): boolean {
    return user !== undefined && user.startsWith(PREFIX);
  }

  decode(user: string): FlowTokenResult {
    if (!user.startsWith(PREFIX) || user.length > MAX_TOKEN_LENGTH)
      return { ok: false, code: "not-a-token", detail: "no ft- prefix" };
    const dot = user.indexOf(".", PREFIX.length);
    if (dot < 0) return { ok: false, code: "bad-token", detail: "no MAC part" };
    const flowId = Buffer.from(user.slice(PREFIX.length, dot), "base64url").toString("utf8");
    const given = Buffer.from(user.slice(dot + 1), "base64url");
    const expected = this.mac(flowId);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, code: "bad-token", detail: "MAC does not verify" };
    return { ok: true, flowId };
  }

  private mac(flowId: string): Buffer {
    return createHmac("sha256", this.key).update(flowId, "utf8").digest().subarray(0, MAC_BYTES);
  }
}
