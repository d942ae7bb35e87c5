import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkRoutingRules,
  compileRoutingRules,
  RoutingRuleError,
  type RequestFacts,
  type RoutingRuleConfig,
  type RuleMatchConfig,
} from "../../../../src/proxy/policy/routing-rules.js";
import type { TlsAttributes } from "../../../../src/proxy/policy/tls-attributes.js";
import { parseUri, type Uri } from "../../../../src/sip/uri.js";

function uri(text: string): Uri {
  const parsed = parseUri(text);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.uri;
}

const FP = "3f".repeat(32);

const TLS: TlsAttributes = {
  listener: "public",
  sni: "edge.example",
  caSet: "fed-a",
  version: "TLSv1.3",
  cipher: "TLS_AES_128_GCM_SHA256",
  subject: "O=A Telecom, CN=sip.a.example",
  issuer: "C=DE, O=Federation A, CN=Federation A Root",
  serial: "a1b2c3d4",
  fingerprint: FP,
  san: { uri: ["sip:a.example"], dns: ["sip.a.example"], email: ["ops@a.example"], ip: ["192.0.2.7"] },
  identities: ["a.example", "sip:carol@a.example"],
  method: "pkix+rfc5922",
};

function facts(over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    direction: "inbound",
    method: "INVITE",
    requestUri: uri("sip:+4930123@inner.example;user=phone"),
    from: uri("sip:alice@a.example"),
    to: uri("sip:bob@Inner.Example"),
    tls: TLS,
    auth: "covered-by-domain",
    ...over,
  };
}

/** Does a rule with just this match apply to the default facts (or to `over`)? */
function matches(match: RuleMatchConfig, over: Partial<RequestFacts> = {}): boolean {
  const rules = compileRoutingRules([{ name: "r", match, forward: "x" }]);
  return rules.evaluate(facts(over)).rule === "r";
}

const TABLE: ReadonlyArray<readonly [string, RuleMatchConfig, boolean, Partial<RequestFacts>?]> = [
  ["empty match matches inbound", {}, true],
  ["empty match does not match outbound", {}, false, { direction: "outbound", tls: undefined }],
  ["direction outbound", { direction: "outbound" }, true, { direction: "outbound", tls: undefined }],
  ["direction any (inbound)", { direction: "any" }, true],
  // method: RFC 3261 §7.1 case-sensitive
  ["method exact", { method: "INVITE" }, true],
  ["method exact is case-sensitive", { method: "invite" }, false],
  ["method list (OR)", { method: ["MESSAGE", "INVITE"] }, true],
  ["method list, none", { method: ["MESSAGE", "OPTIONS"] }, false],
  ["method regex", { method: { regex: "^(INVITE|BYE)$" } }, true],
  // URI fields: host, whole URI, suffix on host, regex on canonical text
  ["requestUri host", { requestUri: "inner.example" }, true],
  ["requestUri host other", { requestUri: "other.example" }, false],
  ["to host is case-insensitive", { to: "INNER.example." }, true],
  ["from whole URI", { from: "sip:alice@a.example" }, true],
  ["from whole URI ignores sips and params", { from: "sips:alice@a.example;transport=tls" }, true],
  ["from whole URI user is case-sensitive", { from: "sip:Alice@a.example" }, false],
  ["from whole URI with port needs the port", { from: "sip:alice@a.example:5061" }, false],
  ["from suffix on host", { from: { suffix: "example" } }, true],
  ["from suffix respects labels", { from: { suffix: "e.example" } }, false],
  ["from suffix dot form excludes the name itself", { from: { suffix: ".a.example" } }, false],
  ["requestUri regex on URI text", { requestUri: { regex: "^sip:\\+49" } }, true],
  ["requestUri regex no match", { requestUri: { regex: "^sip:\\+33" } }, false],
  ["tel From never matches a host", { from: "a.example" }, false, { from: uri("tel:+4930123") }],
  ["tel From whole URI", { from: "tel:+49-30-123" }, true, { from: uri("tel:+4930123") }],
  ["unparsable From (absent) fails closed", { from: { regex: "" + "." } }, false, { from: undefined }],
  // TLS fields
  ["listener exact", { listener: "public" }, true],
  ["listener case-insensitive", { listener: "PUBLIC" }, true],
  ["listener other", { listener: "partners" }, false],
  ["sni exact", { sni: "edge.example" }, true],
  ["sni suffix", { sni: { suffix: "example" } }, true],
  ["no SNI fails closed", { sni: { regex: ".*" } }, false, { tls: { ...TLS, sni: undefined } }],
  ["caSet exact", { caSet: "fed-a" }, true],
  ["caSet list", { caSet: ["fed-b", "fed-c"] }, false],
  [
    "peer.subject exact, spacing and case ignored",
    { peer: { subject: "o=a telecom,CN=SIP.A.EXAMPLE" } },
    true,
  ],
  ["peer.issuer exact", { peer: { issuer: "C=DE, O=Federation A, CN=Federation A Root" } }, true],
  ["peer.issuer other federation", { peer: { issuer: "C=FR, O=Federation B, CN=Federation B Root" } }, false],
  ["peer.issuer suffix", { peer: { issuer: { suffix: "CN=Federation A Root" } } }, true],
  ["peer.issuer regex", { peer: { issuer: { regex: "O=Federation A," } } }, true],
  ["peer.serial with colons and leading zeros", { peer: { serial: "00:A1:B2:C3:D4" } }, true],
  ["peer.serial other", { peer: { serial: "a1b2c3d5" } }, false],
  [
    "peer.fingerprint colon form",
    { peer: { fingerprint: FP.toUpperCase().replace(/(..)(?!$)/g, "$1:") } },
    true,
  ],
  ["peer.fingerprint other", { peer: { fingerprint: "40".repeat(32) } }, false],
  ["peer.san any entry: DNS", { peer: { san: "sip.a.example" } }, true],
  ["peer.san any entry: URI", { peer: { san: "sip:a.example" } }, true],
  ["peer.san any entry: email", { peer: { san: "ops@a.example" } }, true],
  ["peer.san any entry: IP", { peer: { san: "192.0.2.7" } }, true],
  ["peer.san suffix on hosts", { peer: { san: { suffix: "a.example" } } }, true],
  ["peer.san suffix respects labels", { peer: { san: { suffix: "ba.example" } } }, false],
  ["peer.identity domain", { peer: { identity: "A.Example" } }, true],
  ["peer.identity URI", { peer: { identity: "sip:carol@a.example" } }, true],
  ["peer.identity suffix reaches URI hosts", { peer: { identity: { suffix: ".example" } } }, true],
  ["peer.identity other", { peer: { identity: "b.example" } }, false],
  [
    "no certificate: peer fields fail closed",
    { peer: { subject: { regex: "" + "." } } },
    false,
    { tls: undefined },
  ],
  ["verification", { verification: "pkix+rfc5922" }, true],
  ["verification other", { verification: ["dane-ee", "dane-ta"] }, false],
  ["auth code", { auth: "covered-by-domain" }, true],
  ["auth code other", { auth: "trusted-peer" }, false],
  // AND across fields
  ["AND: all hold", { method: "INVITE", caSet: "fed-a", peer: { identity: "a.example" } }, true],
  ["AND: one fails", { method: "INVITE", caSet: "fed-b", peer: { identity: "a.example" } }, false],
];

