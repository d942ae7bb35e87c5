import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMessage, parseMessage } from "../../../../src/sip/index.js";
import {
  cancelledInviteKey,
  clientTransactionKey,
  responseClientKey,
  serverTransactionKey,
  TransactionKeyError,
} from "../../../../src/proxy/transactions/index.js";
import { request, response, type RequestSpec } from "./fixtures.js";

const key = (spec: RequestSpec): string => serverTransactionKey(request(spec));

test("§17.2.3: ACK for a non-2xx matches its INVITE; CANCEL and other methods do not", () => {
  const invite = key({});
  assert.equal(key({ method: "ACK", toTag: "uas-1" }), invite, "ACK (To tag from the response) → INVITE");
  assert.equal(key({}), invite, "retransmitted INVITE");
  assert.notEqual(key({ method: "CANCEL" }), invite, "CANCEL is its own transaction");
  assert.notEqual(key({ method: "BYE" }), invite);
  assert.equal(key({ method: "CANCEL" }), key({ method: "CANCEL" }));
});

const distinct: Array<[string, RequestSpec]> = [
  ["another branch", { branch: "z9hG4bK-other" }],
  ["branch differing in case only", { branch: "z9hG4bK-ABC123" }],
  ["another sent-by host", { sentBy: "edge2.example.com:5060" }],
  ["another sent-by port", { sentBy: "edge.example.com:5070" }],
  ["sent-by without port", { sentBy: "edge.example.com" }],
];
for (const [name, spec] of distinct) {
  test(`§17.2.3: ${name} is a different transaction`, () => {
    assert.notEqual(key(spec), key({}));
  });
}

test("§17.2.3: with the magic cookie, Request-URI, tags, Call-ID and CSeq do not take part", () => {
  const base = key({});
  assert.equal(
    key({ uri: "sip:carol@c.example", callId: "x", cseq: 7, fromTag: "zz", transport: "TCP" }),
    base,
  );
  assert.equal(key({ sentBy: "EDGE.example.com:5060" }), base, "host names compare case-insensitively");
});

test("RFC 2543 fallback (no magic cookie): INVITE, its retransmission and its ACK share a key", () => {
  const legacy: RequestSpec = { branch: null };
  const invite = key(legacy);
  assert.ok(invite.startsWith("2543|"));
  assert.equal(key(legacy), invite);
  assert.equal(key({ ...legacy, method: "ACK", toTag: "uas-9" }), invite, "ACK with the response's To tag");
  assert.equal(
    key({ branch: "1234" }),
    key({ branch: "1234", method: "ACK", toTag: "t" }),
    "non-cookie branch",
  );
});

const legacyDistinct: Array<[string, RequestSpec]> = [
  ["Request-URI", { uri: "sip:carol@b.example" }],
  ["From tag", { fromTag: "f2" }],
  ["Call-ID", { callId: "call-2@a.example" }],
  ["CSeq number", { cseq: 2 }],
  ["top Via", { sentBy: "other.example.com:5060" }],
  ["method (CANCEL)", { method: "CANCEL" }],
];
for (const [field, spec] of legacyDistinct) {
  test(`RFC 2543 fallback: a different ${field} is a different transaction`, () => {
    assert.notEqual(key({ ...spec, branch: null }), key({ branch: null }));
  });
}

test("RFC 2543 fallback: non-INVITE requests include the To tag; URI matching follows §19.1.4 case rules", () => {
  const bye = key({ branch: null, method: "BYE", toTag: "t1" });
  assert.notEqual(key({ branch: null, method: "BYE", toTag: "t2" }), bye);
  assert.equal(key({ branch: null, method: "BYE", toTag: "t1" }), bye);
  assert.equal(key({ branch: null, uri: "sip:bob@B.EXAMPLE" }), key({ branch: null }));
});

test("keys of the two matching schemes never collide", () => {
  assert.notEqual(key({ branch: "z9hG4bK-1" }), key({ branch: "1" }));
});

