// RFC 5280 §4.2.1.10 name constraints, unit level (matching rules) and through validateChain.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateChain, type ChainResult } from "../../../src/pki/chain.js";
import { createCa, issueCertificate, type CertificateOptions } from "../../../src/pki/issue.js";
import { dnsWithin, uriHost } from "../../../src/pki/name-constraints.js";
import { generalName, intermediate, nameConstraints } from "./chain-fixtures.js";

describe("dNSName subtree matching", () => {
  const cases: Array<[name: string, constraint: string, within: boolean]> = [
    ["example.com", "example.com", true],
    ["sip.example.com", "example.com", true],
    ["a.b.example.com", "example.com", true],
    ["SIP.Example.COM.", "example.com", true],
    ["badexample.com", "example.com", false],
    ["example.com", ".example.com", false],
    ["sip.example.com", ".example.com", true],
    ["example.org", "example.com", false],
    ["anything.test", "", true],
  ];
  for (const [name, constraint, within] of cases) {
    it(`${name} ${within ? "within" : "outside"} "${constraint}"`, () =>
      assert.equal(dnsWithin(name, constraint), within));
  }
});

describe("URI host extraction (RFC 3986 and RFC 3261 forms)", () => {
  const cases: Array<[uri: string, host: string | undefined]> = [
    ["sip:example.com", "example.com"],
    ["sip:alice@Example.COM:5061;transport=tls", "example.com"],
    ["sips:proxy.example.com?subject=x", "proxy.example.com"],
    ["https://user:pw@www.example.com:8443/path", "www.example.com"],
    ["sip:[2001:db8::1]", undefined],
    ["sip:192.0.2.1", undefined],
    ["urn:uuid:1234", undefined],
    ["no-scheme", undefined],
  ];
  for (const [uri, host] of cases) it(`${uri} → ${host}`, () => assert.equal(uriHost(uri), host));
});

/** root → CA with `constraints` → leaf with `leaf` options. */
function underConstraints(
  constraints: ReturnType<typeof nameConstraints>,
  leaf: CertificateOptions,
): ChainResult {
  const root = createCa({ cn: "NC Root" });
  const ca = intermediate(root, "NC CA", { extensions: [constraints] });
  const cert = issueCertificate(ca, leaf);
  return validateChain({
    leaf: cert.certificate,
    intermediates: [ca.certificate],
    anchors: [{ cert: root.certificate }],
  });
}

const verdict = (r: ChainResult) => (r.ok ? "valid" : `${r.code}@${r.depth}`);

