import { test } from "node:test";
import assert from "node:assert/strict";
import { SipParseError, parseMessage, type ParseOptions } from "../../../src/sip/index.js";

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join("\r\n"), "latin1");
const BASIC = [
  "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1",
  "From: <sip:a@example.com>;tag=1",
  "To: <sip:b@example.com>",
  "Call-ID: c1",
  "CSeq: 1 OPTIONS",
  "Max-Forwards: 70",
];
const request = (start: string, extra: string[] = [], body = ""): Buffer =>
  crlf(start, ...BASIC, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, "", body);

function rejects(buf: Buffer, code: string, offset?: number, options?: ParseOptions): void {
  assert.throws(
    () => parseMessage(buf, options),
    (err: unknown) => {
      assert.ok(err instanceof SipParseError, `expected SipParseError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (offset !== undefined) assert.equal(err.offset, offset);
      return true;
    },
  );
}

test("request line: method, Request-URI and version are read from the bytes", () => {
  const m = parseMessage(request("OPTIONS sip:bob@example.com;transport=tls SIP/2.0"));
  assert.equal(m.method, "OPTIONS");
  assert.equal(m.requestUriText, "sip:bob@example.com;transport=tls");
  assert.equal(m.version, "SIP/2.0");
  assert.equal(m.isRequest, true);
  assert.equal(m.status, undefined);
});

test("status line: code and reason phrase; 'sip/2.0' is case-insensitive (RFC 3261 §7.1)", () => {
  const m = parseMessage(crlf("sip/2.0 486 Busy Here", ...BASIC, "Content-Length: 0", "", ""));
  assert.equal(m.status, 486);
  assert.equal(m.reason, "Busy Here");
  assert.equal(m.method, undefined);
});

test("start-line errors carry their code and byte offset", () => {
  rejects(request("OPTIONS  sip:b@example.com SIP/2.0"), "bad-start-line", 8); // two SP
  rejects(request("OPTIONS sip:b@example.com SIP/2.0 "), "bad-start-line", 33); // trailing SP
  rejects(request("OPTIONS <sip:b@example.com> SIP/2.0"), "bad-start-line", 8);
  rejects(request("OPTIONS sip:b@example.com SIP/2"), "bad-start-line");
  rejects(request("OPTIONS sip:b@example.com SIP/3.0"), "bad-version", 26);
  rejects(crlf("SIP/2.0 99 Low", ...BASIC, "", ""), "bad-start-line", 8);
  rejects(crlf("SIP/2.0 700 High", ...BASIC, "", ""), "bad-start-line", 8);
  rejects(crlf("SIP/2.0 2000 Long", ...BASIC, "", ""), "bad-start-line", 8);
  rejects(crlf("SIP/2.0 200", ...BASIC, "", ""), "bad-start-line"); // SP before reason is mandatory
  rejects(crlf("SIP/2.0 200 O\x01K", ...BASIC, "", ""), "bad-start-line", 13);
  rejects(request("OPT(ONS sip:b@example.com SIP/2.0"), "bad-start-line", 3);
});

test("acceptAnyVersion lets another SIP version through (to answer 505)", () => {
  const m = parseMessage(request("OPTIONS sip:b@example.com SIP/3.0"), { acceptAnyVersion: true });
  assert.equal(m.version, "SIP/3.0");
});

test("header names: case-insensitive, compact forms, whitespace before the colon", () => {
  const m = parseMessage(
    crlf(
      "INVITE sip:b@example.com SIP/2.0",
      "v: SIP/2.0/UDP h1;branch=z9hG4bK1",
      "VIA  : SIP/2.0/UDP h2;branch=z9hG4bK2",
      "f: <sip:a@example.com>;tag=9",
      "t:<sip:b@example.com>",
      "i: call",
      "cseq: 1 INVITE",
      "m: <sip:a@h>",
      "k: 100rel",
      "s: hello",
      "c: application/sdp",
      "e: gzip",
      "o: presence",
      "u: presence",
      "r: <sip:c@example.com>",
      "b: <sip:d@example.com>",
      "x: 1800",
      "y: abc",
      "a: *;audio",
      "l: 0",
      "",
      "",
    ),
  );
  const keys = m.headers.map((f) => f.key);
  assert.deepEqual(keys, [
    "via",
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "supported",
    "subject",
    "content-type",
    "content-encoding",
    "event",
    "allow-events",
    "refer-to",
    "referred-by",
    "session-expires",
    "identity",
    "accept-contact",
    "content-length",
  ]);
  assert.equal(m.headers[1]!.name, "VIA");
  assert.equal(m.via.length, 2);
  assert.equal(m.from.tag, "9");
  assert.equal(m.get("SUBJECT"), "hello");
  assert.deepEqual(m.supported, ["100rel"]);
});

test("folded values are unfolded on read; offsets point at the raw bytes", () => {
  const m = parseMessage(
    request("OPTIONS sip:b@example.com SIP/2.0", ["Subject: first\r\n  second\r\n\tthird"]),
  );
  const f = m.fields("subject")[0]!;
  assert.equal(f.folded, true);
  assert.equal(m.valueOf(f), "first second third");
  assert.equal(m.raw.toString("latin1", f.start, f.end), "Subject: first\r\n  second\r\n\tthird\r\n");
});

test("a value that starts on a continuation line is not 'folded' and reads trimmed", () => {
  const m = parseMessage(request("OPTIONS sip:b@example.com SIP/2.0", ["Route:\r\n <sip:p.example.com;lr>"]));
  assert.equal(m.fields("route")[0]!.folded, false);
  assert.equal(m.route[0]!.uriText, "sip:p.example.com;lr");
});

test("header line errors: no colon, continuation first, bare CR, bare LF", () => {
  const start = "OPTIONS sip:b@example.com SIP/2.0\r\n";
  rejects(Buffer.from(start + "NoColon\r\n\r\n"), "bad-header", start.length + 7);
  rejects(Buffer.from(start + " folded\r\n\r\n"), "bad-header", start.length);
  rejects(Buffer.from(start + "X: a\rb\r\n\r\n"), "bad-header", start.length + 4);
  rejects(Buffer.from(start + "X: a\nb\r\n\r\n"), "bad-header", start.length + 4);
  rejects(Buffer.from(start + "Bad Name: a\r\n\r\n"), "bad-header", start.length + 4);
});

test("datagram framing (RFC 3261 §18.3): Content-Length frames, trailing octets ignored, missing = to the end", () => {
  const m = parseMessage(
    Buffer.concat([request("MESSAGE sip:b@example.com SIP/2.0", [], "hello"), Buffer.from("garbage")]),
  );
  assert.equal(m.body.toString(), "hello");
  assert.equal(m.contentLength, 5);
  assert.ok(!m.raw.toString().includes("garbage"));
  const noLength = crlf("MESSAGE sip:b@example.com SIP/2.0", ...BASIC, "", "whole rest");
  const m2 = parseMessage(noLength);
  assert.equal(m2.contentLength, undefined);
  assert.equal(m2.body.toString(), "whole rest");
});

test("Content-Length errors: larger than the datagram, not digits, twice, past the body limit", () => {
  const base = crlf("MESSAGE sip:b@example.com SIP/2.0", ...BASIC);
  rejects(
    Buffer.concat([base, Buffer.from("\r\nContent-Length: 10\r\n\r\nshort")]),
    "content-length-mismatch",
  );
  rejects(Buffer.concat([base, Buffer.from("\r\nContent-Length: -1\r\n\r\n")]), "bad-header");
  rejects(Buffer.concat([base, Buffer.from("\r\nContent-Length: 1 2\r\n\r\n")]), "bad-header");
  rejects(Buffer.concat([base, Buffer.from("\r\nContent-Length:\r\n\r\n")]), "bad-header");
  rejects(Buffer.concat([base, Buffer.from("\r\nl: 0\r\nContent-Length: 0\r\n\r\n")]), "duplicate-header");
  rejects(
    Buffer.concat([base, Buffer.from("\r\nContent-Length: 99999999999999999999\r\n\r\n")]),
    "too-large",
  );
});

test("limits: header bytes, line length, header count, body size; each configurable", () => {
  const msg = request("OPTIONS sip:b@example.com SIP/2.0", ["X-Long: " + "a".repeat(300)], "body!");
  assert.doesNotThrow(() => parseMessage(msg));
  rejects(msg, "too-large", undefined, { limits: { maxHeaderBytes: 200 } });
  rejects(msg, "too-large", undefined, { limits: { maxLineLength: 100 } });
  rejects(msg, "too-large", undefined, { limits: { maxHeaders: 5 } });
  rejects(msg, "too-large", undefined, { limits: { maxBodyBytes: 4 } });
  assert.throws(() => parseMessage(msg, { limits: { maxHeaders: 0 } }), RangeError);
  // A header section with no end within the limit is too-large, not an endless search.
  rejects(Buffer.from("OPTIONS sip:b@example.com SIP/2.0\r\n" + "X: y\r\n".repeat(5000)), "too-large");
});

test("no empty line: incomplete, with the offset at the end of the input", () => {
  const b = Buffer.from("OPTIONS sip:b@example.com SIP/2.0\r\nCall-ID: x\r\n");
  rejects(b, "incomplete", b.length);
  rejects(Buffer.alloc(0), "incomplete", 0);
});

test("message keeps the received bytes and offsets for every header", () => {
  const buf = request("OPTIONS sip:b@example.com SIP/2.0", ["X-Custom:   spaced value  "]);
  const m = parseMessage(buf);
  const f = m.fields("x-custom")[0]!;
  assert.equal(buf.toString("latin1", f.valueStart, f.valueEnd), "spaced value");
  assert.equal(m.rawField(f).toString("latin1"), "X-Custom:   spaced value  \r\n");
  assert.equal(m.raw.buffer, buf.buffer); // a view of the received bytes, not a copy
});