test("serverTransactionKey throws TransactionKeyError with a code, nothing else", () => {
  const cases: Array<[string, Buffer, string]> = [
    ["no Via", raw("INVITE sip:b@b.example SIP/2.0", []), "bad-via"],
    ["broken Via", raw("INVITE sip:b@b.example SIP/2.0", [["Via", "SIP/2.0/UDP ;;;"]]), "bad-via"],
    [
      "RFC 2543 request with a broken CSeq",
      raw("INVITE sip:b@b.example SIP/2.0", [
        ["Via", "SIP/2.0/UDP h.example"],
        ["From", "<sip:a@a.example>;tag=1"],
        ["To", "<sip:b@b.example>"],
        ["Call-ID", "c"],
        ["CSeq", "x INVITE"],
      ]),
      "bad-header",
    ],
    [
      "a response",
      raw("SIP/2.0 200 OK", [["Via", "SIP/2.0/UDP h.example;branch=z9hG4bK1"]]),
      "not-a-request",
    ],
  ];
  for (const [name, buf, code] of cases) {
    assert.throws(
      () => serverTransactionKey(parseMessage(buf)),
      (e: unknown) => e instanceof TransactionKeyError && e.code === code,
      name,
    );
  }
});

test("an RFC 3261 request needs only the top Via: a broken CSeq does not stop matching", () => {
  const buf = raw("ACK sip:b@b.example SIP/2.0", [
    ["Via", "SIP/2.0/UDP h.example;branch=z9hG4bK1"],
    ["CSeq", "not a cseq"],
  ]);
  assert.equal(serverTransactionKey(parseMessage(buf)), "z9hG4bK1|h.example:|INVITE");
});

test("§17.1.3: client keys combine branch and CSeq method; a response finds its request's key", () => {
  assert.notEqual(clientTransactionKey("z9hG4bKx", "INVITE"), clientTransactionKey("z9hG4bKx", "CANCEL"));
  assert.notEqual(clientTransactionKey("z9hG4bKx", "INVITE"), clientTransactionKey("z9hG4bKy", "INVITE"));
  assert.equal(
    responseClientKey(response({ status: 180, branch: "z9hG4bK-q" })),
    clientTransactionKey("z9hG4bK-q", "INVITE"),
  );
  assert.equal(
    responseClientKey(response({ status: 200, method: "CANCEL", branch: "z9hG4bK-q" })),
    clientTransactionKey("z9hG4bK-q", "CANCEL"),
  );
  assert.equal(responseClientKey(response({ status: 200, branch: null })), undefined, "no branch");
  const broken = raw("SIP/2.0 200 OK", [
    ["Via", "SIP/2.0/UDP ;;"],
    ["CSeq", "1 INVITE"],
  ]);
  assert.equal(responseClientKey(parseMessage(broken)), undefined, "unparsable Via");
  const noCseq = raw("SIP/2.0 200 OK", [["Via", "SIP/2.0/UDP h.example;branch=z9hG4bK1"]]);
  assert.equal(responseClientKey(parseMessage(noCseq)), undefined, "no CSeq");
});

function raw(startLine: string, headers: Array<readonly [string, string]>): Buffer {
  return formatMessage({ startLine, headers });
}

test("§9.2: a CANCEL finds the INVITE it cancels, in both matching schemes", () => {
  for (const scheme of [{}, { branch: null }] as RequestSpec[]) {
    const invite = key(scheme);
    const cancel = request({ ...scheme, method: "CANCEL" });
    assert.equal(cancelledInviteKey(cancel), invite);
    assert.notEqual(serverTransactionKey(cancel), invite, "the CANCEL's own transaction is another one");
  }
  assert.notEqual(cancelledInviteKey(request({ method: "CANCEL", branch: "z9hG4bK-zz" })), key({}));
  assert.notEqual(
    cancelledInviteKey(request({ method: "CANCEL", branch: null, cseq: 2 })),
    key({ branch: null }),
  );
  assert.throws(
    () => cancelledInviteKey(response({ status: 200 })),
    (e: unknown) => e instanceof TransactionKeyError && e.code === "not-a-request",
  );
});
