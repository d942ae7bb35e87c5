// Minimal SIP texts for the transport tests: an OPTIONS request and the 200 OK a listener answers it with.
import type { SipMessage } from "../../../src/sip/index.js";

export function optionsRequest(callId: string, fromDomain = "peer.example"): string {
  return (
    `OPTIONS sip:edge.example SIP/2.0\r\n` +
    `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-${callId}\r\n` +
    `From: <sip:alice@${fromDomain}>;tag=${callId}\r\n` +
    `To: <sip:edge.example>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 1 OPTIONS\r\n` +
    `Max-Forwards: 70\r\n` +
    `Content-Length: 0\r\n\r\n`
  );
}

/** RFC 3261 §8.2.6.2: a response copies Via, From, To (tag added if absent here), Call-ID and CSeq. */
export function okResponse(request: SipMessage, body = ""): string {
  const lines = ["SIP/2.0 200 OK"];
  for (const via of request.getAll("Via")) lines.push(`Via: ${via}`);
  lines.push(`From: ${request.get("From") ?? ""}`);
  lines.push(`To: ${request.get("To") ?? ""};tag=edge`);
  lines.push(`Call-ID: ${request.get("Call-ID") ?? ""}`);
  lines.push(`CSeq: ${request.get("CSeq") ?? ""}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}
