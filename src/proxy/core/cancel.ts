/**
 * The CANCEL we send for one of our client transactions (RFC 3261 §9.1, used by §16.10 and §16.7 step 10):
 * "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL request
 * MUST be identical to those in the request being cancelled, including tags. ... A CANCEL constructed by a
 * client MUST have only a single Via header field value matching the top Via value in the request being
 * cancelled. ... If the request being cancelled contains a Route header field, the CANCEL request MUST
 * include that Route header field's values." It is built from the request exactly as we sent it.
 */
import { formatMessage, parseMessage, type SipMessage } from "../../sip/index.js";

/** `reason` is an RFC 3326 Reason value to carry (e.g. copied from the CANCEL we received). */
export function buildCancel(sent: Buffer, reason?: string): Buffer {
  const request = parseMessage(sent);
  const headers: Array<readonly [string, string]> = [["Via", request.values("via")[0]!]];
  for (const route of request.values("route")) headers.push(["Route", route]);
  headers.push(
    ["Max-Forwards", "70"],
    ["To", request.get("to")!],
    ["From", request.get("from")!],
    ["Call-ID", request.get("call-id")!],
    ["CSeq", `${request.cseq.seq} CANCEL`],
  );
  if (reason !== undefined) headers.push(["Reason", reason]);
  return formatMessage({ startLine: `CANCEL ${request.requestUriText!} SIP/2.0`, headers });
}

/** RFC 3326 Reason values of a received CANCEL, to pass downstream (§3: "MAY ... in CANCEL"). */
export function cancelReason(cancel: SipMessage): string | undefined {
  const values = cancel.getAll("reason");
  return values.length === 0 ? undefined : values.join(", ");
}
