/**
 * The federation example of docs/routing.md, run as written: its YAML is validated by the real schema, its
 * CA rights compiled, and requests from peers of both federations decided by the policy it configures.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { compileCaRights, type CaRightsConfig } from "../../../../src/auth/ca-rights.js";
import { issueCertificate } from "../../../../src/pki/issue.js";
import { proxySchema } from "../../../../src/config/proxy-schema.js";
import { createRequestPolicy, type PolicyDecision } from "../../../../src/proxy/policy/request-policy.js";
import { chainOf, fakeInbound, inboundFlow, INNER_FLOW, request, testPki } from "./fixtures.js";

function federationExample(): { proxy: unknown; authorization: { caRights: CaRightsConfig } } {
  const doc = readFileSync(new URL("../../../../docs/routing.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("## Federation example"));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, "docs/routing.md has the federation example");
  return parse(block) as { proxy: unknown; authorization: { caRights: CaRightsConfig } };
}

function summary(d: PolicyDecision): string {
  if (d.action === "reject") return `reject ${d.status} ${d.code} [${d.tags.join(",")}]`;
  const to = d.to.kind === "inner" ? d.to.group : "outside";
  return `forward ${to} ${d.rule ?? "-"} [${d.tags.join(",")}]`;
}

test("docs/routing.md federation example: A → fed-a, B → fed-b, B MESSAGE refused, premium blocked", () => {
  const example = federationExample();
  const proxy = proxySchema.parse(example.proxy);
  const caRights = compileCaRights(example.authorization.caRights);
  const policy = createRequestPolicy({
    rules: proxy.routing,
    groups: Object.keys(proxy.innerServers),
    authorization: { caRights },
  });
  const { fedA, fedB } = testPki();
  const member = (ca: typeof fedA, domain: string) =>
    inboundFlow(
      fakeInbound(chainOf(issueCertificate(ca, { cn: domain, san: { uri: [`sip:${domain}`] } }), ca)),
      "public",
      "feds",
    );
  const a = member(fedA, "a.fed-a.example");
  const b = member(fedB, "b.fed-b.example");
  const from = (domain: string) => `<sip:alice@${domain}>;tag=1`;
  assert.equal(
    summary(policy.decide(a, request({ from: from("a.fed-a.example") }))),
    "forward fed-a federation-a [call,fed-a]",
  );
  assert.equal(
    summary(policy.decide(b, request({ from: from("b.fed-b.example") }))),
    "forward fed-b federation-b [call,fed-b]",
  );
  assert.equal(
    summary(policy.decide(b, request({ method: "MESSAGE", from: from("b.fed-b.example") }))),
    "reject 488 fed-b-no-message [call]",
  );
  assert.equal(
    summary(policy.decide(a, request({ method: "OPTIONS", from: from("a.fed-a.example") }))),
    "forward fed-a federation-a [fed-a]",
  );
  // Federation B's CA may not vouch for a federation A domain (CA rights), whatever its certificate says.
  const forged = member(fedB, "x.fed-a.example");
  assert.equal(
    summary(policy.decide(forged, request({ from: from("x.fed-a.example") }))),
    "reject 403 from-not-covered []",
  );
  // Outbound: premium numbers blocked, the rest goes outside.
  assert.equal(
    summary(policy.decide(INNER_FLOW, request({ uri: "sip:+19005550100@carrier.example;user=phone" }))),
    "reject 403 premium []",
  );
  assert.equal(
    summary(policy.decide(INNER_FLOW, request({ uri: "sip:carol@b.fed-b.example" }))),
    "forward outside - []",
  );
});
