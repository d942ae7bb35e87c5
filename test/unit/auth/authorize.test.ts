import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authorizeRequest,
  checkAuthPolicy,
  reasonPhrase,
  responseStatus,
  type AuthPolicy,
  type AuthRequest,
  type AuthResult,
} from "../../../src/auth/authorize.js";
import { compileCaRights } from "../../../src/auth/ca-rights.js";
import { identityText } from "../../../src/auth/identity.js";
import { peerIdentitiesFromParts, type PeerIdentities } from "../../../src/auth/peer.js";
import { parseUri } from "../../../src/sip/uri.js";
import { colonForm, domain, FED_A, FED_B, referencePeer, uri } from "./fixtures.js";

const PEER = referencePeer();

function invite(fromUri: string, toTag?: string | null): AuthRequest {
  return { method: "INVITE", fromUri, toTag };
}

/** [name, From, expected code, expected matched identity text (if any)] against the reference peer. */
const FROM_TABLE: ReadonlyArray<readonly [string, string, AuthResult["code"], string?]> = [
  // domain identity a.example
  ["user of the domain", "sip:alice@a.example", "covered-by-domain", "a.example"],
  ["sips From, same domain", "sips:alice@a.example", "covered-by-domain", "a.example"],
  ["host case is ignored", "sip:alice@A.Example", "covered-by-domain", "a.example"],
  ["trailing dot is ignored", "sip:alice@a.example.", "covered-by-domain", "a.example"],
  ["domain without user", "sip:a.example", "covered-by-domain", "a.example"],
  [
    "port, params, display-less headers ignored",
    "sip:alice@a.example:5061;transport=tls",
    "covered-by-domain",
  ],
  ["no suffix match: subdomain", "sip:alice@sub.a.example", "from-not-covered"],
  ["no suffix match: parent", "sip:alice@example", "from-not-covered"],
  ["no partial-label match", "sip:alice@xa.example", "from-not-covered"],
  ["IP literal never matches a DNS identity", "sip:alice@192.0.2.10", "from-not-covered"],
  // URI identity sip:bob@b.example
  ["exact URI", "sip:bob@b.example", "covered-by-uri", "sip:bob@b.example"],
  ["sips form of the URI", "sips:bob@b.example", "covered-by-uri", "sip:bob@b.example"],
  ["escaped unreserved user equals literal", "sip:b%6Fb@b.example", "covered-by-uri", "sip:bob@b.example"],
  ["escaped upper-case hex", "sip:%62%6F%62@b.example", "covered-by-uri", "sip:bob@b.example"],
  ["host case/trailing dot", "sip:bob@B.EXAMPLE.", "covered-by-uri", "sip:bob@b.example"],
  ["user part is case-sensitive", "sip:Bob@b.example", "from-not-covered"],
  ["other user of the URI's host", "sip:carol@b.example", "from-not-covered"],
  ["URI identity does not cover its bare domain", "sip:b.example", "from-not-covered"],
  ["user with password still names bob", "sip:bob:pw@b.example", "covered-by-uri", "sip:bob@b.example"],
  // mapping identities for the device CN: c.example, sip:carol@d.example
  ["mapped domain", "sip:anyone@c.example", "covered-by-mapping", "c.example"],
  ["mapped URI", "sip:carol@d.example", "covered-by-mapping", "sip:carol@d.example"],
  ["mapped URI, other user", "sip:dave@d.example", "from-not-covered"],
  // malformed From
  ["garbage", "not a uri", "malformed-from"],
  ["empty", "", "malformed-from"],
  ["tel URI", "tel:+12015550123", "malformed-from"],
  ["other scheme", "mailto:alice@a.example", "malformed-from"],
  ["U-label host is not SIP syntax", "sip:alice@bücher.example", "malformed-from"],
  ["CRLF injection", "sip:alice@a.example\r\nVia: x", "malformed-from"],
];

for (const [name, from, code, matched] of FROM_TABLE) {
  test(`From ${name}: ${JSON.stringify(from)} → ${code}`, () => {
    const result = authorizeRequest(PEER, invite(from));
    assert.equal(result.code, code, result.detail);
    assert.equal(result.ok, code.startsWith("covered"));
    if (matched !== undefined && result.ok) {
      assert.ok(result.matched);
      assert.equal(identityText(result.matched), matched);
    }
  });
}

