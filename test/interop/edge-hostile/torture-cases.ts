// What the edge should do with each RFC 4475 torture message arriving over TLS from a partner, derived from
// /work/shared/corpora/rfc4475/expected.tsv (verdict and reason columns) for a proxy on a stream transport.
//
// Outcomes: `forwarded` = reached the inner server and its answer came back; `answered NNN` = the edge itself
// answered with that status (and did not forward); `closed` = a framing error: the edge closed the connection
// (RFC 4475 §3.1.2.3, RFC 3261 §18.3); `timed-out` = an incomplete message closed after
// connections.partialMessageTimeout; `dropped` = a response no transaction knows: nothing forwarded, nothing
// sent back, the connection stays usable (RFC 3261 §16.7/§16.11). Several entries = any is acceptable.
//
// `todo` marks the cases where the running edge differs from the RFC today (reported to the lead); node:test
// runs them and reports a failure as TODO instead of failing the suite, and a fix turns them green.

export type Outcome = "forwarded" | `answered ${number}` | "closed" | "timed-out" | "dropped";

export interface TortureCase {
  readonly file: string;
  readonly accept: readonly Outcome[];
  /** Why (RFC 4475 section and the expected.tsv reason, shortened). */
  readonly why: string;
  /** Over a stream, bytes after the message make the edge close the connection afterwards (dblreq). */
  readonly closesAfterwards?: boolean;
  /** Append the empty line the corpus file lacks (baddn: the RFC's message has it). */
  readonly completeHead?: boolean;
  readonly todo?: string;
}

const START_LINE_TODO =
  "the edge treats a bad Request-Line on TLS as a framing error and closes the connection without an answer, " +
  "though Content-Length framed the message and Via/CSeq are readable";