for (const [name, match, expected, over] of TABLE) {
  test(`match: ${name}`, () => {
    assert.equal(matches(match, over), expected);
  });
}

test("first deciding match wins; tag-only rules add tags and evaluation goes on", () => {
  const rules = compileRoutingRules([
    { name: "tag-invites", match: { method: "INVITE" }, tags: ["invite"] },
    { name: "fed-b", match: { caSet: "fed-b" }, forward: "fed-b-servers", tags: ["fed-b"] },
    { name: "fed-a", match: { caSet: "fed-a" }, forward: "fed-a-servers", tags: ["fed-a", "invite"] },
    { name: "late", match: {}, reject: { status: 403, reason: "Forbidden" }, tags: ["never"] },
  ]);
  const outcome = rules.evaluate(facts());
  assert.equal(outcome.rule, "fed-a");
  assert.deepEqual(outcome.action, { kind: "forward", to: { kind: "inner", group: "fed-a-servers" } });
  assert.deepEqual(outcome.tags, ["invite", "fed-a"]);
});

test("no deciding rule: no action, tags of the tag-only rules", () => {
  const rules = compileRoutingRules([{ match: { method: "INVITE" }, tags: ["invite"] }]);
  assert.deepEqual(rules.evaluate(facts()), { tags: ["invite"] });
  assert.deepEqual(rules.evaluate(facts({ method: "BYE" })), { tags: [] });
});

test("actions: forward to outside, reject with status, reason and code (default rejected-by-rule)", () => {
  const rules = compileRoutingRules([
    { name: "relay", match: { requestUri: "foreign.example" }, forward: "outside" },
    {
      name: "block",
      match: { from: { suffix: "spam.example" } },
      reject: { status: 603, reason: "Decline" },
    },
    { name: "coded", match: {}, reject: { status: 404, reason: "Not Here", code: "no-such-user" } },
  ]);
  assert.deepEqual(rules.evaluate(facts({ requestUri: uri("sip:x@foreign.example") })).action, {
    kind: "forward",
    to: { kind: "outside" },
  });
  assert.deepEqual(rules.evaluate(facts({ from: uri("sip:x@mail.spam.example") })).action, {
    kind: "reject",
    status: 603,
    reason: "Decline",
    code: "rejected-by-rule",
  });
  const coded = rules.evaluate(facts());
  assert.equal(coded.rule, "coded");
  assert.deepEqual(coded.action, { kind: "reject", status: 404, reason: "Not Here", code: "no-such-user" });
});

test("unnamed rules are named by their position", () => {
  const rules = compileRoutingRules([{ match: { method: "BYE" }, forward: "a" }, { forward: "b" }]);
  assert.equal(rules.evaluate(facts()).rule, "#1");
});

