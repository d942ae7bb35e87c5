import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMessage, validateRequest, validateResponse } from "../../../src/sip/index.js";

function req(lines: string[]): ReturnType<typeof parseMessage> {
  return parseMessage(Buffer.from([...lines, "Content-Length: 0", "", ""].join("\r\n"), "latin1"));
}
const HEAD = [
  "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bK1",
  "From: <sip:a@example.com>;tag=1",
  "To: <sip:b@example.com>",
  "Call-ID: c1",
  "Max-Forwards: 70",
];

function verdict(
  start: string,
  extra: string[],
  cseq = "1 INVITE",
  options = {},
): ReturnType<typeof validateRequest> {
  return validateRequest(req([start, ...HEAD, `CSeq: ${cseq}`, ...extra]), options);
}

test("a well-formed request is valid", () => {
  assert.deepEqual(verdict("INVITE sip:b@example.com SIP/2.0", []), { ok: true, code: "valid" });
});

test("400 for malformed or missing mandatory headers, naming the header", () => {
  const cases: Array<[string[], string, string]> = [
    [["Expires: 4294967296"], "bad-header", "expires"],
    [["Date: Sat, 13 Nov 2010 23:29:00 EST"], "bad-header", "date"],
    [["Contact: *, <sip:a@b>"], "bad-header", "contact"],
    [["Route: sip:p.example.com;lr"], "bad-header", "route"],
    [["Require: a b"], "bad-header", "require"],
    [["Content-Type: text"], "bad-header", "content-type"],
    [["Via: SIP/2.0/UDP h;branch=z9hG4bK2,"], "bad-header", "via"],
    [["Max-Forwards: 71"], "duplicate-header", "max-forwards"], // a second one (HEAD has 70)
    [["Call-ID: other"], "duplicate-header", "call-id"],
  ];
  for (const [extra, code, header] of cases) {
    const v = verdict("INVITE sip:b@example.com SIP/2.0", extra);
    assert.ok(!v.ok, extra.join());
    assert.equal(v.status, 400, extra.join());
    assert.equal(v.reason, "Bad Request");
    assert.equal(v.code, code, extra.join());
    assert.equal(v.header, header, extra.join());
  }
  const missing = validateRequest(
    req([
      "INVITE sip:b@example.com SIP/2.0",
      ...HEAD.filter((h) => !h.startsWith("Call-ID")),
      "CSeq: 1 INVITE",
    ]),
  );
  assert.ok(!missing.ok);
  assert.equal(missing.code, "missing-header");
  assert.equal(missing.header, "call-id");
});

test("Max-Forwards range 0..255 (RFC 3261 §20.22)", () => {
  const lines = (mf: string): string[] => [
    "OPTIONS sip:b@example.com SIP/2.0",
    ...HEAD.map((h) => h.replace("Max-Forwards: 70", `Max-Forwards: ${mf}`)),
    "CSeq: 1 OPTIONS",
  ];
  assert.equal(req(lines("255")).maxForwards, 255);
  const v = validateRequest(req(lines("256")));
  assert.ok(!v.ok && v.code === "bad-header" && v.header === "max-forwards");
});

test("CSeq: range 0..2^32-1 and the method must match (RFC 3261 §8.1.1.5)", () => {
  assert.ok(verdict("INVITE sip:b@example.com SIP/2.0", [], "4294967295 INVITE").ok);
  const big = verdict("INVITE sip:b@example.com SIP/2.0", [], "4294967296 INVITE");
  assert.ok(!big.ok && big.code === "bad-header" && big.header === "cseq");
  const mismatch = verdict("INVITE sip:b@example.com SIP/2.0", [], "1 BYE");
  assert.ok(!mismatch.ok && mismatch.code === "cseq-method-mismatch" && mismatch.status === 400);
});

test("416 for Request-URI schemes the element does not handle; configurable", () => {
  const v = verdict("INVITE mailto:b@example.com SIP/2.0", []);
  assert.ok(!v.ok && v.status === 416 && v.reason === "Unsupported URI Scheme");
  assert.ok(verdict("INVITE mailto:b@example.com SIP/2.0", [], "1 INVITE", { schemes: ["mailto"] }).ok);
  assert.ok(verdict("INVITE tel:+12025550123 SIP/2.0", []).ok);
});

test("420 with the unsupported tags: Proxy-Require at a proxy, Require at a UAS", () => {
  const p = verdict("INVITE sip:b@example.com SIP/2.0", ["Proxy-Require: foo, bar", "Require: baz"]);
  assert.ok(!p.ok && p.status === 420);
  assert.deepEqual(p.unsupported, ["foo", "bar"]);
  assert.ok(
    verdict("INVITE sip:b@example.com SIP/2.0", ["Proxy-Require: foo"], "1 INVITE", { supported: ["foo"] })
      .ok,
  );
  const u = verdict("INVITE sip:b@example.com SIP/2.0", ["Require: baz"], "1 INVITE", { role: "uas" });
  assert.ok(!u.ok && u.status === 420);
  assert.deepEqual(u.unsupported, ["baz"]);
  // RFC 3261 §8.2.2.3: Require is not checked on ACK or CANCEL.
  assert.ok(verdict("ACK sip:b@example.com SIP/2.0", ["Require: baz"], "1 ACK", { role: "uas" }).ok);
});

test("483 at a proxy when Max-Forwards is 0; a UAS processes it", () => {
  const lines = [
    "OPTIONS sip:b@example.com SIP/2.0",
    ...HEAD.map((h) => h.replace("Max-Forwards: 70", "Max-Forwards: 0")),
    "CSeq: 1 OPTIONS",
  ];
  const v = validateRequest(req(lines));
  assert.ok(!v.ok && v.status === 483 && v.reason === "Too Many Hops");
  assert.ok(validateRequest(req(lines), { role: "uas" }).ok);
});

test("501 at a UAS for an unknown method; a proxy forwards unknown methods", () => {
  const v = verdict("FROBNICATE sip:b@example.com SIP/2.0", [], "1 FROBNICATE", { role: "uas" });
  assert.ok(!v.ok && v.status === 501);
  assert.ok(verdict("FROBNICATE sip:b@example.com SIP/2.0", [], "1 FROBNICATE").ok);
});

test("505 for another SIP version when parsed with acceptAnyVersion", () => {
  const m = parseMessage(
    Buffer.from(
      ["OPTIONS sip:b@example.com SIP/3.0", ...HEAD, "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join(
        "\r\n",
      ),
    ),
    { acceptAnyVersion: true },
  );
  const v = validateRequest(m);
  assert.ok(!v.ok && v.status === 505 && v.code === "bad-version");
});

test("?headers are not allowed in a SIP Request-URI (RFC 3261 §19.1.1)", () => {
  const v = verdict("INVITE sip:b@example.com?Subject=x SIP/2.0", []);
  assert.ok(!v.ok && v.status === 400 && v.code === "request-uri-headers");
});

test("validateResponse: malformed responses are reported (to be dropped)", () => {
  const ok = parseMessage(
    Buffer.from(["SIP/2.0 200 OK", ...HEAD, "CSeq: 1 INVITE", "Content-Length: 0", "", ""].join("\r\n")),
  );
  assert.deepEqual(validateResponse(ok), { ok: true, code: "valid" });
  const bad = parseMessage(
    Buffer.from(["SIP/2.0 200 OK", ...HEAD, "CSeq: x INVITE", "Content-Length: 0", "", ""].join("\r\n")),
  );
  const r = validateResponse(bad);
  assert.ok(!r.ok && r.code === "bad-header" && r.header === "cseq");
  assert.throws(() => validateRequest(ok), TypeError);
});
