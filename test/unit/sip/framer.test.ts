import { test } from "node:test";
import assert from "node:assert/strict";
import { Framer, type FramerEvent } from "../../../src/sip/index.js";

const msg = (callId: string, body = ""): Buffer =>
  Buffer.from(
    [
      "MESSAGE sip:b@example.com SIP/2.0",
      "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bK" + callId,
      "From: <sip:a@example.com>;tag=1",
      "To: <sip:b@example.com>",
      `Call-ID: ${callId}`,
      "CSeq: 1 MESSAGE",
      `Content-Length: ${Buffer.byteLength(body)}`,
      "",
      body,
    ].join("\r\n"),
  );

function summary(events: FramerEvent[]): string[] {
  return events.map((e) =>
    e.type === "message"
      ? `msg:${e.message.callId}:${e.message.body.toString()}`
      : e.type === "keepalive"
        ? e.kind
        : `error:${e.error.code}`,
  );
}

function feed(framer: Framer, chunks: Buffer[]): string[] {
  const out: FramerEvent[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  out.push(...framer.end());
  return summary(out);
}

test("several messages in one chunk, body bytes that look like a message stay body", () => {
  const body = "INVITE sip:x SIP/2.0\r\n\r\n";
  const stream = Buffer.concat([msg("a", "hi"), msg("b", body), msg("c")]);
  assert.deepEqual(feed(new Framer(), [stream]), ["msg:a:hi", `msg:b:${body}`, "msg:c:"]);
});

test("byte-by-byte feeding yields the same messages", () => {
  const stream = Buffer.concat([msg("a", "hello"), msg("b", "x\r\n\r\ny")]);
  const chunks = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(feed(new Framer(), chunks), ["msg:a:hello", "msg:b:x\r\n\r\ny"]);
});

test("RFC 5626 keep-alives: CRLFCRLF is a ping, a lone CRLF a pong, also split across chunks", () => {
  assert.deepEqual(feed(new Framer(), [Buffer.from("\r\n\r\n")]), ["ping"]);
  assert.deepEqual(feed(new Framer(), [Buffer.from("\r\n"), Buffer.from("\r\n")]), ["ping"]);
  assert.deepEqual(feed(new Framer(), [Buffer.from("\r"), Buffer.from("\n\r"), Buffer.from("\n")]), ["ping"]);
  assert.deepEqual(feed(new Framer(), [Buffer.from("\r\n")]), ["pong"]);
  assert.deepEqual(feed(new Framer(), [Buffer.concat([Buffer.from("\r\n"), msg("a")])]), ["pong", "msg:a:"]);
  assert.deepEqual(feed(new Framer(), [Buffer.concat([msg("a"), Buffer.from("\r\n\r\n"), msg("b")])]), [
    "msg:a:",
    "ping",
    "msg:b:",
  ]);
});

test("pendingCrlf tells a client that a lone CRLF (pong) is waiting", () => {
  const f = new Framer();
  assert.deepEqual(f.push(Buffer.from("\r\n")), []);
  assert.equal(f.pendingCrlf, true);
  assert.deepEqual(summary(f.push(Buffer.from("\r\n"))), ["ping"]);
  assert.equal(f.pendingCrlf, false);
});

test("Content-Length is required on a stream (RFC 3261 §18.3)", () => {
  const noLength = Buffer.from("OPTIONS sip:b@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n");
  assert.deepEqual(feed(new Framer(), [noLength]), ["error:missing-header"]);
});

test("after an error the framer stays failed (a stream cannot resynchronise)", () => {
  const f = new Framer();
  const events = f.push(Buffer.concat([msg("a"), Buffer.from("\nGARBAGE")]));
  assert.deepEqual(summary(events), ["msg:a:", "error:bad-start-line"]);
  assert.deepEqual(summary(f.push(msg("b"))), []); // ignored: the error was reported once
  assert.equal(f.error?.code, "bad-start-line");
});

test("limits are enforced before buffering: headers, line, body", () => {
  const small = { limits: { maxHeaderBytes: 256, maxLineLength: 64, maxBodyBytes: 10 } };
  // Endless header bytes without an empty line: refused once past maxHeaderBytes, holding at most that.
  const f1 = new Framer(small);
  let events: FramerEvent[] = [];
  for (let i = 0; i < 100 && events.length === 0; i++) {
    events = f1.push(Buffer.from(i === 0 ? "OPTIONS sip:b@example.com SIP/2.0\r\n" : "X: y\r\n"));
    assert.ok(f1.buffered <= 256);
  }
  assert.deepEqual(summary(events), ["error:too-large"]);
  // One endless line: refused past maxLineLength even though the header budget is not used up.
  const f2 = new Framer(small);
  const e2 = f2.push(Buffer.from("OPTIONS sip:b@example.com SIP/2.0\r\nX: " + "a".repeat(100)));
  assert.deepEqual(summary(e2), ["error:too-large"]);
  // Content-Length past maxBodyBytes: refused as soon as the header section is in, before the body.
  const f3 = new Framer(small);
  const head = Buffer.from(
    "MESSAGE sip:b@example.com SIP/2.0\r\nCall-ID: x\r\nContent-Length: 1000000\r\n\r\n",
  );
  assert.deepEqual(summary(f3.push(head)), ["error:too-large"]);
});

test("end() inside a message is an incomplete error", () => {
  const m = msg("a", "body");
  assert.deepEqual(feed(new Framer(), [m.subarray(0, m.length - 2)]), ["error:incomplete"]);
});

test("messages from the framer are byte-identical to the stream slices", () => {
  const a = msg("a", "one");
  const b = msg("b", "two");
  const out = new Framer().push(Buffer.concat([a, b]));
  assert.equal(out.length, 2);
  assert.ok(out[0]!.type === "message" && out[0]!.message.raw.equals(a));
  assert.ok(out[1]!.type === "message" && out[1]!.message.raw.equals(b));
});
