// CRLs (RFC 5280 §5) and the revocation step of path validation (§6.3).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateChain, type ChainResult } from "../../../src/pki/chain.js";
import { CrlParseError, parseCrl, parseCrls, type Crl } from "../../../src/pki/crl.js";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import {
  crlDistributionPoints,
  daysFromNow,
  issuingDistributionPoint,
  makeCrl,
  serialOf,
  threeLevels,
  type CrlOptions,
} from "./chain-fixtures.js";

const pem = (der: Buffer) =>
  `-----BEGIN X509 CRL-----\n${der.toString("base64").replace(/.{1,64}/g, "$&\n")}-----END X509 CRL-----\n`;
const verdict = (r: ChainResult) => (r.ok ? "valid" : `${r.code}@${r.depth}`);

describe("parseCrl / parseCrls", () => {
  const { int, leaf } = threeLevels();
  const der = makeCrl(int, { revoked: [{ serialHex: serialOf(leaf.certificate), reason: 1 }] });

  it("reads DER and PEM alike: issuer, dates, entries with reason", () => {
    for (const input of [der, pem(der)]) {
      const crl = parseCrl(input, "int.crl");
      assert.equal(crl.issuer.text, "CN=Test Int");
      assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
      const entry = crl.revoked.get(serialOf(leaf.certificate));
      assert.equal(entry?.reason, "keyCompromise");
    }
  });

  it("reads every CRL of a PEM bundle and names each source", () => {
    const crls = parseCrls(pem(der) + pem(makeCrl(int)), "bundle.pem");
    assert.deepEqual(
      crls.map((c) => c.source),
      ["bundle.pem#1", "bundle.pem#2"],
    );
    assert.throws(() => parseCrl(pem(der) + pem(der), "two.pem"), CrlParseError);
  });

  it("garbage, a certificate instead of a CRL, and truncation are typed errors naming the file", () => {
    const inputs: Array<Buffer | string> = [
      Buffer.from("not a crl"),
      der.subarray(0, der.length - 10),
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      "-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n",
    ];
    for (const input of inputs) {
      assert.throws(
        () => parseCrl(input, "bad.crl"),
        (err: unknown) =>
          err instanceof CrlParseError && err.code === "bad-crl" && err.message.startsWith("bad.crl"),
      );
    }
  });
});

/** root → int → leaf with CRLs from both CAs; `intCrl` options shape the intermediate's CRL. */
function withCrls(
  intCrl: CrlOptions,
  options: { rootCrl?: CrlOptions | null; extraCrls?: (p: ReturnType<typeof threeLevels>) => Buffer[] } = {},
) {
  const pki = threeLevels();
  const crls: Crl[] = [parseCrl(makeCrl(pki.int, intCrl), "int.crl")];
  if (options.rootCrl !== null) crls.push(parseCrl(makeCrl(pki.root, options.rootCrl ?? {}), "root.crl"));
  for (const extra of options.extraCrls?.(pki) ?? []) crls.push(parseCrl(extra, "extra.crl"));
  return { pki, crls };
}

function check(pki: ReturnType<typeof threeLevels>, crls: Crl[]): ChainResult {
  return validateChain({
    leaf: pki.leaf.certificate,
    intermediates: [pki.int.certificate],
    anchors: [{ cert: pki.root.certificate }],
    crls,
  });
}

