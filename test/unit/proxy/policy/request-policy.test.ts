import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { compileCaRights } from "../../../../src/auth/ca-rights.js";
import { issueCertificate } from "../../../../src/pki/issue.js";
import { parseNameAddr } from "../../../../src/sip/name-addr.js";
import {
  createRequestPolicy,
  type PolicyDecision,
  type RequestPolicySettings,
} from "../../../../src/proxy/policy/request-policy.js";
import { RoutingRuleError, type RoutingRuleConfig } from "../../../../src/proxy/policy/routing-rules.js";
import { paramValue } from "../../../../src/proxy/policy/identity-header.js";
import {
  chainOf,
  DEVICE_MAPPING,
  fakeInbound,
  fakeOutbound,
  inboundFlow,
  INNER_FLOW,
  outboundFlow,
  request,
  testPki,
} from "./fixtures.js";

const sha256 = (der: Buffer): string => createHash("sha256").update(der).digest("hex");

function peerA() {
  const { leafA, fedA } = testPki();
  return inboundFlow(fakeInbound(chainOf(leafA, fedA)), "public", "fed");
}

function peerB() {
  const { leafB, fedB } = testPki();
  return inboundFlow(fakeInbound(chainOf(leafB, fedB)), "public", "fed");
}

function rejected(d: PolicyDecision): Extract<PolicyDecision, { action: "reject" }> {
  assert.equal(d.action, "reject", `expected a rejection, got ${JSON.stringify(d)}`);
  return d as Extract<PolicyDecision, { action: "reject" }>;
}

function forwarded(d: PolicyDecision): Extract<PolicyDecision, { action: "forward" }> {
  assert.equal(d.action, "forward", `expected forward, got ${JSON.stringify(d)}`);
  return d as Extract<PolicyDecision, { action: "forward" }>;
}

/** [name, flow, From header, expected status, reason, code] — authorization denials answer before any rule. */
const DENIALS = [
  [
    "no client certificate",
    () => inboundFlow(fakeInbound([])),
    "<sip:alice@a.example>;tag=1",
    403,
    "Forbidden - Client Certificate Required",
    "no-client-cert",
  ],
  [
    "From not covered",
    peerA,
    "<sip:mallory@b.example>;tag=1",
    403,
    "Forbidden - From Not Covered By Peer Certificate",
    "from-not-covered",
  ],
  [
    "suffix of a covered domain is not covered",
    peerA,
    "<sip:alice@sub.a.example>;tag=1",
    403,
    "Forbidden - From Not Covered By Peer Certificate",
    "from-not-covered",
  ],
  [
    "tel: From is malformed for authorization",
    peerA,
    "<tel:+4930123>;tag=1",
    400,
    "Bad Request - Malformed From URI",
    "malformed-from",
  ],
] as const;

for (const [name, flow, from, status, reason, code] of DENIALS) {
  test(`denied: ${name} → ${status} ${code}`, () => {
    // A catch-all rule must not run for a denied request.
    const policy = createRequestPolicy({ rules: [{ name: "all", forward: "default", tags: ["seen"] }] });
    const d = rejected(policy.decide(flow(), request({ from })));
    assert.equal(d.status, status);
    assert.equal(d.reason, reason);
    assert.equal(d.code, code);
    assert.equal(d.auth?.code, code);
    assert.equal(d.rule, undefined);
    assert.deepEqual(d.tags, []);
  });
}

test("an outside flow without any TLS context is denied (fail closed)", () => {
  const flow = { ...INNER_FLOW, id: "in:x:1", side: "outside" as const };
  assert.equal(rejected(createRequestPolicy().decide(flow, request())).code, "no-client-cert");
});

