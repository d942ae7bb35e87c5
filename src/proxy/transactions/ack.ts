/**
 * RFC 3261 §17.1.1.3: the ACK a client INVITE transaction sends for a 300-699 final response. It is part of
 * the INVITE transaction (same branch) and goes to the same address as the INVITE:
 *
 *   "The ACK request constructed by the client transaction MUST contain values for the Call-ID, From, and
 *   Request-URI that are equal to the values of those header fields in the request passed to the transport
 *   by the client transaction (call this the "original request"). The To header field in the ACK MUST equal
 *   the To header field in the response being acknowledged [...]. The ACK MUST contain a single Via header
 *   field, and this MUST be equal to the top Via header field of the original request. The CSeq header field
 *   in the ACK MUST contain the same value for the sequence number as was present in the original request,
 *   but the method parameter MUST be equal to "ACK". If the INVITE request whose response is being
 *   acknowledged had Route header fields, those header fields MUST appear in the ACK."
 *
 * An ACK for a 2xx is not built here: it is a new transaction of the UAC, routed by the proxy core (§13.2.2.4).
 */
import { firstListItem, formatMessage, parseMessage, type SipMessage } from "../../sip/index.js";

/**
 * Builds the ACK for `response` (300-699) to `request`, the INVITE exactly as it was sent. Throws a
 * SipParseError if `request` is not a message we could have sent, or `response` lacks a To header.
 */
export function ackForNonSuccess(request: Buffer, response: SipMessage): Buffer {
  return buildAck(parseMessage(request), response);
}

/** Same as ackForNonSuccess for an INVITE already parsed (saves a parse when the caller holds one). */
export function buildAck(invite: SipMessage, response: SipMessage): Buffer {
  const uri = invite.requestUriText;
  if (uri === undefined) throw new TypeError("ackForNonSuccess needs the INVITE request, not a response");
  const headers: Array<readonly [string, string]> = [];
  // Only the top Via of the original request (the value we inserted, branch included).
  headers.push(["Via", firstListItem(required(invite, "via"))]);
  // Max-Forwards: every request carries one (§8.1.1.6); the ACK travels exactly as far as the INVITE did.
  headers.push(["Max-Forwards", invite.get("max-forwards") ?? "70"]);
  headers.push(["From", required(invite, "from")]);
  headers.push(["To", required(response, "to")]);
  headers.push(["Call-ID", required(invite, "call-id")]);
  headers.push(["CSeq", `${invite.cseq.seq} ACK`]);
  for (const route of invite.getAll("route")) headers.push(["Route", route]);
  return formatMessage({ startLine: `ACK ${uri} SIP/2.0`, headers });
}

function required(msg: SipMessage, name: string): string {
  const value = msg.get(name);
  if (value === undefined) throw new TypeError(`cannot build the ACK: no ${name} header`);
  return value;
}