describe("revocation during path validation", () => {
  it("not revoked → valid; revoked → revoked@0 with the CRLReason", () => {
    const clean = withCrls({});
    assert.equal(verdict(check(clean.pki, clean.crls)), "valid");
    const pki = threeLevels();
    const crls = [
      parseCrl(
        makeCrl(pki.int, { revoked: [{ serialHex: serialOf(pki.leaf.certificate), reason: 1 }] }),
        "int.crl",
      ),
      parseCrl(makeCrl(pki.root), "root.crl"),
    ];
    const result = check(pki, crls);
    assert.equal(verdict(result), "revoked@0");
    assert.equal(!result.ok && result.reason, "keyCompromise");
  });

  it("a revoked intermediate is found in the root's CRL", () => {
    const pki = threeLevels();
    const crls = [
      parseCrl(makeCrl(pki.int), "int.crl"),
      parseCrl(makeCrl(pki.root, { revoked: [{ serialHex: serialOf(pki.int.certificate) }] }), "root.crl"),
    ];
    const result = check(pki, crls);
    assert.equal(verdict(result), "revoked@1");
    assert.equal(!result.ok && result.reason, "unspecified");
  });

  it("CRL validity: expired, not yet valid, and no nextUpdate at all (accepted)", () => {
    const expired = withCrls({ thisUpdate: daysFromNow(-10), nextUpdate: daysFromNow(-1) });
    assert.equal(verdict(check(expired.pki, expired.crls)), "crl-expired@0");
    const future = withCrls({ thisUpdate: daysFromNow(1), nextUpdate: daysFromNow(5) });
    assert.equal(verdict(check(future.pki, future.crls)), "crl-not-yet-valid@0");
    const open = withCrls({ nextUpdate: null });
    assert.equal(verdict(check(open.pki, open.crls)), "valid");
  });

  it("a CRL signed by another key is crl-bad-signature", () => {
    const forged = withCrls({ signer: createCa({ cn: "Test Int" }).privateKey });
    assert.equal(verdict(check(forged.pki, forged.crls)), "crl-bad-signature@0");
  });

  it("a forged CRL next to a genuine one does not hide the genuine one", () => {
    const { pki, crls } = withCrls(
      { signer: createCa({ cn: "x" }).privateKey },
      { extraCrls: (p) => [makeCrl(p.int)] },
    );
    assert.equal(verdict(check(pki, crls)), "valid");
  });

  it("the newest of several CRLs decides", () => {
    const { pki, crls } = withCrls(
      { thisUpdate: daysFromNow(-3) },
      {
        extraCrls: (p) => [
          makeCrl(p.int, {
            thisUpdate: daysFromNow(-1),
            revoked: [{ serialHex: serialOf(p.leaf.certificate), reason: 4 }],
          }),
        ],
      },
    );
    const result = check(pki, crls);
    assert.equal(verdict(result), "revoked@0");
    assert.equal(!result.ok && result.reason, "superseded");
  });

  it("every certificate below the anchor needs a CRL once CRLs are given; none given = no check", () => {
    const missingRoot = withCrls({}, { rootCrl: null });
    assert.equal(verdict(check(missingRoot.pki, missingRoot.crls)), "crl-missing@1");
    assert.equal(verdict(check(missingRoot.pki, [])), "valid");
  });

  it("a CRL issuer whose keyUsage lacks cRLSign is refused (RFC 5280 §4.2.1.3)", () => {
    const pki = threeLevels({ int: { keyUsage: ["keyCertSign"] } });
    const crls = [parseCrl(makeCrl(pki.int), "int.crl"), parseCrl(makeCrl(pki.root), "root.crl")];
    assert.equal(verdict(check(pki, crls)), "key-usage@0");
  });

  it("unhandled critical CRL and CRL-entry extensions fail; known ones do not", () => {
    const criticalCrlExt = withCrls({
      extensions: [["1.3.6.1.4.1.55555.9", true, Buffer.from([0x05, 0x00])]],
    });
    assert.equal(verdict(check(criticalCrlExt.pki, criticalCrlExt.crls)), "unhandled-critical-extension@0");
    const crlNumber = withCrls({ extensions: [["2.5.29.20", false, Buffer.from([0x02, 0x01, 0x07])]] });
    assert.equal(verdict(check(crlNumber.pki, crlNumber.crls)), "valid");
    const pki = threeLevels();
    const entry = {
      serialHex: serialOf(pki.leaf.certificate),
      criticalEntryExtension: "1.3.6.1.4.1.55555.10",
    };
    const crls = [
      parseCrl(makeCrl(pki.int, { revoked: [entry] }), "int.crl"),
      parseCrl(makeCrl(pki.root), "root.crl"),
    ];
    assert.equal(verdict(check(pki, crls)), "unhandled-critical-extension@0");
  });

  it("scope: delta and indirect CRLs are not used; onlyContainsCACerts does not cover a leaf", () => {
    const delta = withCrls({ extensions: [["2.5.29.27", true, Buffer.from([0x02, 0x01, 0x01])]] });
    assert.equal(verdict(check(delta.pki, delta.crls)), "crl-missing@0");
    const indirect = withCrls({
      extensions: [["2.5.29.28", true, issuingDistributionPoint({ indirect: true })]],
    });
    assert.equal(verdict(check(indirect.pki, indirect.crls)), "crl-missing@0");
    const caOnly = withCrls({
      extensions: [["2.5.29.28", true, issuingDistributionPoint({ onlyCa: true })]],
    });
    assert.equal(verdict(check(caOnly.pki, caOnly.crls)), "crl-missing@0");
    const userOnly = withCrls({
      extensions: [["2.5.29.28", true, issuingDistributionPoint({ onlyUser: true })]],
    });
    assert.equal(verdict(check(userOnly.pki, userOnly.crls)), "valid");
  });

  it("a partitioned CRL (issuingDistributionPoint URI) covers only certificates pointing at it", () => {
    const partition = "http://crl.example.com/part1.crl";
    const idp: [string, boolean, Buffer] = ["2.5.29.28", true, issuingDistributionPoint({ uri: partition })];
    const inPartition = threeLevels({ leaf: { extensions: [crlDistributionPoints(partition)] } });
    const elsewhere = threeLevels({
      leaf: { extensions: [crlDistributionPoints("http://crl.example.com/part2.crl")] },
    });
    const noPointer = threeLevels();
    for (const [pki, expect] of [
      [inPartition, "valid"],
      [elsewhere, "crl-missing@0"],
      [noPointer, "crl-missing@0"],
    ] as const) {
      const crls = [
        parseCrl(makeCrl(pki.int, { extensions: [idp] }), "int-part1.crl"),
        parseCrl(makeCrl(pki.root), "root.crl"),
      ];
      assert.equal(verdict(check(pki, crls)), expect);
    }
  });

  it("works with a bare-key anchor: the CRL is matched by the certificate's issuer name and the key", () => {
    const root = createCa({ cn: "Key Root" });
    const leaf = issueCertificate(root, { cn: "leaf" });
    const revoked = parseCrl(
      makeCrl(root, { revoked: [{ serialHex: serialOf(leaf.certificate), reason: 2 }] }),
      "root.crl",
    );
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [],
      anchors: [{ publicKey: root.certificate.publicKey }],
      crls: [revoked],
    });
    assert.equal(verdict(result), "revoked@0");
    assert.equal(!result.ok && result.reason, "cACompromise");
  });
});