test("no client certificate → no-client-cert, 403, whatever the request", () => {
  for (const peer of [null, undefined]) {
    const result = authorizeRequest(peer, invite("sip:alice@a.example"), {
      trustedIdentities: ["a.example"],
    });
    assert.equal(result.code, "no-client-cert");
    assert.equal(result.ok, false);
    assert.equal(responseStatus(result), 403);
  }
});

test("From given as a parsed Uri object is checked the same way", () => {
  const parsed = parseUri("sip:alice@a.example");
  assert.ok(parsed.ok);
  assert.equal(authorizeRequest(PEER, { method: "MESSAGE", fromUri: parsed.uri }).code, "covered-by-domain");
  const tel = parseUri("tel:+12015550123");
  assert.ok(tel.ok);
  assert.equal(authorizeRequest(PEER, { method: "MESSAGE", fromUri: tel.uri }).code, "malformed-from");
});

test("IDN: a U-label certificate identity covers the A-label From host", () => {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: [domain("Bücher.Example")],
    subjectCns: [],
    issuers: [],
  });
  assert.equal(authorizeRequest(peer, invite("sip:u@xn--bcher-kva.example")).code, "covered-by-domain");
  assert.equal(authorizeRequest(peer, invite("sip:u@XN--BCHER-KVA.example.")).code, "covered-by-domain");
  assert.equal(authorizeRequest(peer, invite("sip:u@bcher.example")).code, "from-not-covered");
});

test("reserved characters: %2B in the user part is not the same user as +", () => {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: [uri("sip:a+b@x.example")],
    subjectCns: [],
    issuers: [],
  });
  assert.equal(authorizeRequest(peer, invite("sip:a+b@x.example")).code, "covered-by-uri");
  // RFC 3261 §19.1.4: escapes of reserved characters are not equal to the literal character.
  assert.equal(authorizeRequest(peer, invite("sip:a%2Bb@x.example")).code, "from-not-covered");
});

test("precedence: a certificate identity wins over a mapping that grants the same", () => {
  const peer = referencePeer({ certificateIdentities: [domain("c.example")] });
  const result = authorizeRequest(peer, invite("sip:x@c.example"));
  assert.equal(result.code, "covered-by-domain");
});

test("email-as-SIP identities (source san-email) cover as URI identities", () => {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: [uri("sip:alice@mail.example", "san-email")],
    subjectCns: [],
    issuers: [],
  });
  const result = authorizeRequest(peer, invite("sip:alice@mail.example"));
  assert.equal(result.code, "covered-by-uri");
  assert.ok(result.ok && result.matched?.source === "san-email");
});

test("from-not-covered lists what the certificate covers", () => {
  const result = authorizeRequest(PEER, invite("sips:eve@evil.example"));
  assert.equal(result.code, "from-not-covered");
  assert.equal(responseStatus(result), 403);
  assert.match(result.detail, /^INVITE From sips:eve@evil\.example is not covered/);
  assert.match(result.detail, /domains \[a\.example\]/);
  assert.match(result.detail, /URIs \[sip:bob@b\.example\]/);
  assert.match(result.detail, /mapped \[c\.example, sip:carol@d\.example\]/);
});

test("the listing in the detail is bounded", () => {
  const many = Array.from({ length: 500 }, (_, i) => domain(`d${i}.example`, "san-dns"));
  const peer = peerIdentitiesFromParts({ certificateIdentities: many, subjectCns: [], issuers: [] });
  const result = authorizeRequest(peer, invite("sip:x@other.example"));
  assert.equal(result.code, "from-not-covered");
  assert.match(result.detail, /… 492 more\]/);
  assert.ok(result.detail.length < 500, `detail is ${result.detail.length} characters`);
});

// --- every request is checked by default; skipInDialog is an explicit opt-in ---------------------------

