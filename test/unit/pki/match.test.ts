// RFC 5922 §7.2 matching of a SIP domain against certificate identities.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matchSipDomain, normalizeDomain, type SipIdentity } from "../../../src/pki/identities.js";

const dom = (value: string): SipIdentity => ({ kind: "domain", value, source: "san-uri" });

describe("normalizeDomain", () => {
  const table: Array<[string, string]> = [
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["BÜCHER.example.", "xn--bcher-kva.example"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["*.Example.com", "*.example.com"],
  ];
  for (const [input, expected] of table) {
    it(`${input} → ${expected}`, () => assert.equal(normalizeDomain(input), expected));
  }
});

describe("RFC 5922 §7.2 matchSipDomain", () => {
  const yes: Array<[string, string[], string]> = [
    ["exact", ["example.com"], "example.com"],
    ["case-insensitive", ["example.com"], "EXAMPLE.Com"],
    ["identity case-insensitive", ["Example.COM"], "example.com"],
    ["trailing dot on target", ["example.com"], "example.com."],
    ["trailing dot on identity", ["example.com."], "example.com"],
    ["IDN U-label target vs A-label identity", ["xn--bcher-kva.example"], "bücher.example"],
    ["IDN A-label target vs U-label identity", ["bücher.example"], "xn--bcher-kva.example"],
  ];
  for (const [name, ids, target] of yes) {
    it(`matches: ${name}`, () => {
      const r = matchSipDomain(ids.map(dom), target);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (r.ok) assert.equal(r.via, "exact");
    });
  }

  it("a wildcard target is refused: '*' cannot be in a SIP host name (RFC 3261 §25.1)", () => {
    const r = matchSipDomain([dom("*.example.com")], "*.example.com");
    assert.deepEqual([r.ok, r.code], [false, "bad-domain"]);
  });

  const no: Array<[string, string[], string, string]> = [
    ["no suffix match", ["example.com"], "sip.example.com", "rfc5922-no-match"],
    ["no prefix match", ["sip.example.com"], "example.com", "rfc5922-no-match"],
    ["label boundary", ["ample.com"], "example.com", "rfc5922-no-match"],
    ["wildcard is literal by default", ["*.example.com"], "foo.example.com", "rfc5922-no-match"],
    ["leading dot is literal", [".example.com"], "foo.example.com", "rfc5922-no-match"],
    ["IPv4 literal never matches", ["192.0.2.1"], "192.0.2.1", "ip-literal"],
    ["IPv6 literal never matches", ["::1"], "[::1]", "ip-literal"],
    ["garbage target", ["example.com"], "exa mple.com", "bad-domain"],
    ["empty target", ["example.com"], "", "bad-domain"],
  ];
  for (const [name, ids, target, code] of no) {
    it(`no match: ${name}`, () => {
      const r = matchSipDomain(ids.map(dom), target);
      assert.equal(r.ok, false);
      assert.equal(r.code, code);
    });
  }

  it("URI identities are never consulted for domain matching", () => {
    const r = matchSipDomain(
      [{ kind: "uri", value: "sip:bob@example.com", source: "san-uri" }],
      "example.com",
    );
    assert.deepEqual([r.ok, r.code], [false, "no-domain-identities"]);
  });

  it("reports which identity matched", () => {
    const r = matchSipDomain([dom("a.example"), dom("b.example")], "B.example");
    assert.ok(r.ok);
    assert.deepEqual(r.matched, dom("b.example"));
  });

  describe("legacyWildcards opt-in (RFC 6125 §6.4.3)", () => {
    const opt = { legacyWildcards: true };
    it("matches exactly one left-most label, with a warning", () => {
      const r = matchSipDomain([dom("*.example.com")], "foo.example.com", opt);
      assert.ok(r.ok);
      assert.equal(r.via, "legacy-wildcard");
      assert.match(r.warning ?? "", /legacy wildcard/);
    });
    const refused: Array<[string, string]> = [
      ["two labels", "a.b.example.com"],
      ["the bare parent", "example.com"],
      ["another domain", "foo.example.net"],
    ];
    for (const [name, target] of refused) {
      it(`does not match ${name}`, () =>
        assert.equal(matchSipDomain([dom("*.example.com")], target, opt).ok, false));
    }
    it("never matches a partial-label wildcard", () => {
      assert.equal(matchSipDomain([dom("f*.example.com")], "foo.example.com", opt).ok, false);
    });
    it("never matches a wildcard over a public-suffix-like single label", () => {
      assert.equal(matchSipDomain([dom("*.com")], "example.com", opt).ok, false);
    });
    it("an exact identity wins over a wildcard", () => {
      const r = matchSipDomain([dom("*.example.com"), dom("foo.example.com")], "foo.example.com", opt);
      assert.ok(r.ok);
      assert.equal(r.via, "exact");
    });
  });
});
