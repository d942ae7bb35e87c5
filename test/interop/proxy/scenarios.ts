// SIPp scenarios of the proxy interop suite, as XML text. The UAC speaks TCP to stunnel (Via carries
// [transport] = TCP, SIPp's own side of the tunnel); the UAS answers on UDP as the inner SIP server.
// RFC 3261 references say which rule each step exercises through the edge.

export interface UacIdentity {
  /** The From the UAC claims: sip:<user>@<domain>. */
  readonly fromUser: string;
  readonly fromDomain: string;
}

const TO = "<sip:bob@inside.example>";
const REQUEST_URI = "sip:bob@inside.example";

function scenario(name: string, steps: readonly string[]): string {
  return [
    `<?xml version="1.0" encoding="ISO-8859-1" ?>`,
    `<scenario name="${name}">`,
    ...steps,
    `</scenario>`,
    "",
  ].join("\n");
}

/** A <send> of one SIP message; lines are joined with CRLF by SIPp (one per line here). */
function send(lines: readonly string[], attributes = ""): string {
  return [
    `  <send${attributes}>`,
    "    <![CDATA[",
    "",
    ...lines.map((l) => `      ${l}`),
    "",
    "    ]]>",
    "  </send>",
  ].join("\n");
}

function fromLine(id: UacIdentity): string {
  return `From: <sip:${id.fromUser}@${id.fromDomain}>;tag=[pid]-[call_number]`;
}