for (const method of ["ACK", "CANCEL", "BYE", "INVITE", "UPDATE", "INFO"]) {
  test(`${method} with a To tag is checked by default`, () => {
    const request = { method, fromUri: "sip:eve@evil.example", toTag: "a6c85cf" };
    assert.equal(authorizeRequest(PEER, request).code, "from-not-covered");
    assert.equal(
      authorizeRequest(PEER, { ...request, fromUri: "sip:x@a.example" }).code,
      "covered-by-domain",
    );
  });
}

test("skipInDialog skips requests with a To tag, and only those", () => {
  const policy: AuthPolicy = { skipInDialog: true };
  const bye = { method: "BYE", fromUri: "sip:eve@evil.example" };
  assert.equal(authorizeRequest(PEER, { ...bye, toTag: "1928301774" }, policy).code, "in-dialog-skipped");
  assert.equal(authorizeRequest(PEER, { ...bye, toTag: null }, policy).code, "from-not-covered");
  assert.equal(authorizeRequest(PEER, { ...bye }, policy).code, "from-not-covered");
  // An empty tag parameter is not a tag: no dialog, so the check runs.
  assert.equal(authorizeRequest(PEER, { ...bye, toTag: "" }, policy).code, "from-not-covered");
  // The option never lets a connection without a certificate through.
  assert.equal(authorizeRequest(null, { ...bye, toTag: "x" }, policy).code, "no-client-cert");
  assert.equal(
    authorizeRequest(PEER, { ...bye, toTag: "x" }, { skipInDialog: false }).code,
    "from-not-covered",
  );
});

// --- trusted peers ------------------------------------------------------------------------------------

test("trusted by verified identity: domain, user@domain and sip: URI forms", () => {
  const from = invite("sip:someone@relayed.example");
  for (const trustedIdentities of [
    ["a.example"],
    ["A.EXAMPLE."],
    ["bob@b.example"],
    ["sip:bob@b.example"],
    ["c.example"],
  ]) {
    const result = authorizeRequest(PEER, from, { trustedIdentities });
    assert.equal(result.code, "trusted-peer", JSON.stringify(trustedIdentities));
    assert.ok(result.ok && result.matched !== undefined);
  }
  for (const trustedIdentities of [
    ["other.example"],
    ["b.example"],
    ["sip:alice@a.example"],
    ["sub.a.example"],
  ]) {
    assert.equal(
      authorizeRequest(PEER, from, { trustedIdentities }).code,
      "from-not-covered",
      JSON.stringify(trustedIdentities),
    );
  }
});

test("trusted by the fingerprint of any CA in the verified chain, in hex or colon form", () => {
  const from = invite("sip:someone@relayed.example");
  for (const fp of [FED_A.fingerprint, colonForm(FED_A.fingerprint), FED_A.fingerprint.toUpperCase()]) {
    const result = authorizeRequest(PEER, from, { trustedCaFingerprints: [fp] });
    assert.equal(result.code, "trusted-peer");
    assert.ok(result.ok && result.trustedCa === FED_A.fingerprint);
  }
  assert.equal(
    authorizeRequest(PEER, from, { trustedCaFingerprints: [FED_B.fingerprint] }).code,
    "from-not-covered",
  );
  assert.equal(authorizeRequest(PEER, from, { trustedCaFingerprints: ["not-hex"] }).code, "from-not-covered");
});

test("a trusted peer with a malformed From still gets 400", () => {
  const result = authorizeRequest(PEER, invite("<sip:x@y>"), { trustedCaFingerprints: [FED_A.fingerprint] });
  assert.equal(result.code, "malformed-from");
  assert.equal(responseStatus(result), 400);
});

// --- CA rights inside authorization -------------------------------------------------------------------

