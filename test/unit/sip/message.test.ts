import { test } from "node:test";
import assert from "node:assert/strict";
import { SipParseError, isSipUri, parseMessage } from "../../../src/sip/index.js";

const build = (...headers: string[]): Buffer =>
  Buffer.from(
    ["INVITE sip:bob@example.com SIP/2.0", ...headers, "Content-Length: 0", "", ""].join("\r\n"),
    "latin1",
  );

const MINIMAL = [
  "Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKabc;rport=5061;received=192.0.2.1;maddr=239.1.1.1",
  'From: "Alice" <sips:alice@example.com>;tag=a1',
  "To: sip:bob@example.com",
  "Call-ID: 1234@host",
  "CSeq: 7 INVITE",
];

function throwsCode(fn: () => unknown, code: string, header?: string): void {
  assert.throws(
    fn,
    (e: unknown) =>
      e instanceof SipParseError && e.code === code && (header === undefined || e.header === header),
  );
}

test("typed accessors read Via params, IPv6 sent-by, From/To forms and tags, Call-ID, CSeq", () => {
  const m = parseMessage(build(...MINIMAL, "Expires: 3600", "Supported: timer, 100rel", "Supported:"));
  const via = m.topVia;
  assert.equal(via.host, "[2001:db8::9]");
  assert.equal(via.port, 5061);
  assert.equal(via.branch, "z9hG4bKabc");
  assert.equal(via.received, "192.0.2.1");
  assert.equal(via.rport, 5061);
  assert.equal(via.maddr, "239.1.1.1");
  assert.equal(m.from.displayName, "Alice");
  assert.equal(m.from.form, "name-addr");
  assert.equal(m.from.tag, "a1");
  assert.ok(isSipUri(m.from.uri) && m.from.uri.scheme === "sips");
  assert.equal(m.to.form, "addr-spec");
  assert.equal(m.to.tag, undefined);
  assert.equal(m.callId, "1234@host");
  assert.deepEqual(m.cseq, { seq: 7, method: "INVITE" });
  assert.equal(m.expires, 3600);
  assert.deepEqual(m.supported, ["timer", "100rel"]);
  assert.equal(m.maxForwards, undefined);
  assert.equal(m.contact, undefined);
  assert.deepEqual(m.route, []);
});

test("Contact '*' and Contact lists (RFC 3261 §20.10)", () => {
  const star = parseMessage(build(...MINIMAL, "Contact: *", "Expires: 0"));
  assert.deepEqual(star.contact, { star: true, values: [] });
  const list = parseMessage(build(...MINIMAL, "Contact: <sip:a@h1>;expires=60, sip:b@h2;q=0.5"));
  const c = list.contact;
  assert.ok(c !== undefined && !c.star);
  assert.deepEqual(
    c.values.map((v) => [v.uriText, v.params]),
    [
      ["sip:a@h1", [["expires", "60"]]],
      ["sip:b@h2", [["q", "0.5"]]],
    ],
  );
  throwsCode(() => parseMessage(build(...MINIMAL, "Contact: *, <sip:a@h>")).contact, "bad-header", "contact");
});

test("Route / Record-Route must be name-addr; values from several lines in order", () => {
  const m = parseMessage(
    build(...MINIMAL, "Route: <sip:p1;lr>, <sip:p2;lr>", "Route: <sip:p3;lr>", "Record-Route: <sip:rr;lr>"),
  );
  assert.deepEqual(
    m.route.map((r) => r.uriText),
    ["sip:p1;lr", "sip:p2;lr", "sip:p3;lr"],
  );
  assert.equal(m.recordRoute[0]!.uriText, "sip:rr;lr");
  throwsCode(() => parseMessage(build(...MINIMAL, "Route: sip:p1;lr")).route, "bad-header", "route");
});

test("missing, duplicated and malformed headers throw SipParseError with the header and offset", () => {
  throwsCode(() => parseMessage(build(...MINIMAL.slice(1))).topVia, "missing-header", "via");
  throwsCode(() => parseMessage(build(...MINIMAL, "f: <sip:x@y>")).from, "duplicate-header", "from");
  throwsCode(
    () => parseMessage(build(...MINIMAL, "Max-Forwards: 1000")).maxForwards,
    "bad-header",
    "max-forwards",
  );
  throwsCode(() => parseMessage(build(...MINIMAL, "Expires: soon")).expires, "bad-header", "expires");
  throwsCode(
    () => parseMessage(build(...MINIMAL.slice(0, 3), "Call-ID: a b", "CSeq: 1 INVITE")).callId,
    "bad-header",
    "call-id",
  );
  const buf = build(...MINIMAL, "Max-Forwards: 7x");
  try {
    void parseMessage(buf).maxForwards;
    assert.fail("expected an error");
  } catch (e) {
    assert.ok(e instanceof SipParseError);
    assert.equal(buf.toString("latin1", e.offset, e.offset + 1), "x"); // byte offset of the bad character
  }
});

test("Request-URI is parsed lazily; a bad one throws bad-request-uri", () => {
  const m = parseMessage(Buffer.from("INVITE sip:@@ SIP/2.0\r\nContent-Length: 0\r\n\r\n"));
  assert.equal(m.requestUriText, "sip:@@");
  throwsCode(() => m.requestUri, "bad-request-uri");
});

test("only the top Via is parsed for topVia: a malformed later Via does not disturb it", () => {
  const m = parseMessage(build(...MINIMAL, "Via: SIP/2.0/UDP ;;;"));
  assert.equal(m.topVia.branch, "z9hG4bKabc");
  throwsCode(() => m.via, "bad-header", "via");
});

test("non-ASCII values are read as UTF-8", () => {
  const m = parseMessage(
    Buffer.concat([
      Buffer.from("SIP/2.0 200 Größe\r\nSubject: "),
      Buffer.from("día ☎"),
      Buffer.from("\r\nContent-Length: 0\r\n\r\n"),
    ]),
  );
  assert.equal(m.reason, "Größe");
  assert.equal(m.get("Subject"), "día ☎");
});