describe("name constraints through validateChain", () => {
  const permitDns = nameConstraints([generalName("dns", "example.com")]);
  const permitSipHosts = nameConstraints([generalName("uri", ".example.com")]);
  const excludeUriHost = nameConstraints([], [generalName("uri", "evil.example.com")]);
  const permitIp = nameConstraints([generalName("ip", "192.0.2.0/255.255.255.0")]);
  const permitEmail = nameConstraints([generalName("email", "example.com")]);
  const permitDn = nameConstraints([generalName("dn", [["2.5.4.10", "Example"]])]);

  const cases: Array<
    [label: string, nc: ReturnType<typeof nameConstraints>, leaf: CertificateOptions, expect: string]
  > = [
    ["DNS SAN inside permitted", permitDns, { cn: "x", san: { dns: ["sip.example.com"] } }, "valid"],
    [
      "DNS SAN outside permitted",
      permitDns,
      { cn: "x", san: { dns: ["sip.example.org"] } },
      "name-constraint@0",
    ],
    [
      "one DNS SAN of two outside",
      permitDns,
      { cn: "x", san: { dns: ["a.example.com", "b.example.net"] } },
      "name-constraint@0",
    ],
    ["CN fallback: no SAN, host-like CN outside", permitDns, { cn: "sip.evil.org" }, "name-constraint@0"],
    ["CN fallback: no SAN, CN inside", permitDns, { cn: "sip.example.com" }, "valid"],
    ["CN not a host name is not checked", permitDns, { cn: "Alice Device 42" }, "valid"],
    [
      "CN ignored when a DNS SAN exists",
      permitDns,
      { cn: "sip.evil.org", san: { dns: ["sip.example.com"] } },
      "valid",
    ],
    [
      "sip: SAN URI host in permitted domain",
      permitSipHosts,
      { cn: "x", san: { uri: ["sip:example.sub.example.com"] } },
      "valid",
    ],
    [
      "sip: SAN URI host outside",
      permitSipHosts,
      { cn: "x", san: { uri: ["sip:example.org"] } },
      "name-constraint@0",
    ],
    [
      "'.example.com' excludes the apex itself",
      permitSipHosts,
      { cn: "x", san: { uri: ["sip:example.com"] } },
      "name-constraint@0",
    ],
    [
      "URI without host under a URI permit",
      permitSipHosts,
      { cn: "x", san: { uri: ["urn:x:y"] } },
      "name-constraint@0",
    ],
    [
      "excluded sip: URI host",
      excludeUriHost,
      { cn: "x", san: { uri: ["sip:bob@evil.example.com"] } },
      "name-constraint@0",
    ],
    [
      "excluded host does not cover siblings",
      excludeUriHost,
      { cn: "x", san: { uri: ["sip:good.example.com"] } },
      "valid",
    ],
    [
      "DNS names unaffected by URI constraints",
      permitSipHosts,
      { cn: "x", san: { dns: ["other.net"] } },
      "valid",
    ],
    ["IP SAN inside", permitIp, { cn: "x", san: { ip: ["192.0.2.7"] } }, "valid"],
    ["IP SAN outside", permitIp, { cn: "x", san: { ip: ["198.51.100.7"] } }, "name-constraint@0"],
    ["email SAN inside", permitEmail, { cn: "x", san: { email: ["bob@example.com"] } }, "valid"],
    ["email SAN outside", permitEmail, { cn: "x", san: { email: ["bob@example.org"] } }, "name-constraint@0"],
    [
      "subject emailAddress checked too",
      permitEmail,
      {
        subject: [
          ["CN", "x"],
          ["emailAddress", "eve@evil.org"],
        ],
      },
      "name-constraint@0",
    ],
    [
      "directoryName prefix inside",
      permitDn,
      {
        subject: [
          ["O", "Example"],
          ["CN", "x"],
        ],
      },
      "valid",
    ],
    [
      "directoryName prefix outside",
      permitDn,
      {
        subject: [
          ["O", "Other"],
          ["CN", "x"],
        ],
      },
      "name-constraint@0",
    ],
    [
      "subtree minimum/maximum is unsupported and fails closed",
      nameConstraints([generalName("dns", "example.com")], [], { maximum: 2 }),
      { cn: "x", san: { dns: ["sip.example.com"] } },
      "name-constraint@0",
    ],
    [
      "a non-zero subtree minimum fails closed too",
      nameConstraints([generalName("dns", "example.com")], [], { minimum: 1 }),
      { cn: "x", san: { dns: ["sip.example.com"] } },
      "name-constraint@0",
    ],
    [
      "an explicit zero minimum is the default and accepted",
      nameConstraints([generalName("dns", "example.com")], [], { minimum: 0 }),
      { cn: "x", san: { dns: ["sip.example.com"] } },
      "valid",
    ],
  ];
  for (const [label, nc, leaf, expect] of cases) {
    it(`${label} → ${expect}`, () => {
      const result = underConstraints(nc, leaf);
      assert.equal(verdict(result), expect, result.ok ? "" : result.detail);
    });
  }

  it("constraints of the anchor certificate apply as well, and reach intermediates", () => {
    const root = createCa({
      cn: "NC Root",
      extensions: [nameConstraints([generalName("dn", [["2.5.4.10", "Example"]])])],
    });
    const ca = intermediate(root, "Outside CA");
    const leaf = issueCertificate(ca, { cn: "x" });
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [ca.certificate],
      anchors: [{ cert: root.certificate }],
    });
    assert.equal(verdict(result), "name-constraint@1");
  });

  it("a self-issued intermediate is exempt (§6.1.3 (b)), its leaf is not", () => {
    const root = createCa({ cn: "NC Root" });
    const ca = intermediate(root, "Rollover", {
      extensions: [nameConstraints([generalName("dns", "example.com")])],
    });
    const rollover = intermediate(ca, "Rollover");
    const good = issueCertificate(rollover, { cn: "x", san: { dns: ["a.example.com"] } });
    const bad = issueCertificate(rollover, { cn: "x", san: { dns: ["a.example.net"] } });
    const input = {
      intermediates: [ca.certificate, rollover.certificate],
      anchors: [{ cert: root.certificate }],
    };
    assert.equal(verdict(validateChain({ leaf: good.certificate, ...input })), "valid");
    assert.equal(verdict(validateChain({ leaf: bad.certificate, ...input })), "name-constraint@0");
  });

  it("the exemption is for intermediates only: a self-issued leaf is still constrained", () => {
    const root = createCa({ cn: "NC Root" });
    const ca = intermediate(root, "Same Name", {
      extensions: [nameConstraints([generalName("dns", "example.com")])],
    });
    const leaf = issueCertificate(ca, { cn: "Same Name", san: { dns: ["sip.example.net"] } });
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [ca.certificate],
      anchors: [{ cert: root.certificate }],
    });
    assert.equal(verdict(result), "name-constraint@0");
  });
});