function invite(id: UacIdentity, extraHeaders: readonly string[]): string {
  return send([
    `INVITE ${REQUEST_URI} SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    fromLine(id),
    `To: ${TO}`,
    "Call-ID: [call_id]",
    "CSeq: 1 INVITE",
    `Contact: <sip:${id.fromUser}@[local_ip]:[local_port];transport=[transport]>`,
    "Max-Forwards: 70",
    ...extraHeaders,
    "Content-Length: 0",
  ]);
}

/**
 * RFC 3261 §17.1.1.3: the ACK for a non-2xx final belongs to the INVITE transaction: same Request-URI, same
 * top Via (branch) as the INVITE — copied from the response, which echoes it — and the response's To tag.
 */
function ackForNonSuccess(id: UacIdentity): string {
  return send([
    `ACK ${REQUEST_URI} SIP/2.0`,
    "[last_Via:]",
    fromLine(id),
    "[last_To:]",
    "Call-ID: [call_id]",
    "CSeq: 1 ACK",
    "Max-Forwards: 70",
    "Content-Length: 0",
  ]);
}

/** RFC 3261 §12.2.1.1: in-dialog requests go to the remote target (Contact) through the route set ([routes]). */
function inDialog(method: string, cseq: number, id: UacIdentity): string {
  return send([
    `${method} [next_url] SIP/2.0`,
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]",
    "[routes]",
    fromLine(id),
    "[last_To:]",
    "Call-ID: [call_id]",
    `CSeq: ${cseq} ${method}`,
    "Max-Forwards: 70",
    "Content-Length: 0",
  ]);
}

export interface UacCallOptions extends UacIdentity {
  /** Extra header lines in the INVITE (e.g. a forged identity header). */
  readonly extraHeaders?: readonly string[];
  /** Time between ACK and BYE: how long each call holds (reload-under-load keeps calls in progress). */
  readonly holdMs?: number;
}

/** INVITE → (100) (180) 200 → ACK (via the Record-Route set) → BYE → 200. */
export function uacCallScenario(options: UacCallOptions): string {
  return scenario("siptrust UAC call", [
    invite(options, options.extraHeaders ?? []),
    `  <recv response="100" optional="true" />`,
    `  <recv response="180" optional="true" />`,
    // rrs: keep the Record-Route set (RFC 3261 §12.1.2) for [routes] in ACK and BYE.
    `  <recv response="200" rrs="true" />`,
    inDialog("ACK", 1, options),
    ...(options.holdMs !== undefined && options.holdMs > 0
      ? [`  <pause milliseconds="${options.holdMs}" />`]
      : []),
    inDialog("BYE", 2, options),
    `  <recv response="200" />`,
  ]);
}

/** SIPp's regular expressions are POSIX ERE without flags: escape a literal text for them. */
export function ereEscape(text: string): string {
  return text.replace(/[.[\]()*+?{}|^$\\]/g, (c) => `\\${c}`);
}

/** A case-insensitive POSIX ERE for a header name (RFC 3261 §7.3.1: field names are case-insensitive). */
export function ereCaseInsensitive(text: string): string {
  return [...text]
    .map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : ereEscape(c)))
    .join("");
}

export interface UacRejectedOptions extends UacIdentity {
  readonly status: number;
  readonly reason: string;
}

/**
 * INVITE → (100) → the expected final status whose status line must carry exactly our reason phrase (the call
 * fails otherwise) → ACK. Any other final response is an unexpected message and fails the call.
 */
export function uacRejectedScenario(options: UacRejectedOptions): string {
  // The first line exactly: nothing printable may follow the phrase (the next character is the line's CR).
  const statusLine = `^SIP/2\\.0 ${options.status} ${ereEscape(options.reason)}[^ -~]`;
  return scenario("siptrust UAC rejected", [
    invite(options, []),
    `  <recv response="100" optional="true" />`,
    `  <recv response="${options.status}">`,
    "    <action>",
    // search_in="msg" is the whole message; the status line is its first line.
    `      <ereg regexp="${xmlAttribute(statusLine)}" search_in="msg" check_it="true" assign_to="statusline" />`,
    `      <log message="[call_id] rejected: [$statusline]" />`,
    "    </action>",
    "  </recv>",
    ackForNonSuccess(options),
  ]);
}

function xmlAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * RFC 3261 §9.1: CANCEL only after a provisional response; same Request-URI, Call-ID, To, From, CSeq number
 * and top Via as the INVITE. The proxy answers the CANCEL with 200 (§16.10) and the INVITE ends with 487,
 * which the UAC acknowledges (§17.1.1.3).
 */
export function uacCancelScenario(id: UacIdentity): string {
  return scenario("siptrust UAC cancel", [
    invite(id, []),
    `  <recv response="100" optional="true" />`,
    `  <recv response="180" />`,
    send([
      `CANCEL ${REQUEST_URI} SIP/2.0`,
      "[last_Via:]",
      fromLine(id),
      `To: ${TO}`,
      "Call-ID: [call_id]",
      "CSeq: 1 CANCEL",
      "Max-Forwards: 70",
      "Content-Length: 0",
    ]),
    // The 200 must be the CANCEL's (CSeq method CANCEL), the 487 the INVITE's.
    `  <recv response="200">`,
    "    <action>",
    `      <ereg regexp="1 CANCEL" search_in="hdr" header="CSeq:" check_it="true" assign_to="cancelcseq" />`,
    "    </action>",
    "  </recv>",
    `  <recv response="487">`,
    "    <action>",
    `      <ereg regexp="1 INVITE" search_in="hdr" header="CSeq:" check_it="true" assign_to="invitecseq" />`,
    `      <log message="[call_id] cancelled: [$cancelcseq] then [$invitecseq]" />`,
    "    </action>",
    "  </recv>",
    ackForNonSuccess(id),
  ]);
}

/** INVITE → (100) → 408 (the edge's Timer B fired: RFC 3261 §16.7 step 1/§16.8) → ACK; logs when it came. */
export function uacTimeoutScenario(id: UacIdentity): string {
  return scenario("siptrust UAC timeout", [
    invite(id, []),
    `  <recv response="100" optional="true" />`,
    `  <recv response="408" rtd="true" />`,
    ackForNonSuccess(id),
  ]);
}

export interface IdentityExpectation {
  /** The header the edge adds inside (configured name). */
  readonly header: string;
  /** Must occur in the header's value (POSIX ERE). */
  readonly expect: string;
  /** Text that must appear nowhere in the INVITE (what the UAC forged). */
  readonly forbidden: string;
}

/** Logged by the UAS for an INVITE retransmission it accepted after its 200 (see uasAnswerScenario). */
export const RETRANSMITTED_INVITE = "INVITE retransmitted after the 200";

/** How long the UAS keeps a call after its 200 for the BYE: Timer E's first two retransmissions (T1 = 500 ms). */
const BYE_LINGER_MS = 2000;

function uasResponse(status: string, extra: readonly string[], attributes = ""): string {
  return send(
    [
      `SIP/2.0 ${status}`,
      "[last_Via:]",
      "[last_From:]",
      "[last_To:];tag=[pid]-uas-[call_number]",
      "[last_Call-ID:]",
      "[last_CSeq:]",
      ...extra,
      "Content-Length: 0",
    ],
    attributes,
  );
}

/**
 * The inner SIP server: INVITE → 180 → 200 (copying Record-Route, RFC 3261 §12.1.1) → ACK → BYE → 200. With
 * `identity`: the INVITE must carry the identity header exactly once, with the edge's value, and nothing the
 * UAC forged (any check failing fails the call); each INVITE's header value is logged for the test.
 */
export function uasAnswerScenario(identity?: IdentityExpectation): string {
  const contact = "Contact: <sip:uas@[local_ip]:[local_port]>";
  const name = identity === undefined ? "" : ereCaseInsensitive(identity.header);
  const checks =
    identity === undefined
      ? []
      : [
          "    <action>",
          `      <ereg regexp="${xmlAttribute(identity.expect)}" search_in="hdr" header="${identity.header}:" check_it="true" assign_to="identity" />`,
          `      <ereg regexp="${xmlAttribute(identity.forbidden)}" search_in="msg" check_it_inverse="true" assign_to="forged" />`,
          // Two occurrences of the header anywhere in the message (any case) = a copy survived.
          `      <ereg regexp="${xmlAttribute(`${name}:.*${name}:`)}" search_in="msg" check_it_inverse="true" assign_to="twice" />`,
          `      <ereg regexp=".*" search_in="hdr" header="${identity.header}:" assign_to="value" />`,
          // What the edge did to the request on the way in (RFC 3261 §16.6), for the test to check.
          `      <ereg regexp=".*" search_in="hdr" header="Max-Forwards:" assign_to="mf" />`,
          `      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via" />`,
          `      <ereg regexp=".*" search_in="hdr" header="Record-Route:" assign_to="rr" />`,
          `      <log message="[call_id] identity=[$value] checks=[$identity][$forged][$twice] mf=[$mf] via=[$via] rr=[$rr]" />`,
          "    </action>",
        ];
  return scenario("siptrust UAS answer", [
    `  <recv request="INVITE"${identity === undefined ? " />" : ">"}`,
    ...(identity === undefined ? [] : [...checks, "  </recv>"]),
    uasResponse("180 Ringing", ["[last_Record-Route:]", contact]),
    // RFC 3261 §13.3.1.4: over UDP the UAS retransmits its 2xx until the ACK arrives.
    uasResponse("200 OK", ["[last_Record-Route:]", contact], ` retrans="500"`),
    // The edge may retransmit the INVITE over UDP (Timer A) while our 180/200 are still in its queue. SIPp
    // 3.6.1 aborts the call on such a retransmission once it waits for the ACK (checked by hand: an identical
    // INVITE after the 200 → "unexpected message"), so it is accepted here; the 200 is retransmitted anyway.
    `  <recv request="INVITE" optional="true">`,
    "    <action>",
    `      <log message="[call_id] ${RETRANSMITTED_INVITE}" />`,
    "    </action>",
    "  </recv>",
    `  <recv request="ACK" />`,
    `  <recv request="BYE" />`,
    send([
      "SIP/2.0 200 OK",
      "[last_Via:]",
      "[last_From:]",
      "[last_To:]",
      "[last_Call-ID:]",
      "[last_CSeq:]",
      "Content-Length: 0",
    ]),
    // RFC 3261 §17.2.2: a UDP server transaction stays Completed to answer a retransmitted BYE (the edge's
    // Timer E, if our 200 was lost or late). SIPp answers retransmissions only while the call exists; a
    // finished call ignores them ("dead call"), so the call lingers to cover the first two retransmissions.
    `  <pause milliseconds="${BYE_LINGER_MS}" />`,
  ]);
}
