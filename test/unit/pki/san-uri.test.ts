// Classification of subjectAltName URIs for RFC 5922 §7.1, and the DNS-name helpers behind it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { classifySanUri } from "../../../src/pki/san-uri.js";
import { isDnsName, isIpLiteral, isLegacyWildcard } from "../../../src/pki/dns-name.js";

describe("classifySanUri", () => {
  const table: Array<[string, ReturnType<typeof classifySanUri>["kind"], string?]> = [
    ["sip:example.com", "sip-domain", "example.com"],
    ["SIP:EXAMPLE.COM", "sip-domain", "example.com"],
    ["sip:example.com:5060", "sip-domain", "example.com"],
    ["sip:example.com;transport=tcp?subject=x", "sip-domain", "example.com"],
    ["sip:bücher.example", "sip-domain", "xn--bcher-kva.example"],
    ["sip:bob@example.com", "sip-user", "sip:bob@example.com"],
    ["sip:bob@EXAMPLE.com:5060;transport=tls", "sip-user", "sip:bob@example.com"],
    ["sip:bob:pw@example.com", "sip-user", "sip:bob@example.com"],
    ["sip:%62ob@example.com", "sip-user", "sip:%62ob@example.com"],
    ["sip:+15551234;phone-context=x@gw.example", "sip-user", "sip:+15551234;phone-context=x@gw.example"],
    ["sip:alice@192.0.2.1", "sip-user", "sip:alice@192.0.2.1"],
    ["sips:example.com", "other-scheme"],
    ["https://example.com", "other-scheme"],
    ["tel:+15551234", "other-scheme"],
    ["sip:", "invalid"],
    ["sip:192.0.2.1", "invalid"],
    ["sip:[2001:db8::1]", "invalid"],
    ["sip:example.com:http", "invalid"],
    ["sip:exa_mple..com", "invalid"],
    ["sip:@example.com", "invalid"],
    ["sip:bob@", "invalid"],
    ["sip:bob@-bad-.example", "invalid"],
    ["example.com", "invalid"],
  ];
  for (const [input, kind, value] of table) {
    it(`${input} → ${kind}${value ? ` ${value}` : ""}`, () => {
      const c = classifySanUri(input);
      assert.equal(c.kind, kind, JSON.stringify(c));
      if (c.kind === "sip-domain") assert.equal(c.host, value);
      if (c.kind === "sip-user") assert.equal(c.uri, value);
    });
  }
});

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
