// DNS names as RFC 5922 §7.2 compares them (pki/dns-name.ts): syntax, IP literals, legacy wildcards.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dnsNameProblem, isDnsName, isIpLiteral, isLegacyWildcard } from "../../../src/pki/dns-name.js";

describe("DNS name helpers", () => {
  const dns: Array<[string, boolean]> = [
    ["example.com", true],
    ["a.b.c.example", true],
    ["localhost", true],
    ["_sip._tcp.example.com", true],
    ["xn--bcher-kva.example", true],
    ["-lead.example", false],
    ["trail-.example", false],
    ["a..b", false],
    ["", false],
    ["*.example.com", false],
    [`${"a".repeat(64)}.example`, false],
    [`${"a.".repeat(127)}a`, false],
    ["1.2.3.4", false],
    ["example.123", false],
  ];
  for (const [name, ok] of dns)
    it(`isDnsName(${JSON.stringify(name.slice(0, 30))}) = ${ok}`, () => assert.equal(isDnsName(name), ok));

  const ip: Array<[string, boolean]> = [
    ["192.0.2.1", true],
    ["256.0.0.1", false],
    ["01.2.3.4", false],
    ["::1", true],
    ["[::1]", true],
    ["2001:db8::1", true],
    ["::ffff:192.0.2.1", true],
    ["1:2:3:4:5:6:7:8", true],
    ["1:2:3:4:5:6:7:8:9", false],
    ["1:::2", false],
    ["2001:db8::1::2", false],
    ["example.com", false],
  ];
  for (const [text, ok] of ip) it(`isIpLiteral(${text}) = ${ok}`, () => assert.equal(isIpLiteral(text), ok));

  it("isLegacyWildcard accepts only a whole left-most '*' label over at least two labels", () => {
    assert.equal(isLegacyWildcard("*.example.com"), true);
    assert.equal(isLegacyWildcard("*.com"), false);
    assert.equal(isLegacyWildcard("f*.example.com"), false);
    assert.equal(isLegacyWildcard("*.*.example.com"), false);
    assert.equal(isLegacyWildcard("a.*.example.com"), false);
  });
});

describe("dnsNameProblem names the first rule a name breaks", () => {
  const table: Array<[string, ReturnType<typeof dnsNameProblem>]> = [
    ["example.com", undefined],
    ["_sip._tcp.example.com", undefined],
    ["", { code: "empty" }],
    [`${"a.".repeat(127)}a`, { code: "too-long" }],
    ["a..example", { code: "empty-label" }],
    [`${"a".repeat(64)}.example`, { code: "label-too-long", label: "a".repeat(64) }],
    ["-lead.example", { code: "bad-label", label: "-lead" }],
    ["example.123", { code: "numeric-tld" }],
  ];
  for (const [name, problem] of table) {
    it(`${JSON.stringify(name.slice(0, 30))} → ${problem?.code ?? "ok"}`, () =>
      assert.deepEqual(dnsNameProblem(name), problem));
  }

  it("ldhOnly refuses the '_' that service labels use (RFC 3261 §25.1 hostname)", () => {
    assert.equal(dnsNameProblem("_sip._tcp.example.com"), undefined);
    assert.deepEqual(dnsNameProblem("_sip._tcp.example.com", { ldhOnly: true }), {
      code: "bad-label",
      label: "_sip",
    });
    assert.deepEqual(dnsNameProblem("exa_mple.com", { ldhOnly: true }), {
      code: "bad-label",
      label: "exa_mple",
    });
    assert.equal(dnsNameProblem("example.com", { ldhOnly: true }), undefined);
  });
});
