// SIPp over UDP for the Kamailio federation tests: scenario builders (a UAC that completes INVITE dialogs
// through a Record-Route set, a UAC that expects a rejection, a UAC for one-transaction requests, a UAS) and a
// bounded runner that keeps SIPp's statistics and its message log (-trace_msg) as evidence.
import { existsSync, readFileSync } from "node:fs";
import { spawnSipp, type SippResult } from "../tls/sipp.js";
import type { TempDir } from "../tls/temp-dir.js";

export interface UacCall {
  readonly requestUri: string;
  readonly from: string;
  readonly to: string;
  /** Extra header lines sent in the INVITE (e.g. a forged identity header the edge must strip). */
  readonly extraHeaders?: readonly string[];
}

function scenario(name: string, body: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="${name}">\n${body}\n</scenario>\n`;
}

function message(lines: readonly string[]): string {
  // SIPp trims the CDATA block's indentation and ends the header section at the first empty line.
  return `  <![CDATA[\n\n${lines.map((l) => `      ${l}`).join("\n")}\n\n  ]]>`;
}

function inviteLines(call: UacCall): string[] {
  return [
    `INVITE ${call.requestUri} SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    `From: <${call.from}>;tag=[pid]-[call_number]`,
    `To: <${call.to}>`,
    "Call-ID: [call_id]",
    "CSeq: 1 INVITE",
    "Contact: <sip:caller@[local_ip]:[local_port]>",
    "Max-Forwards: 70",
    ...(call.extraHeaders ?? []),
    "Content-Length: 0",
  ];
}

/** RFC 3261 §12.2.1.1 in-dialog request: Request-URI = the remote target, Route = the recorded route set. */
function inDialogLines(method: "ACK" | "BYE", call: UacCall, cseq: number): string[] {
  return [
    `${method} [next_url] SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    `From: <${call.from}>;tag=[pid]-[call_number]`,
    `To: <${call.to}>[peer_tag_param]`,
    "Call-ID: [call_id]",
    `CSeq: ${cseq} ${method}`,
    "[routes]",
    "Contact: <sip:caller@[local_ip]:[local_port]>",
    "Max-Forwards: 70",
    "Content-Length: 0",
  ];
}

/** INVITE → (100/180) → 200 (route set recorded) → ACK → BYE → 200. */
export function uacCallScenario(call: UacCall): string {
  return scenario(
    "siptrust kamailio uac call",
    [
      `<send retrans="500">\n${message(inviteLines(call))}\n</send>`,
      `<recv response="100" optional="true" />`,
      `<recv response="180" optional="true" />`,
      `<recv response="200" rrs="true" />`,
      `<send>\n${message(inDialogLines("ACK", call, 1))}\n</send>`,
      `<pause milliseconds="20" />`,
      `<send retrans="500">\n${message(inDialogLines("BYE", call, 2))}\n</send>`,
      `<recv response="200" crlf="true" />`,
    ].join("\n"),
  );
}

/**
 * INVITE → (100) → `status` → ACK. RFC 3261 §17.1.1.3: the ACK for a non-2xx final has the INVITE's branch;
 * SIPp's [branch-N] repeats the branch of the element N positions earlier (the INVITE is element 0, the ACK 3).
 */
export function uacRejectedScenario(call: UacCall, status: number): string {
  const ack = [
    `ACK ${call.requestUri} SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]",
    `From: <${call.from}>;tag=[pid]-[call_number]`,
    `To: <${call.to}>[peer_tag_param]`,
    "Call-ID: [call_id]",
    "CSeq: 1 ACK",
    "Max-Forwards: 70",
    "Content-Length: 0",
  ];
  return scenario(
    "siptrust kamailio uac rejected",
    [
      `<send retrans="500">\n${message(inviteLines(call))}\n</send>`,
      `<recv response="100" optional="true" />`,
      `<recv response="${status}" />`,
      `<send>\n${message(ack)}\n</send>`,
    ].join("\n"),
  );
}