test("authorized peer, no rules: forward to inner group default with the identity header", () => {
  const { leafA } = testPki();
  const d = forwarded(createRequestPolicy().decide(peerA(), request()));
  assert.deepEqual(d.to, { kind: "inner", group: "default" });
  assert.equal(d.auth?.code, "covered-by-domain");
  assert.deepEqual(d.tags, []);
  const fp = sha256(leafA.certificate.raw).slice(0, 16);
  assert.equal(
    d.identityHeaderValue,
    `<sip:a.example>;method=pkix+rfc5922;auth=covered-by-domain;listener=public;ca-set=fed;fp=${fp}`,
  );
  // The value is a name-addr with generic parameters: any SIP parser reads it.
  const parsed = parseNameAddr(d.identityHeaderValue ?? "");
  assert.ok(parsed.ok);
  assert.equal(parsed.value.uriText, "sip:a.example");
});

test("identity header names the URI identity that covered From", () => {
  const { fedB } = testPki();
  const leaf = issueCertificate(fedB, {
    cn: "carol",
    san: { uri: ["sip:carol@c.example"] },
    eku: ["clientAuth"],
  });
  const flow = inboundFlow(fakeInbound(chainOf(leaf, fedB)), "public", "fed");
  const d = forwarded(createRequestPolicy().decide(flow, request({ from: "<sip:carol@c.example>;tag=1" })));
  assert.equal(d.auth?.code, "covered-by-uri");
  assert.match(
    d.identityHeaderValue ?? "",
    /^<sip:carol@c\.example>;method=pkix\+rfc5922;auth=covered-by-uri;/,
  );
  // Another user of the same domain is not covered by a URI identity.
  const other = rejected(createRequestPolicy().decide(flow, request({ from: "<sip:dave@c.example>;tag=1" })));
  assert.equal(other.code, "from-not-covered");
});

test("device certificate covered through the CN mapping: method=mapping, auth=covered-by-mapping", () => {
  const { device, fedA } = testPki();
  const flow = inboundFlow(fakeInbound(chainOf(device, fedA), { mapping: DEVICE_MAPPING }), "devices", "fed");
  const d = forwarded(
    createRequestPolicy().decide(flow, request({ from: "<sip:phone1@devices.example>;tag=1" })),
  );
  assert.equal(d.auth?.code, "covered-by-mapping");
  assert.match(
    d.identityHeaderValue ?? "",
    /^<sip:phone1@devices\.example>;method=mapping;auth=covered-by-mapping;/,
  );
});

test("trusted peer by CA fingerprint: any From passes, header says trusted-peer and names the peer", () => {
  const { fedB } = testPki();
  const policy = createRequestPolicy({
    authorization: { trustedCaFingerprints: [sha256(fedB.certificate.raw)] },
  });
  const d = forwarded(policy.decide(peerB(), request({ from: "<sip:someone@relayed.example>;tag=1" })));
  assert.equal(d.auth?.code, "trusted-peer");
  assert.match(
    d.identityHeaderValue ?? "",
    /^<sip:(b\.example|bob@b\.example)>;method=pkix\+rfc5922;auth=trusted-peer;/,
  );
  // The other federation's peer is not trusted by that CA.
  assert.equal(
    rejected(policy.decide(peerA(), request({ from: "<sip:x@relayed.example>;tag=1" }))).code,
    "from-not-covered",
  );
});

test("CA rights narrow the identities before coverage", () => {
  const { fedA } = testPki();
  const caRights = compileCaRights({
    rules: [{ ca: { fingerprint: sha256(fedA.certificate.raw) }, domains: ["other.example"] }],
  });
  const d = rejected(createRequestPolicy({ authorization: { caRights } }).decide(peerA(), request()));
  assert.equal(d.code, "from-not-covered");
  assert.equal(d.auth?.dropped.length, 1);
});

/** The federation example of docs/routing.md. */
const FEDERATION_RULES: RoutingRuleConfig[] = [
  { name: "tag-all", match: { method: ["INVITE", "MESSAGE"] }, tags: ["call"] },
  {
    name: "federation-a",
    match: { peer: { issuer: { regex: "O=Federation A," } } },
    forward: "fed-a",
    tags: ["fed-a"],
  },
  {
    name: "federation-b",
    match: { peer: { issuer: "C=FR, O=Federation B, CN=Federation B Root" } },
    forward: "fed-b",
    tags: ["fed-b"],
  },
  {
    name: "no-b-messages",
    match: { method: "MESSAGE", peer: { identity: "b.example" } },
    reject: { status: 488, reason: "Not Acceptable Here", code: "fed-b-no-message" },
  },
];

