/** Message builders shared by the transaction tests (RFC 3261 §8.1.1 minimum header set). */
import { formatMessage, parseMessage, type SipMessage } from "../../../../src/sip/index.js";

export interface RequestSpec {
  readonly method?: string;
  readonly uri?: string;
  readonly branch?: string | null;
  readonly sentBy?: string;
  readonly transport?: string;
  readonly cseq?: number;
  readonly cseqMethod?: string;
  readonly callId?: string;
  readonly fromTag?: string;
  readonly toTag?: string;
  readonly extraVia?: readonly string[];
  readonly routes?: readonly string[];
  readonly via?: string;
  readonly body?: string;
}

export function requestBuffer(spec: RequestSpec = {}): Buffer {
  const method = spec.method ?? "INVITE";
  const branch = spec.branch === undefined ? "z9hG4bK-abc123" : spec.branch;
  const via =
    spec.via ??
    `SIP/2.0/${spec.transport ?? "UDP"} ${spec.sentBy ?? "edge.example.com:5060"}` +
      (branch === null ? "" : `;branch=${branch}`);
  const headers: Array<readonly [string, string]> = [["Via", via]];
  for (const v of spec.extraVia ?? []) headers.push(["Via", v]);
  headers.push(["Max-Forwards", "69"]);
  for (const r of spec.routes ?? []) headers.push(["Route", r]);
  headers.push(["From", `"Alice" <sip:alice@a.example>;tag=${spec.fromTag ?? "f1"}`]);
  headers.push(["To", `<sip:bob@b.example>${spec.toTag === undefined ? "" : `;tag=${spec.toTag}`}`]);
  headers.push(["Call-ID", spec.callId ?? "call-1@a.example"]);
  headers.push(["CSeq", `${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`]);
  headers.push(["Contact", "<sip:alice@192.0.2.1:5061;transport=tls>"]);
  if (spec.body !== undefined) headers.push(["Content-Type", "application/sdp"]);
  return formatMessage({
    startLine: `${method} ${spec.uri ?? "sip:bob@b.example"} SIP/2.0`,
    headers,
    body: spec.body,
  });
}

export function request(spec: RequestSpec = {}): SipMessage {
  return parseMessage(requestBuffer(spec));
}

export interface ResponseSpec {
  readonly status: number;
  readonly method?: string;
  readonly branch?: string | null;
  readonly toTag?: string;
  readonly cseq?: number;
}

export function responseBuffer(spec: ResponseSpec): Buffer {
  const branch = spec.branch === undefined ? "z9hG4bK-abc123" : spec.branch;
  const via = "SIP/2.0/UDP edge.example.com:5060" + (branch === null ? "" : `;branch=${branch}`);
  return formatMessage({
    startLine: `SIP/2.0 ${spec.status} Whatever`,
    headers: [
      ["Via", via],
      ["Via", "SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-uac"],
      ["From", `"Alice" <sip:alice@a.example>;tag=f1`],
      ["To", `<sip:bob@b.example>${spec.toTag === undefined ? "" : `;tag=${spec.toTag}`}`],
      ["Call-ID", "call-1@a.example"],
      ["CSeq", `${spec.cseq ?? 1} ${spec.method ?? "INVITE"}`],
    ],
  });
}

export function response(spec: ResponseSpec): SipMessage {
  return parseMessage(responseBuffer(spec));
}
