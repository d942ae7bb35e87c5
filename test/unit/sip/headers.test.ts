import { test } from "node:test";
import assert from "node:assert/strict";
import { headerKey, headerKind, headerSpec, parseMessage, splitList } from "../../../src/sip/index.js";

test("compact forms of RFC 3261 §7.3.3 and the IANA registry expand to long names", () => {
  const expected: Record<string, string> = {
    i: "call-id",
    m: "contact",
    e: "content-encoding",
    l: "content-length",
    f: "from",
    s: "subject",
    k: "supported",
    t: "to",
    v: "via",
    c: "content-type",
    o: "event",
    u: "allow-events",
    r: "refer-to",
    b: "referred-by",
    x: "session-expires",
    y: "identity",
    a: "accept-contact",
  };
  for (const [compact, key] of Object.entries(expected)) {
    assert.equal(headerKey(compact), key, compact);
    assert.equal(headerKey(compact.toUpperCase()), key, compact.toUpperCase());
  }
  assert.equal(headerKey("X-Unknown"), "x-unknown");
  assert.equal(headerSpec("CALL-ID")?.display, "Call-ID");
});

test("split kinds: lists split, credentials/challenges/dates and unknown headers never", () => {
  for (const key of [
    "via",
    "contact",
    "route",
    "record-route",
    "supported",
    "require",
    "proxy-require",
    "allow",
  ]) {
    assert.equal(headerKind(key), "list", key);
  }
  for (const key of [
    "www-authenticate",
    "authorization",
    "proxy-authenticate",
    "proxy-authorization",
    "date",
    "x-anything",
  ]) {
    assert.equal(headerKind(key), "opaque", key);
  }
  for (const key of [
    "from",
    "to",
    "call-id",
    "cseq",
    "max-forwards",
    "content-length",
    "content-type",
    "expires",
  ]) {
    assert.equal(headerKind(key), "single", key);
  }
});

test("comma splitting respects quoted strings (with escapes) and <...>", () => {
  assert.deepEqual(splitList('"Doe, John" <sip:j@h;x=a,b>;q=1 , <sip:k@h>'), [
    '"Doe, John" <sip:j@h;x=a,b>;q=1',
    "<sip:k@h>",
  ]);
  assert.deepEqual(splitList('"a \\", b" <sip:x>, c'), ['"a \\", b" <sip:x>', "c"]);
  assert.deepEqual(splitList("a,,b"), ["a", "", "b"]);
  assert.deepEqual(splitList("  a \r\n , b"), ["a", "b"]);
});

test("message.values(): list headers split across lines and commas; opaque headers are kept whole", () => {
  const m = parseMessage(
    Buffer.from(
      [
        "REGISTER sip:example.com SIP/2.0",
        'Contact: <sip:a@h1>, "x,y" <sip:b@h2>',
        "m: <sip:c@h3>",
        'WWW-Authenticate: Digest realm="example.com", nonce="abc", qop="auth,auth-int"',
        "Date: Sat, 13 Nov 2010 23:29:00 GMT",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    ),
  );
  assert.deepEqual(m.values("contact"), ["<sip:a@h1>", '"x,y" <sip:b@h2>', "<sip:c@h3>"]);
  assert.deepEqual(m.values("WWW-Authenticate"), [
    'Digest realm="example.com", nonce="abc", qop="auth,auth-int"',
  ]);
  assert.deepEqual(m.values("Date"), ["Sat, 13 Nov 2010 23:29:00 GMT"]);
  assert.equal(m.date?.toISOString(), "2010-11-13T23:29:00.000Z");
});