const GROUPS = ["default", "fed-a", "fed-b"];

test("federation example: requests from federation A and B routed to different inner groups", () => {
  const policy = createRequestPolicy({ rules: FEDERATION_RULES, groups: GROUPS });
  const a = forwarded(policy.decide(peerA(), request()));
  assert.deepEqual(a.to, { kind: "inner", group: "fed-a" });
  assert.equal(a.rule, "federation-a");
  assert.deepEqual(a.tags, ["call", "fed-a"]);
  assert.ok(a.identityHeaderValue);
  const b = forwarded(policy.decide(peerB(), request({ from: "<sip:carol@b.example>;tag=1" })));
  assert.deepEqual(b.to, { kind: "inner", group: "fed-b" });
  assert.equal(b.rule, "federation-b");
  assert.deepEqual(b.tags, ["call", "fed-b"]);
  // OPTIONS is not tagged "call"; rules are first-match: federation-b decides before no-b-messages.
  const options = forwarded(
    policy.decide(peerB(), request({ method: "OPTIONS", from: "<sip:carol@b.example>;tag=1" })),
  );
  assert.deepEqual(options.tags, ["fed-b"]);
});

test("reject rule: status, reason and code, with the authorization result kept", () => {
  const rules: RoutingRuleConfig[] = [
    {
      name: "no-b-messages",
      match: { method: "MESSAGE", peer: { identity: "b.example" } },
      reject: { status: 488, reason: "Not Acceptable Here", code: "fed-b-no-message" },
      tags: ["blocked"],
    },
  ];
  const policy = createRequestPolicy({ rules });
  const d = rejected(
    policy.decide(peerB(), request({ method: "MESSAGE", from: "<sip:carol@b.example>;tag=1" })),
  );
  assert.equal(d.status, 488);
  assert.equal(d.reason, "Not Acceptable Here");
  assert.equal(d.code, "fed-b-no-message");
  assert.equal(d.rule, "no-b-messages");
  assert.equal(d.auth?.code, "covered-by-domain");
  assert.deepEqual(d.tags, ["blocked"]);
});

test("inbound forward to the outside carries no identity header", () => {
  const policy = createRequestPolicy({
    rules: [{ match: { requestUri: "foreign.example" }, forward: "outside" }],
  });
  const d = forwarded(policy.decide(peerA(), request({ uri: "sip:x@foreign.example" })));
  assert.deepEqual(d.to, { kind: "outside" });
  assert.equal(d.identityHeaderValue, undefined);
});

test("inside requests: default forward outside; only outbound rules apply; no authorization", () => {
  const rules: RoutingRuleConfig[] = [
    { name: "inbound-catch-all", forward: "default" },
    {
      name: "block-premium",
      match: { direction: "outbound", requestUri: { regex: "^sip:\\+1900" } },
      reject: { status: 403, reason: "Premium Numbers Blocked", code: "premium" },
    },
    { name: "tag-out", match: { direction: "outbound" }, tags: ["out"] },
  ];
  const policy = createRequestPolicy({ rules });
  const out = forwarded(
    policy.decide(
      INNER_FLOW,
      request({ uri: "sip:carol@b.example", from: "<sip:alice@inner.example>;tag=1" }),
    ),
  );
  assert.deepEqual(out.to, { kind: "outside" });
  assert.equal(out.auth, undefined);
  assert.equal(out.identityHeaderValue, undefined);
  assert.deepEqual(out.tags, ["out"]);
  assert.equal(out.rule, undefined);
  const premium = rejected(
    policy.decide(INNER_FLOW, request({ uri: "sip:+19005551234@b.example;user=phone" })),
  );
  assert.equal(premium.code, "premium");
  assert.equal(premium.status, 403);
  assert.equal(premium.auth, undefined);
});

