// RFC 5924 §4 EKU rules, each case over a generated certificate.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { checkSipEku, readExtendedKeyUsage, type EkuPolicy } from "../../../src/pki/eku.js";

const ca = createCa();
const certWith = (eku?: string[]) => issueCertificate(ca, { cn: "sip.example", eku }).certificate;

interface Case {
  eku: string[] | undefined;
  role: "server" | "client";
  policy?: EkuPolicy;
  ok: boolean;
  code: string;
}

const cases: Case[] = [
  { eku: undefined, role: "server", ok: true, code: "eku-absent" },
  { eku: undefined, role: "client", ok: true, code: "eku-absent" },
  {
    eku: undefined,
    role: "server",
    policy: { acceptMissingEku: false },
    ok: false,
    code: "eku-absent-rejected",
  },
  // id-kp-sipDomain alone: acceptable in both roles (what OpenSSL's purpose check would reject)
  { eku: ["sipDomain"], role: "server", ok: true, code: "eku-sip-domain" },
  { eku: ["sipDomain"], role: "client", ok: true, code: "eku-sip-domain" },
  { eku: ["codeSigning", "sipDomain"], role: "client", ok: true, code: "eku-sip-domain" },
  { eku: ["any"], role: "server", ok: true, code: "eku-any" },
  {
    eku: ["any"],
    role: "client",
    policy: { acceptAnyExtendedKeyUsage: false },
    ok: false,
    code: "eku-any-rejected",
  },
  {
    eku: ["any", "sipDomain"],
    role: "client",
    policy: { acceptAnyExtendedKeyUsage: false },
    ok: true,
    code: "eku-sip-domain",
  },
  { eku: ["serverAuth"], role: "server", ok: true, code: "eku-server-auth" },
  { eku: ["clientAuth"], role: "client", ok: true, code: "eku-client-auth" },
  { eku: ["serverAuth", "clientAuth"], role: "client", ok: true, code: "eku-client-auth" },
  { eku: ["serverAuth"], role: "client", ok: false, code: "eku-wrong-role" },
  { eku: ["clientAuth"], role: "server", ok: false, code: "eku-wrong-role" },
  { eku: ["codeSigning"], role: "server", ok: false, code: "eku-not-sip" },
  { eku: ["emailProtection", "OCSPSigning"], role: "client", ok: false, code: "eku-not-sip" },
];

describe("RFC 5924 §4 checkSipEku", () => {
  for (const c of cases) {
    const label = `${c.eku ? c.eku.join("+") : "no EKU"} as ${c.role}${c.policy ? ` ${JSON.stringify(c.policy)}` : ""}`;
    it(`${label} → ${c.code}`, () => {
      const r = checkSipEku(certWith(c.eku), c.role, c.policy);
      assert.equal(r.ok, c.ok);
      assert.equal(r.code, c.code);
      assert.ok(r.detail.length > 0);
    });
  }

  it("reads EKU OIDs in certificate order", () => {
    assert.deepEqual(readExtendedKeyUsage(certWith(["sipDomain", "serverAuth"])), [
      "1.3.6.1.5.5.7.3.20",
      "1.3.6.1.5.5.7.3.1",
    ]);
    assert.equal(readExtendedKeyUsage(certWith(undefined)), undefined);
  });

  it("a malformed EKU extension is a failure, not an absent EKU", () => {
    const cert = issueCertificate(ca, {
      cn: "sip.example",
      extensions: [{ oid: "2.5.29.37", value: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]) }], // INTEGER, not OID
    }).certificate;
    const r = checkSipEku(cert, "server");
    assert.deepEqual([r.ok, r.code], [false, "eku-malformed"]);
  });

  it("an empty EKU SEQUENCE is malformed (SIZE (1..MAX))", () => {
    const cert = issueCertificate(ca, {
      cn: "sip.example",
      extensions: [{ oid: "2.5.29.37", value: Buffer.from([0x30, 0x00]) }],
    }).certificate;
    assert.equal(checkSipEku(cert, "client").code, "eku-malformed");
  });
});
