// Classification of subjectAltName URIs for RFC 5922 §7.1.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { classifySanUri } from "../../../src/pki/san-uri.js";

describe("classifySanUri", () => {
  const table: Array<[string, ReturnType<typeof classifySanUri>["kind"], string?]> = [
    ["sip:example.com", "sip-domain", "example.com"],
    ["SIP:EXAMPLE.COM", "sip-domain", "example.com"],
    ["sip:example.com:5060", "sip-domain", "example.com"],
    ["sip:example.com;transport=tcp?subject=x", "sip-domain", "example.com"],
    ["sip:XN--BCHER-KVA.example.", "sip-domain", "xn--bcher-kva.example"],
    // RFC 5280 §7.4: a SAN URI carries A-labels; a U-label is not URI text (san.ts drops non-IA5 bytes first).
    ["sip:bücher.example", "invalid"],
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