test("request on a connection we opened: authorized against the identities verified on it", () => {
  const { leafB, fedB } = testPki();
  const flow = outboundFlow(fakeOutbound(chainOf(leafB, fedB), "rfc5922", { domain: "b.example" }));
  const policy = createRequestPolicy();
  const bye = forwarded(policy.decide(flow, request({ method: "BYE", from: "<sip:carol@b.example>;tag=9" })));
  assert.deepEqual(bye.to, { kind: "inner", group: "default" });
  assert.equal(bye.auth?.code, "covered-by-domain");
  assert.doesNotMatch(bye.identityHeaderValue ?? "", /listener=/);
  assert.equal(
    rejected(policy.decide(flow, request({ method: "BYE", from: "<sip:x@a.example>;tag=9" }))).code,
    "from-not-covered",
  );
});

test("DANE-verified connection: the SIP domain it was opened for covers From", () => {
  const { leafB, fedB } = testPki();
  const flow = outboundFlow(
    fakeOutbound(chainOf(leafB, fedB), "dane-ee", { domain: "c.example", srvHost: "sip.c-hosting.example" }),
  );
  const d = forwarded(
    createRequestPolicy().decide(flow, request({ method: "BYE", from: "<sip:dave@c.example>;tag=9" })),
  );
  assert.match(
    d.identityHeaderValue ?? "",
    /^<sip:c\.example>;method=dane-ee;auth=covered-by-domain;sni=sip\.c-hosting\.example;fp=/,
  );
});

test("skipInDialog: a request with a To tag is not checked and says so", () => {
  const policy = createRequestPolicy({ authorization: { skipInDialog: true } });
  const d = forwarded(
    policy.decide(
      peerA(),
      request({ method: "BYE", from: "<sip:x@b.example>;tag=1", to: "<sip:bob@inner.example>;tag=2" }),
    ),
  );
  assert.equal(d.auth?.code, "in-dialog-skipped");
  assert.match(d.identityHeaderValue ?? "", /^<sip:a\.example>;method=pkix\+rfc5922;auth=in-dialog-skipped;/);
});

test("a From header that does not parse answers 400, never throws", () => {
  const d = rejected(createRequestPolicy().decide(peerA(), request({ from: "<sip:alice@a.example;tag=1" })));
  assert.equal(d.status, 400);
  assert.equal(d.code, "malformed-from");
});

test("identity header parameters: tokens as is, others quoted, no CR/LF or non-ASCII can appear", () => {
  assert.equal(paramValue("public"), "public");
  assert.equal(paramValue("pkix+rfc5922"), "pkix+rfc5922");
  assert.equal(paramValue('my "edge" \\ x'), '"my \\"edge\\" \\\\ x"');
  assert.equal(paramValue("a\r\nVia: evil"), '"a%0D%0AVia: evil"');
  assert.equal(paramValue("bücher"), '"b%C3%BCcher"');
  const { leafA, fedA } = testPki();
  const flow = inboundFlow(fakeInbound(chainOf(leafA, fedA), { sni: "evil\r\nX: y" }), "pub lic", "fed");
  const value = forwarded(createRequestPolicy().decide(flow, request())).identityHeaderValue ?? "";
  assert.doesNotMatch(value, /[\r\n]/);
  assert.match(value, /;listener="pub lic";sni="evil%0D%0AX: y";/);
});

test("settings: configured rules are compiled (and checked against the groups) when the policy is made", () => {
  const settings: RequestPolicySettings = { rules: [{ forward: "nowhere" }], groups: ["default"] };
  assert.throws(() => createRequestPolicy(settings), RoutingRuleError);
  const policy = createRequestPolicy({ rules: [{ forward: "sales" }], defaultGroup: "sales" });
  assert.deepEqual(forwarded(policy.decide(peerA(), request())).to, { kind: "inner", group: "sales" });
});
