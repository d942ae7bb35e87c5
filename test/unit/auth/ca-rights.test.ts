import { test } from "node:test";
import assert from "node:assert/strict";
import {
  applyCaRights,
  CaRightsError,
  compileCaRights,
  type CaRightsConfig,
  type IssuingCa,
} from "../../../src/auth/ca-rights.js";
import { identityText } from "../../../src/auth/identity.js";
import { peerIdentitiesFromParts } from "../../../src/auth/peer.js";
import { colonForm, domain, FED_A, FED_A_SUB, FED_B, uri } from "./fixtures.js";

function kept(config: CaRightsConfig, names: string[], issuers: readonly IssuingCa[]): string[] {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: names.map((n) => (n.startsWith("sip:") ? uri(n) : domain(n))),
    subjectCns: [],
    issuers,
  });
  const result = applyCaRights(peer.identities, peer.issuers, compileCaRights(config));
  for (const d of result.dropped) assert.equal(d.code, "ca-not-authorized-for-domain");
  assert.equal(result.effective.length + result.dropped.length, peer.identities.length);
  return result.effective.map(identityText);
}

const FED_A_RULE: CaRightsConfig = {
  rules: [
    { ca: { fingerprint: FED_A.fingerprint }, domains: ["fed-a.example", "suffix: members.fed-a.example"] },
  ],
};

test("exact entries match only the name; suffix entries only proper subdomains at a label boundary", () => {
  const names = [
    "fed-a.example", // exact entry
    "FED-A.example.", // same, after normalization
    "x.fed-a.example", // not a subdomain rule for the apex
    "members.fed-a.example", // the suffix apex itself is NOT included
    "acme.members.fed-a.example", // proper subdomain
    "deep.acme.members.fed-a.example", // any depth
    "evilmembers.fed-a.example", // no label boundary
    "fed-b.example",
  ];
  assert.deepEqual(kept(FED_A_RULE, names, [FED_A]), [
    "fed-a.example",
    "acme.members.fed-a.example",
    "deep.acme.members.fed-a.example",
  ]);
});

test("the rule applies wherever the CA is in the chain, and only to chains containing it", () => {
  assert.deepEqual(kept(FED_A_RULE, ["fed-b.example"], [FED_A_SUB, FED_A]), []);
  assert.deepEqual(kept(FED_A_RULE, ["fed-b.example"], [FED_B]), ["fed-b.example"]);
});

test("URI identities are judged by their host; IP hosts are never within a restricted CA's rights", () => {
  const names = ["sip:bob@fed-a.example", "sip:eve@evil.example", "sip:ip@192.0.2.1"];
  assert.deepEqual(kept(FED_A_RULE, names, [FED_A]), ["sip:bob@fed-a.example"]);
});

test("fingerprints are accepted in colon form; CAs can be named by subject DN in RFC 4514 order", () => {
  const byColon: CaRightsConfig = {
    rules: [{ ca: { fingerprint: colonForm(FED_A.fingerprint) }, domains: ["a.example"] }],
  };
  assert.deepEqual(kept(byColon, ["a.example", "b.example"], [FED_A]), ["a.example"]);
  const byName: CaRightsConfig = {
    rules: [{ ca: { name: "cn=fed a  root, O=Fed A, C=DE" }, domains: ["a.example"] }],
  };
  assert.deepEqual(kept(byName, ["a.example", "b.example"], [FED_A]), ["a.example"]);
  // Another CA of the same organisation is a different name.
  assert.deepEqual(kept(byName, ["a.example", "b.example"], [FED_A_SUB]), ["a.example", "b.example"]);
});

test("when several rules apply, every one must allow the domain", () => {
  const config: CaRightsConfig = {
    rules: [
      { ca: { fingerprint: FED_A.fingerprint }, domains: ["suffix: fed-a.example"] },
      { ca: { name: "CN=Fed A Issuing 1,O=Fed A,C=DE" }, domains: ["one.fed-a.example", "other.example"] },
    ],
  };
  assert.deepEqual(
    kept(config, ["one.fed-a.example", "two.fed-a.example", "other.example"], [FED_A_SUB, FED_A]),
    ["one.fed-a.example"],
  );
});

test("unlisted CAs: allowed by default, everything dropped with unlistedCas deny", () => {
  assert.deepEqual(kept(FED_A_RULE, ["b.example"], [FED_B]), ["b.example"]);
  assert.deepEqual(kept({ ...FED_A_RULE, unlistedCas: "deny" }, ["b.example"], [FED_B]), []);
  assert.deepEqual(kept({ ...FED_A_RULE, unlistedCas: "deny" }, ["fed-a.example"], [FED_A]), [
    "fed-a.example",
  ]);
});

test("a dropped identity carries the reason code and names the CA and the domain", () => {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: [domain("evil.example")],
    subjectCns: [],
    issuers: [FED_A],
  });
  const { dropped } = applyCaRights(peer.identities, peer.issuers, compileCaRights(FED_A_RULE));
  assert.equal(dropped.length, 1);
  assert.equal(dropped[0]?.code, "ca-not-authorized-for-domain");
  assert.match(dropped[0]?.detail ?? "", /evil\.example/);
  assert.match(dropped[0]?.detail ?? "", new RegExp(FED_A.fingerprint.slice(0, 16)));
});

test("invalid configuration: every problem is reported together", () => {
  const config = {
    rules: [
      { ca: { fingerprint: "abc" }, domains: ["*.fed-a.example", "ok.example"] },
      { ca: { name: "not a dn" }, domains: [] },
      { ca: { name: "CN=X" }, domains: [".fed-b.example", "192.0.2.7", "suffix: bad_label.example"] },
    ],
    unlistedCas: "maybe",
  } as unknown as CaRightsConfig;
  assert.throws(
    () => compileCaRights(config, "policy.caRights"),
    (err: unknown) => {
      assert.ok(err instanceof CaRightsError);
      assert.equal(err.code, "ca-rights-invalid");
      assert.deepEqual(
        err.problems.map((p) => p.split(":")[0]),
        [
          "policy.caRights.rules[0].ca.fingerprint",
          "policy.caRights.rules[0].domains[0]",
          "policy.caRights.rules[1].ca.name",
          "policy.caRights.rules[1].domains",
          "policy.caRights.rules[2].domains[0]",
          "policy.caRights.rules[2].domains[1]",
          "policy.caRights.rules[2].domains[2]",
          "policy.caRights.unlistedCas",
        ],
      );
      assert.match(err.problems[1] ?? "", /write "suffix: fed-a\.example"/);
      assert.match(err.problems[4] ?? "", /write "suffix: fed-b\.example"/);
      return true;
    },
  );
});

test("a configuration of the wrong shape is a typed error, not a crash", () => {
  for (const bad of [
    { rules: "x" },
    { rules: [{ ca: {}, domains: ["a.example"] }] },
    { rules: [{ ca: { fingerprint: 1 }, domains: {} }] },
  ]) {
    assert.throws(() => compileCaRights(bad as unknown as CaRightsConfig), CaRightsError);
  }
});
