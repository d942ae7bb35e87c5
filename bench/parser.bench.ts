/**
 * Parser benchmark (`npm run bench`): parse + read what a proxy reads (top Via branch, From tag, To, Call-ID,
 * CSeq, Max-Forwards, Route, Request-URI) for three typical messages, with siptrust and with the `sip` npm
 * package (reference only) on the same bytes, in the same process. Prints messages/s and the ratio.
 * Options: --ms N (CPU milliseconds per parser and message, default 3000).
 */
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { parseMessage } from "../src/sip/index.js";

interface SipPackage {
  parse(data: Buffer): Record<string, unknown> | undefined;
  parseUri(uri: string): unknown;
}
const sipPackage = createRequire(import.meta.url)("sip") as SipPackage;

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join("\r\n"), "latin1");

const SDP = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com",
  "s=Session SDP",
  "c=IN IP4 192.0.2.101",
  "t=0 0",
  "m=audio 49172 RTP/AVP 0 8",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=sendrecv",
  "",
].join("\r\n");

const INVITE = crlf([
  "INVITE sip:bob@biloxi.example.com;transport=tls SIP/2.0",
  "Via: SIP/2.0/TLS edge.atlanta.example.com:5061;branch=z9hG4bK74bf9.1;received=192.0.2.10",
  "Via: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9;rport=5061",
  "Max-Forwards: 69",
  "Route: <sip:proxy.biloxi.example.com;lr;transport=tls>",
  "Record-Route: <sip:edge.atlanta.example.com;lr;transport=tls>",
  'From: "Alice Liddell" <sips:alice@atlanta.example.com>;tag=9fxced76sl',
  "To: Bob <sip:bob@biloxi.example.com>",
  "Call-ID: 3848276298220188511@client.atlanta.example.com",
  "CSeq: 31862 INVITE",
  "Contact: <sip:alice@client.atlanta.example.com;transport=tls>",
  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
  "Content-Type: application/sdp",
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  "",
  SDP,
]);

const OK200 = crlf([
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/TLS edge.atlanta.example.com:5061;branch=z9hG4bK74bf9.1;received=192.0.2.10",
  "Via: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9;rport=5061",
  "Record-Route: <sip:edge.atlanta.example.com;lr;transport=tls>",
  'From: "Alice Liddell" <sips:alice@atlanta.example.com>;tag=9fxced76sl',
  "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356",
  "Call-ID: 3848276298220188511@client.atlanta.example.com",
  "CSeq: 31862 INVITE",
  "Contact: <sip:bob@client.biloxi.example.com;transport=tls>",
  "Content-Length: 0",
  "",
  "",
]);

const REGISTER = crlf([
  "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
  "Via: SIP/2.0/TLS bobspc.biloxi.example.com:5061;branch=z9hG4bKnashds7;rport",
  "Max-Forwards: 70",
  "From: Bob <sip:bob@biloxi.example.com>;tag=456248",
  "To: Bob <sip:bob@biloxi.example.com>",
  "Call-ID: 843817637684230@998sdasdh09",
  "CSeq: 1826 REGISTER",
  "Contact: <sip:bob@192.0.2.4;transport=tls>;expires=7200",
  "Expires: 7200",
  "Content-Length: 0",
  "",
  "",
]);

let sink = 0;

/** siptrust: parse and read the proxy fields. */
function readOurs(buf: Buffer): void {
  const m = parseMessage(buf);
  const via = m.topVia;
  const from = m.from;
  const to = m.to;
  const cseq = m.cseq;
  const route = m.route;
  const ruri = m.requestUri;
  sink += (via.branch?.length ?? 0) + (from.tag?.length ?? 0) + to.uriText.length + m.callId.length;
  sink += cseq.seq + (m.maxForwards ?? 0) + route.length + (ruri === undefined ? 0 : 1);
}

/** The `sip` package: parse (it reads Via/From/To/CSeq/Route eagerly) and the Request-URI. */
function readTheirs(buf: Buffer): void {
  const m = sipPackage.parse(buf) as {
    uri?: string;
    headers: Record<string, unknown> & {
      via: Array<{ params: Record<string, string> }>;
      from: { params: Record<string, string> };
      to: { uri: string };
      "call-id": string;
      cseq: { seq: number };
      "max-forwards"?: string;
      route?: unknown[];
    };
  };
  const h = m.headers;
  sink += (h.via[0]!.params.branch?.length ?? 0) + (h.from.params.tag?.length ?? 0) + h.to.uri.length;
  sink += h["call-id"].length + h.cseq.seq + Number(h["max-forwards"] ?? 0) + (h.route?.length ?? 0);
  if (m.uri !== undefined) sink += sipPackage.parseUri(m.uri) === undefined ? 0 : 1;
}

/** Runs `fn` on `buf` for about `ms` milliseconds of this process's CPU time; returns [messages, CPU µs]. */
function slice(fn: (b: Buffer) => void, buf: Buffer, ms: number): [number, number] {
  let n = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < ms * 1000) {
    for (let i = 0; i < 2_000; i++) fn(buf);
    n += 2_000;
    const u = process.cpuUsage(start);
    used = u.user + u.system;
  }
  return [n, used];
}

/**
 * Messages per CPU-second for both parsers, measured in alternating 100 ms slices so that other load on the
 * machine (frequency changes, cache pressure) hits both equally. CPU time, not wall time: the "one core" figure.
 */
function measurePair(
  ours: (b: Buffer) => void,
  theirs: (b: Buffer) => void,
  buf: Buffer,
  ms: number,
): [number, number] {
  for (let i = 0; i < 20_000; i++) {
    ours(buf);
    theirs(buf);
  }
  const total = [0, 0, 0, 0];
  for (let done = 0; done < ms; done += 100) {
    const [n1, t1] = slice(ours, buf, 100);
    const [n2, t2] = slice(theirs, buf, 100);
    total[0]! += n1;
    total[1]! += t1;
    total[2]! += n2;
    total[3]! += t2;
  }
  return [(total[0]! * 1e6) / total[1]!, (total[2]! * 1e6) / total[3]!];
}

function main(): void {
  const msIndex = process.argv.indexOf("--ms");
  const ms = msIndex >= 0 ? Number(process.argv[msIndex + 1]) : 3000;
  const cases: Array<[string, Buffer]> = [
    ["INVITE+SDP", INVITE],
    ["200 OK", OK200],
    ["REGISTER", REGISTER],
  ];
  console.log(
    `node ${process.version}; ${ms} ms CPU time per parser and message, in alternating 100 ms slices;`,
  );
  console.log("one thread; figures are messages per CPU-second");
  // Other load on the machine slows both parsers; the ratio is the figure that survives it.
  console.log(`machine: ${cpus().length} CPUs, load average ${loadLine()} at start`);
  console.log("message        bytes   siptrust msg/s   sip pkg msg/s   ratio");
  for (const [name, buf] of cases) {
    readOurs(buf); // fail loudly before measuring if a field does not read
    readTheirs(buf);
    const [ours, theirs] = measurePair(readOurs, readTheirs, buf, ms);
    console.log(
      `${name.padEnd(14)} ${String(buf.length).padStart(5)}   ${Math.round(ours).toLocaleString("en-US").padStart(14)}` +
        `   ${Math.round(theirs).toLocaleString("en-US").padStart(13)}   ${(ours / theirs).toFixed(2)}x`,
    );
  }
  console.log(`load average ${loadLine()} at end`);
  if (sink === 42) console.log(""); // keeps the reads observable
}

function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

main();