/** [name, rules, expected problem path, message fragment] */
const INVALID: ReadonlyArray<readonly [string, RoutingRuleConfig[], (string | number)[], string]> = [
  [
    "invalid regex",
    [{ match: { from: { regex: "(" } }, forward: "a" }],
    [0, "match", "from", "regex"],
    "invalid regular expression",
  ],
  [
    "invalid regex inside a list",
    [{ match: { peer: { issuer: ["x", { regex: "[" }] } }, forward: "a" }],
    [0, "match", "peer", "issuer", 1, "regex"],
    "invalid regular expression",
  ],
  [
    "bad fingerprint",
    [{ match: { peer: { fingerprint: "abcd" } }, forward: "a" }],
    [0, "match", "peer", "fingerprint"],
    "SHA-256",
  ],
  [
    "suffix fingerprint",
    [{ match: { peer: { fingerprint: { suffix: "abcd" } } }, forward: "a" }],
    [0, "match", "peer", "fingerprint", "suffix"],
    "exact",
  ],
  [
    "bad serial",
    [{ match: { peer: { serial: "xyz" } }, forward: "a" }],
    [0, "match", "peer", "serial"],
    "hex",
  ],
  [
    "unknown verification",
    [{ match: { verification: "dane" }, forward: "a" }],
    [0, "match", "verification"],
    "one of",
  ],
  [
    "unknown auth code",
    [{ match: { auth: "from-not-covered" }, forward: "a" }],
    [0, "match", "auth"],
    "one of",
  ],
  ["bad URI", [{ match: { from: "sip:" }, forward: "a" }], [0, "match", "from"], "not a valid URI"],
  ["bad host", [{ match: { requestUri: "a b" }, forward: "a" }], [0, "match", "requestUri"], "host"],
  [
    "bad suffix",
    [{ match: { sni: { suffix: "a b" } }, forward: "a" }],
    [0, "match", "sni", "suffix"],
    "DNS name",
  ],
  [
    "two matcher kinds",
    [{ match: { sni: { exact: "a", suffix: "b" } as never }, forward: "a" }],
    [0, "match", "sni"],
    "exactly one",
  ],
  ["empty list", [{ match: { method: [] }, forward: "a" }], [0, "match", "method"], "empty"],
  ["unknown match field", [{ match: { user: "x" } as never, forward: "a" }], [0, "match", "user"], "unknown"],
  [
    "unknown peer field",
    [{ match: { peer: { cn: "x" } as never }, forward: "a" }],
    [0, "match", "peer", "cn"],
    "unknown",
  ],
  ["unknown rule key", [{ route: "x", forward: "a" } as never], [0, "route"], "unknown"],
  ["no action", [{ match: { method: "INVITE" } }], [0], "forward, reject or tags"],
  ["forward and reject", [{ forward: "a", reject: { status: 403, reason: "x" } }], [0], "exclusive"],
  ["reject status 2xx", [{ reject: { status: 200, reason: "OK" } }], [0, "reject", "status"], "400-699"],
  [
    "reject reason with CR/LF",
    [{ reject: { status: 403, reason: "No\r\nVia: x" } }],
    [0, "reject", "reason"],
    "control",
  ],
  ["reject bad code", [{ reject: { status: 403, reason: "x", code: "a b" } }], [0, "reject", "code"], "code"],
  ["bad tag", [{ tags: ["a b"] }], [0, "tags", 0], "tag"],
  [
    "bad direction",
    [{ match: { direction: "in" as never }, forward: "a" }],
    [0, "match", "direction"],
    "inbound",
  ],
  [
    "TLS field on an outbound-only rule",
    [{ match: { direction: "outbound", peer: { issuer: "x" } }, forward: "a" }],
    [0, "match", "peer"],
    "never known for outbound",
  ],
  [
    "duplicate names",
    [
      { name: "x", forward: "a" },
      { name: "x", forward: "b" },
    ],
    [1, "name"],
    "also rule 0",
  ],
];

for (const [name, rules, path, fragment] of INVALID) {
  test(`refused at load: ${name}`, () => {
    const problems = checkRoutingRules(rules);
    const problem = problems.find((p) => JSON.stringify(p.path) === JSON.stringify(path));
    assert.ok(problem, `expected a problem at ${JSON.stringify(path)}, got ${JSON.stringify(problems)}`);
    assert.match(problem.message, new RegExp(fragment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    assert.throws(() => compileRoutingRules(rules), RoutingRuleError);
  });
}

test("forward targets are checked against the configured groups; the error names the key", () => {
  const rules: RoutingRuleConfig[] = [{ forward: "default" }, { forward: "outside" }, { forward: "missing" }];
  assert.deepEqual(checkRoutingRules(rules, { groups: ["default"] }), [
    { path: [2, "forward"], message: 'no inner server group "missing" in proxy.innerServers' },
  ]);
  assert.throws(
    () => compileRoutingRules(rules, { groups: ["default"], source: "proxy.routing" }),
    (err: unknown) =>
      err instanceof RoutingRuleError &&
      err.code === "routing-rule-invalid" &&
      err.message.includes('proxy.routing[2].forward: no inner server group "missing"'),
  );
});
