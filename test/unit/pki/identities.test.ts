// RFC 5922 §7.1 identity extraction, rule by rule and each rule's negation, over generated certificates.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate, type CertificateOptions } from "../../../src/pki/issue.js";
import { extractSipIdentities, type IdentityOptions, type SipIdentity } from "../../../src/pki/identities.js";
import { contextTag, sequence } from "../../../src/pki/der-writer.js";

const ca = createCa();

function identitiesOf(options: CertificateOptions, idOptions?: IdentityOptions) {
  return extractSipIdentities(issueCertificate(ca, options).certificate, idOptions);
}

const d = (value: string, source: SipIdentity["source"]): SipIdentity => ({ kind: "domain", value, source });
const u = (value: string, source: SipIdentity["source"]): SipIdentity => ({ kind: "uri", value, source });

interface Case {
  name: string;
  cert: CertificateOptions;
  options?: IdentityOptions;
  expect: SipIdentity[];
}

const cases: Case[] = [
  {
    name: "sip: URI without user part is a domain identity",
    cert: { cn: "cn.example", san: { uri: ["sip:example.com"] } },
    expect: [d("example.com", "san-uri")],
  },
  {
    name: "sip: domain URI suppresses dNSName entries",
    cert: { san: { uri: ["sip:example.com"], dns: ["other.example"] } },
    expect: [d("example.com", "san-uri")],
  },
  {
    name: "sip: URI with user part is a URI identity, not a domain identity",
    cert: { san: { uri: ["sip:bob@example.com"] } },
    expect: [u("sip:bob@example.com", "san-uri")],
  },
  {
    name: "URI with user part only + DNS: the DNS entry counts",
    cert: { san: { uri: ["sip:bob@example.com"], dns: ["example.com"] } },
    expect: [u("sip:bob@example.com", "san-uri"), d("example.com", "san-dns")],
  },
  {
    name: "sips: URI is ignored (and does not suppress DNS)",
    cert: { san: { uri: ["sips:example.com"], dns: ["dns.example"] } },
    expect: [d("dns.example", "san-dns")],
  },
  {
    name: "other schemes are ignored",
    cert: {
      san: { uri: ["https://example.com/", "tel:+15551234", "mailto:a@example.com"], dns: ["dns.example"] },
    },
    expect: [d("dns.example", "san-dns")],
  },
  {
    name: "scheme is case-insensitive, host lower-cased, port and params dropped",
    cert: { san: { uri: ["SIP:Example.COM:5061;transport=tls"] } },
    expect: [d("example.com", "san-uri")],
  },
  {
    name: "sip: URI with an IP host is not a domain identity",
    cert: { san: { uri: ["sip:192.0.2.1"], dns: ["dns.example"] } },
    expect: [d("dns.example", "san-dns")],
  },
  {
    name: "dNSName entries count when no URI exists",
    cert: { cn: "cn.example", san: { dns: ["a.example", "B.Example."] } },
    expect: [d("a.example", "san-dns"), d("b.example", "san-dns")],
  },
  {
    name: "CN used only when there is no SAN at all",
    cert: { cn: "cn.example" },
    expect: [d("cn.example", "cn")],
  },
  {
    name: "SAN present without URI/DNS: CN not used",
    cert: { cn: "cn.example", san: { ip: ["192.0.2.1"] } },
    expect: [],
  },
  {
    name: "SAN with only an email: CN not used, email ignored by default",
    cert: { cn: "cn.example", san: { email: ["alice@example.com"] } },
    expect: [],
  },
  {
    name: "SAN with only a sips: URI: CN not used",
    cert: { cn: "cn.example", san: { uri: ["sips:example.com"] } },
    expect: [],
  },
  {
    name: "CN that is not a DNS name is not an identity",
    cert: { cn: "00:11:22:33:44:55" },
    expect: [],
  },
  {
    name: "CN that is an IP literal is not an identity",
    cert: { cn: "192.0.2.7" },
    expect: [],
  },
  {
    name: "IDN dNSName is kept as A-label",
    cert: { san: { dns: ["xn--bcher-kva.example"] } },
    expect: [d("xn--bcher-kva.example", "san-dns")],
  },
  {
    name: "IDN CN (UTF-8) becomes its A-label",
    cert: { cn: "bücher.example" },
    expect: [d("xn--bcher-kva.example", "cn")],
  },
  {
    name: "wildcard dNSName is kept as a literal identity",
    cert: { san: { dns: ["*.example.com"] } },
    expect: [d("*.example.com", "san-dns")],
  },
  {
    name: "emailAsSip turns email SAN into a URI identity",
    cert: { san: { email: ["alice@Example.com"], dns: ["example.com"] } },
    options: { emailAsSip: true },
    expect: [d("example.com", "san-dns"), u("sip:alice@example.com", "san-email")],
  },
  {
    name: "duplicates are reported once",
    cert: { san: { uri: ["sip:example.com", "sip:EXAMPLE.com"] } },
    expect: [d("example.com", "san-uri")],
  },
  {
    name: "password in a SAN sip: URI never reaches the identity",
    cert: { san: { uri: ["sip:bob:secret@example.com"] } },
    expect: [u("sip:bob@example.com", "san-uri")],
  },
];