/** One non-INVITE request (MESSAGE or OPTIONS) per call, answered by `status`. */
export function uacRequestScenario(method: "MESSAGE" | "OPTIONS", call: UacCall, status = 200): string {
  const body = method === "MESSAGE" ? "hello [call_number]" : "";
  const lines = [
    `${method} ${call.requestUri} SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    `From: <${call.from}>;tag=[pid]-[call_number]`,
    `To: <${call.to}>`,
    "Call-ID: [call_id]",
    `CSeq: 1 ${method}`,
    "Max-Forwards: 70",
    ...(call.extraHeaders ?? []),
    ...(body === "" ? [] : ["Content-Type: text/plain"]),
    "Content-Length: [len]",
    "",
    body,
  ];
  return scenario(
    `siptrust kamailio uac ${method}`,
    [
      `<send retrans="500">\n${message(lines)}\n</send>`,
      `<recv response="100" optional="true" />`,
      `<recv response="${status}" />`,
    ].join("\n"),
  );
}

function responseLines(status: string, toTag: boolean, recordRoute: boolean): string[] {
  return [
    `SIP/2.0 ${status}`,
    "[last_Via:]",
    "[last_From:]",
    toTag ? "[last_To:];tag=[pid]-[call_number]" : "[last_To:]",
    "[last_Call-ID:]",
    "[last_CSeq:]",
    ...(recordRoute ? ["[last_Record-Route:]"] : []),
    "Contact: <sip:callee@[local_ip]:[local_port]>",
    "Content-Length: 0",
  ];
}

/** INVITE → 180 → 200 (echoing Record-Route) → ACK → BYE → 200. */
export function uasCallScenario(): string {
  return scenario(
    "siptrust kamailio uas",
    [
      `<recv request="INVITE" crlf="true" />`,
      `<send>\n${message(responseLines("180 Ringing", true, true))}\n</send>`,
      `<send retrans="500">\n${message(responseLines("200 OK", true, true))}\n</send>`,
      `<recv request="ACK" crlf="true" />`,
      `<recv request="BYE" />`,
      `<send>\n${message(responseLines("200 OK", false, false))}\n</send>`,
    ].join("\n"),
  );
}

export interface SippUdpOptions {
  readonly dir: TempDir;
  /** Name of this run's scenario, statistics and message files in `dir`. */
  readonly name: string;
  readonly scenario: string;
  /** Where a UAC sends; absent for a UAS. */
  readonly remote?: { readonly host: string; readonly port: number };
  readonly localPort: number;
  readonly controlPort: number;
  /** Calls to run (UAC) or to take before exiting (UAS). */
  readonly calls: number;
  readonly rate?: number;
  /** SIPp's own global timeout (-timeout with -timeout_error); a UAS is stopped by the test instead. */
  readonly timeoutSeconds?: number;
}

export interface SippUdpRun {
  readonly args: readonly string[];
  readonly result: Promise<SippResult>;
  /** Everything SIPp sent and received so far (-trace_msg). */
  messages(): string;
  stop(): Promise<void>;
}

export function sippUdpArgs(
  o: SippUdpOptions,
  scenarioFile: string,
  statsFile: string,
  msgFile: string,
): string[] {
  return [
    ...(o.remote ? [`${o.remote.host}:${o.remote.port}`] : []),
    "-sf",
    scenarioFile,
    "-t",
    "u1",
    "-i",
    "127.0.0.1",
    "-p",
    String(o.localPort),
    "-cp",
    String(o.controlPort),
    "-m",
    String(o.calls),
    ...(o.rate === undefined ? [] : ["-r", String(o.rate)]),
    ...(o.timeoutSeconds === undefined ? [] : ["-timeout", `${o.timeoutSeconds}s`, "-timeout_error"]),
    "-trace_stat",
    "-stf",
    statsFile,
    "-trace_msg",
    "-message_file",
    msgFile,
    "-nostdin",
  ];
}

/** Starts SIPp; `hardLimitMs` kills it if it has not ended by itself by then. */
export function startSippUdp(options: SippUdpOptions, hardLimitMs: number): SippUdpRun {
  const scenarioFile = options.dir.write(`${options.name}.xml`, options.scenario);
  const statsFile = `${options.dir.path}/${options.name}-stats.csv`;
  const msgFile = `${options.dir.path}/${options.name}-messages.log`;
  const run = spawnSipp(
    options.dir,
    sippUdpArgs(options, scenarioFile, statsFile, msgFile),
    statsFile,
    hardLimitMs,
  );
  const messages = (): string => (existsSync(msgFile) ? readFileSync(msgFile, "latin1") : "");
  return { ...run, messages };
}

/**
 * The SIP messages of a SIPp message log that SIPp received (not sent), as raw text: each entry starts
 * with a "... message received [N] bytes :" line followed by the message.
 */
export function receivedMessages(log: string): string[] {
  const entries = log.split(/^-{10,}.*$/m);
  const out: string[] = [];
  for (const entry of entries) {
    const m = /message received \[\d+\] bytes :\s*\n+([\s\S]*)$/.exec(entry);
    if (m?.[1] !== undefined) out.push(m[1].replace(/\s+$/, ""));
  }
  return out;
}

/** All values of header `name` (case-insensitive, no compact forms) in a raw message's header section. */
export function headerValues(raw: string, name: string): string[] {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const wanted = name.toLowerCase();
  return head
    .split(/\r?\n/)
    .slice(1)
    .flatMap((line) => {
      const colon = line.indexOf(":");
      if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== wanted) return [];
      return [line.slice(colon + 1).trim()];
    });
}

/** The first line of a raw message (request line or status line). */
export function startLine(raw: string): string {
  return raw.split(/\r?\n/)[0] ?? "";
}

/** Completed and failed calls from SIPp's final statistics ("SuccessfulCall(C)", "FailedCall(C)"). */
export function callCounts(result: SippResult): { successful: number; failed: number } {
  return {
    successful: Number(result.stats.get("SuccessfulCall(C)") ?? "0"),
    failed: Number(result.stats.get("FailedCall(C)") ?? "0"),
  };
}