export const TORTURE_CASES: readonly TortureCase[] = [
  // §3.1.1 valid: must parse; a proxy forwards them.
  { file: "wsinv.dat", accept: ["forwarded"], why: "3.1.1.1 tortuous but valid INVITE" },
  { file: "intmeth.dat", accept: ["forwarded"], why: "3.1.1.2 unusual method token chars" },
  { file: "esc01.dat", accept: ["forwarded"], why: "3.1.1.3 valid %HEX escapes" },
  { file: "escnull.dat", accept: ["forwarded"], why: "3.1.1.4 %00 escapes" },
  { file: "esc02.dat", accept: ["forwarded"], why: "3.1.1.5 % where it is no escape" },
  { file: "lwsdisp.dat", accept: ["forwarded"], why: "3.1.1.6 no LWS before <" },
  { file: "longreq.dat", accept: ["forwarded"], why: "3.1.1.7 long values" },
  {
    file: "dblreq.dat",
    // The REGISTER is forwarded; the trailing octets are a framing error that closes the connection, which
    // may happen before the inner server's answer comes back (then the answer cannot be delivered).
    accept: ["forwarded", "closed"],
    why: "3.1.1.8 REGISTER with trailing octets; on a stream they are the next message",
    closesAfterwards: true,
  },
  { file: "semiuri.dat", accept: ["forwarded"], why: "3.1.1.9 ; in the R-URI user part" },
  { file: "transports.dat", accept: ["forwarded"], why: "3.1.1.10 all transports in Via" },
  { file: "mpart01.dat", accept: ["forwarded"], why: "3.1.1.11 binary multipart body" },
  { file: "unreason.dat", accept: ["dropped"], why: "3.1.1.12 valid 200, but no transaction" },
  { file: "noreason.dat", accept: ["dropped"], why: "3.1.1.13 valid response, but no transaction" },
  // §3.1.2 invalid.
  { file: "badinv01.dat", accept: ["answered 400"], why: "3.1.2.1 empty Via/Contact params: 400" },
  { file: "clerr.dat", accept: ["timed-out"], why: "3.1.2.2 Content-Length > body: wait, then close" },
  { file: "ncl.dat", accept: ["closed"], why: "3.1.2.3 negative Content-Length: close the stream" },
  { file: "scalar02.dat", accept: ["answered 400"], why: "3.1.2.4 CSeq > 2^32-1: 400" },
  { file: "scalarlg.dat", accept: ["dropped"], why: "3.1.2.5 response scalars out of range: discard" },
  { file: "quotbal.dat", accept: ["answered 400"], why: "3.1.2.6 unterminated quote: 400" },
  {
    file: "ltgtruri.dat",
    accept: ["answered 400"],
    why: "3.1.2.7 <> around the R-URI: 400",
    todo: START_LINE_TODO,
  },
  {
    file: "lwsruri.dat",
    accept: ["answered 400"],
    why: "3.1.2.8 LWS in the R-URI: 400",
    todo: START_LINE_TODO,
  },
  {
    file: "lwsstart.dat",
    accept: ["answered 400", "forwarded"],
    why: "3.1.2.9 several SP in the Request-Line: 400 (liberal accept allowed)",
    todo: START_LINE_TODO,
  },
  {
    file: "trws.dat",
    accept: ["answered 400", "forwarded"],
    why: "3.1.2.10 SP after SIP-Version: 400 (liberal accept allowed)",
    todo: START_LINE_TODO,
  },
  { file: "escruri.dat", accept: ["answered 400", "forwarded"], why: "3.1.2.11 ?headers in the R-URI" },
  { file: "baddate.dat", accept: ["answered 400", "forwarded"], why: "3.1.2.12 non-GMT Date" },
  { file: "regbadct.dat", accept: ["answered 400", "forwarded"], why: "3.1.2.13 Contact addr-spec with ?/;" },
  { file: "badaspec.dat", accept: ["answered 400"], why: "3.1.2.14 spaces in the To addr-spec: 400" },
  {
    file: "baddn.dat",
    accept: ["answered 400"],
    why: "3.1.2.15 non-token display names: 400",
    completeHead: true,
  },
  {
    file: "badvers.dat",
    accept: ["answered 505"],
    why: "3.1.2.16 SIP/7.0: 505 Version Not Supported",
  },
  { file: "mismatch01.dat", accept: ["answered 400"], why: "3.1.2.17 method ≠ CSeq method: 400" },
  {
    file: "mismatch02.dat",
    accept: ["answered 501", "answered 400"],
    why: "3.1.2.18 unknown method ≠ CSeq method: 501 (400 acceptable)",
  },
  {
    file: "bigcode.dat",
    accept: ["dropped", "closed"],
    why: "3.1.2.19 status 4294967301: drop the response",
  },
  // §3.2
  {
    file: "badbranch.dat",
    accept: ["forwarded", "answered 400"],
    why: "3.2.1 bare magic cookie branch: parse; forward or 400",
  },
  // §3.3 application semantics.
  { file: "insuf.dat", accept: ["answered 400"], why: "3.3.1 no Call-ID/From/To: 400" },
  { file: "unkscm.dat", accept: ["answered 416"], why: "3.3.2 unknown R-URI scheme: 416" },
  { file: "novelsc.dat", accept: ["answered 416", "answered 404"], why: "3.3.3 soap.beep: 416 or 404" },
  {
    file: "unksm2.dat",
    accept: ["forwarded", "answered 400"],
    why: "3.3.4 non-SIP To/From/Contact schemes; a registrar would 400",
  },
  { file: "bext01.dat", accept: ["answered 420"], why: "3.3.5 unsupported Proxy-Require: 420" },
  { file: "invut.dat", accept: ["forwarded"], why: "3.3.6 unknown Content-Type: a proxy forwards" },
  { file: "regaut01.dat", accept: ["forwarded"], why: "3.3.7 unknown Authorization scheme" },
  { file: "multi01.dat", accept: ["answered 400"], why: "3.3.8 several single-value headers: 400" },
  { file: "mcl01.dat", accept: ["closed"], why: "3.3.9 two Content-Length values: framing error" },
  { file: "bcast.dat", accept: ["dropped"], why: "3.3.10 200 with broadcast Via: never forwarded" },
  { file: "zeromf.dat", accept: ["answered 483"], why: "3.3.11 Max-Forwards 0: a proxy answers 483" },
  { file: "cparam01.dat", accept: ["forwarded"], why: "3.3.12 contact-param in addr-spec form" },
  { file: "cparam02.dat", accept: ["forwarded"], why: "3.3.13 URI param inside <>" },
  { file: "regescrt.dat", accept: ["forwarded"], why: "3.3.14 escaped Route in a Contact URI" },
  { file: "sdp01.dat", accept: ["forwarded"], why: "3.3.15 Accept excludes SDP: a proxy forwards" },
  // §3.4
  {
    file: "inv2543.dat",
    accept: ["closed"],
    why: "3.4.1 RFC 2543 INVITE without Content-Length: unframeable on a stream (RFC 3261 §18.3)",
  },
];