describe("RFC 5922 §7.1 identity extraction", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(identitiesOf(c.cert, c.options).identities, c.expect);
    });
  }

  it("reports the raw SAN lists, including entries that are not identities", () => {
    const r = identitiesOf({
      san: {
        uri: ["sips:a.example", "sip:b.example"],
        dns: ["c.example"],
        email: ["e@x.example"],
        ip: ["2001:db8::1", "10.0.0.1"],
      },
    });
    assert.deepEqual(r.san, {
      uri: ["sips:a.example", "sip:b.example"],
      dns: ["c.example"],
      email: ["e@x.example"],
      ip: ["2001:db8::1", "10.0.0.1"],
    });
  });

  it("warns about a sips: URI and about a legacy wildcard accepted by opt-in", () => {
    assert.match(
      identitiesOf({ san: { uri: ["sips:a.example"] } }).warnings.join("\n"),
      /sips:a\.example ignored/,
    );
    const wild = identitiesOf({ san: { dns: ["*.example.com"] } }, { legacyWildcards: true });
    assert.match(wild.warnings.join("\n"), /legacy wildcard identity \*\.example\.com/);
    assert.deepEqual(identitiesOf({ san: { dns: ["*.example.com"] } }).warnings, []);
  });

  it("never turns a dNSName with an embedded NUL or non-ASCII byte into an identity", () => {
    const nul = contextTag(2, Buffer.from("example.com\0.evil.example", "latin1"), false);
    const high = contextTag(2, Buffer.from([0x65, 0xe9, 0x2e, 0x63, 0x6f, 0x6d]), false);
    const r = identitiesOf({ cn: "cn.example", san: { raw: [nul, high] } });
    assert.deepEqual(r.identities, []); // the SAN exists, so the CN is not a fallback either
    assert.equal(r.warnings.length, 2);
  });

  it("treats a malformed SAN extension as present and unusable (no CN fallback)", () => {
    const r = identitiesOf({
      cn: "cn.example",
      extensions: [{ oid: "2.5.29.17", value: Buffer.from([0x30, 0x05, 0x82, 0x09, 0x61]) }],
    });
    assert.deepEqual(r.identities, []);
    assert.match(r.warnings.join("\n"), /subjectAltName unreadable/);
  });

  it("refuses a certificate carrying two subjectAltName extensions (RFC 5280 §4.2)", () => {
    const second = sequence(contextTag(2, Buffer.from("evil.example"), false));
    const r = identitiesOf({
      san: { dns: ["good.example"] },
      extensions: [{ oid: "2.5.29.17", value: second }],
    });
    assert.deepEqual(r.identities, []);
    assert.match(r.warnings.join("\n"), /appears 2 times/);
  });
});
