/**
 * One accounting record per transaction (issue 7 §3): a flat JSON object, one line in the accounting file.
 * The TLS attributes are those routing saw (DESIGN.md "Routing and accounting": "accounting records carry
 * the same TLS attributes"), taken from the outside flow: the connection the request arrived on (inbound)
 * or the one it was sent over (outbound). docs/routing.md lists every field.
 *
 * Flat on purpose: every field is a string, a number or a list of strings, so `jq`, log shippers and
 * spreadsheets read it without flattening. Fields that do not apply (no client certificate, no rule) are
 * left out rather than written as null.
 */
import type { TransactionSummary } from "../core/summary.js";
import type { Flow } from "../core/flow.js";

export interface AccountingRecord {
  /** Start of the transaction (the request's arrival), ISO 8601 UTC. */
  readonly time: string;
  readonly direction: "inbound" | "outbound";
  readonly method: string;
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  /** Final status sent upstream; 0 when none was sent. */
  readonly status: number;
  readonly durationMs: number;
  /** The outside peer as `address:port` (IPv6 in brackets). */
  readonly peer?: string;
  readonly transport?: string;
  /** The flow the request came from (`in:<listener>:<id>`, `out:<id>`, `inner:<transport>:<addr>:<port>`). */
  readonly flow: string;
  readonly listener?: string;
  readonly sni?: string;
  readonly caSet?: string;
  readonly tlsVersion?: string;
  readonly cipher?: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly serial?: string;
  readonly fingerprint?: string;
  readonly sanUri?: readonly string[];
  readonly sanDns?: readonly string[];
  readonly sanEmail?: readonly string[];
  readonly sanIp?: readonly string[];
  readonly identities?: readonly string[];
  /** How the peer was verified: dane-ee | dane-ta | pkix+rfc5922 | mapping | none. */
  readonly verification?: string;
  /** Authorization code (inbound requests). */
  readonly auth?: string;
  readonly action: "forward" | "reject";
  /** `inner:<group>` or `outside` for forwarded requests. */
  readonly target?: string;
  /** The rejection's machine-readable code (an authorization code or a rule's code). */
  readonly rejectCode?: string;
  readonly rule?: string;
  readonly tags: readonly string[];
  /** Why the transaction failed after the decision (timeout, no-target, outbound-failed:<code>). */
  readonly failure?: string;
  readonly failureDetail?: string;
}

export function accountingRecord(summary: TransactionSummary): AccountingRecord {
  const decision = summary.decision;
  const outside = outsideFlow(summary);
  return {
    time: new Date(summary.startedAt).toISOString(),
    direction: summary.direction,
    method: summary.method,
    callId: summary.callId,
    from: summary.from,
    to: summary.to,
    requestUri: summary.requestUri,
    status: summary.status,
    durationMs: Math.max(0, summary.endedAt - summary.startedAt),
    ...(outside !== undefined ? peerFields(outside) : {}),
    flow: summary.source.id,
    ...tlsFields(outside),
    ...(decision.auth !== undefined ? { auth: decision.auth.code } : {}),
    action: decision.action,
    ...(decision.action === "forward"
      ? { target: decision.to.kind === "inner" ? `inner:${decision.to.group}` : "outside" }
      : { rejectCode: decision.code }),
    ...(decision.rule !== undefined ? { rule: decision.rule } : {}),
    tags: decision.tags,
    ...(summary.failure !== undefined
      ? { failure: summary.failure.code, failureDetail: summary.failure.detail }
      : {}),
  };
}

/** The TLS side: the outside flow the core reported, else the source when it is an outside flow. */
function outsideFlow(summary: TransactionSummary): Flow | undefined {
  if (summary.outsideFlow !== undefined) return summary.outsideFlow;
  return summary.source.side === "outside" ? summary.source : undefined;
}

function peerFields(flow: Flow): { peer: string; transport: string } {
  const address = flow.remoteAddress.includes(":") ? `[${flow.remoteAddress}]` : flow.remoteAddress;
  return { peer: `${address}:${flow.remotePort}`, transport: flow.transport };
}

type TlsFields = Pick<
  AccountingRecord,
  | "listener"
  | "sni"
  | "caSet"
  | "tlsVersion"
  | "cipher"
  | "subject"
  | "issuer"
  | "serial"
  | "fingerprint"
  | "sanUri"
  | "sanDns"
  | "sanEmail"
  | "sanIp"
  | "identities"
  | "verification"
>;

function tlsFields(flow: Flow | undefined): TlsFields {
  const tls = flow?.tls;
  if (tls === undefined) return {};
  const out: { -readonly [K in keyof TlsFields]: TlsFields[K] } = {
    tlsVersion: tls.version,
    cipher: tls.cipher,
    identities: tls.identities,
  };
  if (tls.listener !== undefined) out.listener = tls.listener;
  if (tls.sni !== undefined) out.sni = tls.sni;
  if (tls.caSet !== undefined) out.caSet = tls.caSet;
  if (tls.subject !== undefined) out.subject = tls.subject;
  if (tls.issuer !== undefined) out.issuer = tls.issuer;
  if (tls.serial !== undefined) out.serial = tls.serial;
  if (tls.fingerprint !== undefined) out.fingerprint = tls.fingerprint;
  if (tls.san.uri.length > 0) out.sanUri = tls.san.uri;
  if (tls.san.dns.length > 0) out.sanDns = tls.san.dns;
  if (tls.san.email.length > 0) out.sanEmail = tls.san.email;
  if (tls.san.ip.length > 0) out.sanIp = tls.san.ip;
  if (tls.method !== undefined) out.verification = tls.method;
  return out;
}