test("identities outside the CA's rights are dropped and reported in the result", () => {
  const caRights = compileCaRights({
    rules: [{ ca: { fingerprint: FED_A.fingerprint }, domains: ["b.example", "d.example"] }],
  });
  const denied = authorizeRequest(PEER, invite("sip:alice@a.example"), { caRights });
  assert.equal(denied.code, "from-not-covered");
  assert.deepEqual(
    denied.dropped.map((d) => [d.code, identityText(d.identity)]),
    [
      ["ca-not-authorized-for-domain", "a.example"],
      ["ca-not-authorized-for-domain", "c.example"],
    ],
  );
  assert.match(denied.detail, /dropped by CA rights \[a\.example, c\.example\]/);
  const allowed = authorizeRequest(PEER, invite("sip:bob@b.example"), { caRights });
  assert.equal(allowed.code, "covered-by-uri");
  assert.equal(allowed.dropped.length, 2);
  assert.equal(
    authorizeRequest(PEER, invite("sip:carol@d.example"), { caRights }).code,
    "covered-by-mapping",
  );
  // A trusted identity that the CA may not vouch for does not make the peer trusted.
  const trust = authorizeRequest(PEER, invite("sip:x@else.example"), {
    caRights,
    trustedIdentities: ["a.example"],
  });
  assert.equal(trust.code, "from-not-covered");
});

test("CA rights for an unrelated CA leave the peer untouched", () => {
  const caRights = compileCaRights({
    rules: [{ ca: { fingerprint: FED_B.fingerprint }, domains: ["b.example"] }],
  });
  const result = authorizeRequest(PEER, invite("sip:alice@a.example"), { caRights });
  assert.equal(result.code, "covered-by-domain");
  assert.deepEqual(result.dropped, []);
});

// --- reason phrases and status codes ------------------------------------------------------------------

test("every outcome has a fixed reason phrase and the right status", () => {
  const results: AuthResult[] = [
    authorizeRequest(null, invite("sip:a@a.example")),
    authorizeRequest(PEER, invite("bad")),
    authorizeRequest(PEER, invite("sip:eve@evil.example")),
    authorizeRequest(PEER, invite("sip:x@y.example"), { trustedIdentities: ["a.example"] }),
    authorizeRequest(PEER, invite("sip:x@a.example")),
    authorizeRequest(PEER, invite("sip:bob@b.example")),
    authorizeRequest(PEER, invite("sip:x@c.example")),
    authorizeRequest(PEER, invite("sip:eve@evil.example", "t"), { skipInDialog: true }),
  ];
  assert.deepEqual(
    results.map((r) => [r.code, responseStatus(r)]),
    [
      ["no-client-cert", 403],
      ["malformed-from", 400],
      ["from-not-covered", 403],
      ["trusted-peer", null],
      ["covered-by-domain", null],
      ["covered-by-uri", null],
      ["covered-by-mapping", null],
      ["in-dialog-skipped", null],
    ],
  );
  const phrases = new Set(results.map(reasonPhrase));
  assert.equal(phrases.size, results.length, "one distinct phrase per code");
  for (const phrase of phrases) {
    // RFC 3261 §25.1 Reason-Phrase: no CR/LF; and never an echo of peer-supplied text.
    assert.match(phrase, /^[\x20-\x7e]+$/);
    assert.doesNotMatch(phrase, /evil/);
  }
});

test("checkAuthPolicy reports entries authorizeRequest would ignore", () => {
  assert.deepEqual(
    checkAuthPolicy({
      trustedIdentities: ["a.example", "sip:b@b.example"],
      trustedCaFingerprints: [FED_A.fingerprint],
    }),
    [],
  );
  const problems = checkAuthPolicy({
    trustedIdentities: ["ok.example", "*.bad.example", "tel:1"],
    trustedCaFingerprints: ["zz"],
  });
  assert.deepEqual(
    problems.map((p) => p.split(":")[0]),
    ["trustedIdentities[1]", "trustedIdentities[2]", "trustedCaFingerprints[0]"],
  );
});

test("the same trusted list object is reused across requests (cache) without changing results", () => {
  const trustedIdentities = ["a.example"];
  const peerWithout: PeerIdentities = peerIdentitiesFromParts({
    certificateIdentities: [domain("z.example")],
    subjectCns: [],
    issuers: [],
  });
  for (let i = 0; i < 3; i++) {
    assert.equal(
      authorizeRequest(PEER, invite("sip:x@q.example"), { trustedIdentities }).code,
      "trusted-peer",
    );
    assert.equal(
      authorizeRequest(peerWithout, invite("sip:x@q.example"), { trustedIdentities }).code,
      "from-not-covered",
    );
  }
});
