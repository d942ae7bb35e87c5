// RFC 5280 §6.1 path validation: each rule, path building alternatives, anchors, bounds.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { validateChain, type ChainInput, type ChainResult } from "../../../src/pki/chain.js";
import { createCa, createSelfSigned, issueCertificate } from "../../../src/pki/issue.js";
import { DAY, daysFromNow, intermediate, threeLevels } from "./chain-fixtures.js";

type Pki = ReturnType<typeof threeLevels>;

function run(pki: Pki, extra: Partial<ChainInput> = {}): ChainResult {
  return validateChain({
    leaf: pki.leaf.certificate,
    intermediates: [pki.int.certificate],
    anchors: [{ cert: pki.root.certificate }],
    ...extra,
  });
}

function failure(result: ChainResult): [string, number | undefined] {
  assert.equal(result.ok, false, "expected a failure");
  if (result.ok) return ["valid", undefined];
  assert.ok(result.detail.length > 0, "failures carry a human detail");
  return [result.code, result.depth];
}

const subjects = (result: ChainResult) => (result.ok ? result.chain.map((c) => c.subject) : []);

describe("validateChain: valid paths", () => {
  it("root → intermediate → leaf, chain returned leaf first and anchor last", () => {
    const pki = threeLevels();
    const result = run(pki);
    assert.equal(result.ok, true);
    assert.equal(result.code, "valid");
    assert.deepEqual(subjects(result), ["CN=sip.example.com", "CN=Test Int", "CN=Test Root"]);
  });

  it("a trust anchor need not be self-signed (RFC 5280 §6.1.1 (d)): the intermediate as anchor", () => {
    const pki = threeLevels();
    const result = validateChain({
      leaf: pki.leaf.certificate,
      intermediates: [],
      anchors: [{ cert: pki.int.certificate }],
    });
    assert.deepEqual(subjects(result), ["CN=sip.example.com", "CN=Test Int"]);
  });

  it("a bare public key anchors the path (DANE-TA 2 1 x)", () => {
    const pki = threeLevels();
    const result = validateChain({
      leaf: pki.leaf.certificate,
      intermediates: [pki.int.certificate],
      anchors: [{ publicKey: pki.root.certificate.publicKey, name: "root key" }],
    });
    assert.deepEqual(subjects(result), ["CN=sip.example.com", "CN=Test Int"]);
    assert.ok(result.ok && "publicKey" in result.anchor);
  });

  it("a bare key that signed nothing in the path is no anchor", () => {
    const pki = threeLevels();
    const other = createCa({ cn: "Other" });
    const result = validateChain({
      leaf: pki.leaf.certificate,
      intermediates: [pki.int.certificate],
      anchors: [{ publicKey: other.certificate.publicKey }],
    });
    assert.deepEqual(failure(result), ["unknown-issuer", 1]);
  });

  it("a leaf that is itself an anchor is valid (DANE-EE-like pinning)", () => {
    const self = createSelfSigned({ cn: "pinned.example.com" });
    const result = validateChain({
      leaf: self.certificate,
      intermediates: [],
      anchors: [{ cert: self.certificate }],
    });
    assert.deepEqual(subjects(result), ["CN=pinned.example.com"]);
  });

  it("intermediates are found in any order, and a presented copy of the root is harmless", () => {
    const root = createCa({ cn: "R" });
    const a = intermediate(root, "A");
    const b = intermediate(a, "B");
    const leaf = issueCertificate(b, { cn: "leaf" });
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [root.certificate, a.certificate, b.certificate].reverse(),
      anchors: [{ cert: root.certificate }],
    });
    assert.deepEqual(subjects(result), ["CN=leaf", "CN=B", "CN=A", "CN=R"]);
  });

  it("tries another issuer with the same name when the first candidate fails (key rollover)", () => {
    const root = createCa({ cn: "R" });
    // Two intermediates with the same name, no key identifiers: only the signature tells them apart.
    const oldInt = intermediate(root, "Same", { keyIdentifiers: false });
    const newInt = intermediate(root, "Same", { keyIdentifiers: false });
    const leaf = issueCertificate(newInt, { cn: "leaf", keyIdentifiers: false });
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [oldInt.certificate, newInt.certificate],
      anchors: [{ cert: root.certificate }],
    });
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.chain[1]?.fingerprint256 === newInt.certificate.fingerprint256);
  });

  it("prefers the trusted shortcut when an intermediate is also an anchor (trusted first)", () => {
    const pki = threeLevels();
    const result = run(pki, { anchors: [{ cert: pki.root.certificate }, { cert: pki.int.certificate }] });
    assert.deepEqual(subjects(result), ["CN=sip.example.com", "CN=Test Int"]);
  });

  it("at defaults to now and may be set: a chain valid today is not valid in two years", () => {
    const pki = threeLevels();
    assert.equal(run(pki).ok, true);
    // Leaf and intermediate have both expired by then; processing runs from the anchor down (§6.1.3), so the
    // intermediate is reported first, as openssl verify does.
    assert.deepEqual(failure(run(pki, { at: daysFromNow(800) })), ["expired", 1]);
  });
});

describe("validateChain: each rule fails with its code and depth", () => {
  it("expired and not-yet-valid leaf (§6.1.3 (a)(2))", () => {
    assert.deepEqual(
      failure(run(threeLevels({ leaf: { notBefore: daysFromNow(-10), notAfter: daysFromNow(-1) } }))),
      ["expired", 0],
    );
    assert.deepEqual(
      failure(run(threeLevels({ leaf: { notBefore: daysFromNow(1), notAfter: daysFromNow(10) } }))),
      ["not-yet-valid", 0],
    );
  });

  it("checkLeafDates: false ignores only the leaf's dates (DANE-EE)", () => {
    const expiredLeaf = threeLevels({ leaf: { notBefore: daysFromNow(-10), notAfter: daysFromNow(-1) } });
    assert.equal(run(expiredLeaf, { checkLeafDates: false }).ok, true);
    const expiredInt = threeLevels({ int: { notBefore: daysFromNow(-10), notAfter: daysFromNow(-1) } });
    assert.deepEqual(failure(run(expiredInt, { checkLeafDates: false })), ["expired", 1]);
  });

  it("an expired anchor certificate does not anchor (as OpenSSL and Go)", () => {
    const pki = threeLevels({ root: { notBefore: daysFromNow(-20), notAfter: daysFromNow(-1) } });
    assert.deepEqual(failure(run(pki)), ["expired", 2]);
  });

  it("bad signature: tampered leaf and tampered intermediate", () => {
    const pki = threeLevels({ leaf: { tamperSignature: true } });
    assert.deepEqual(failure(run(pki)), ["bad-signature", 0]);
    const pki2 = threeLevels({ int: { tamperSignature: true } });
    assert.deepEqual(failure(run(pki2)), ["bad-signature", 1]);
  });

  it("unknown issuer: missing intermediate, foreign root, untrusted self-signed leaf", () => {
    const pki = threeLevels();
    assert.deepEqual(failure(run(pki, { intermediates: [] })), ["unknown-issuer", 0]);
    assert.deepEqual(failure(run(pki, { anchors: [{ cert: createCa({ cn: "Other" }).certificate }] })), [
      "unknown-issuer",
      1,
    ]);
    const self = createSelfSigned({ cn: "self" });
    const result = validateChain({
      leaf: self.certificate,
      intermediates: [],
      anchors: [{ cert: pki.root.certificate }],
    });
    assert.deepEqual(failure(result), ["unknown-issuer", 0]);
    assert.match(result.ok ? "" : result.detail, /self-signed/);
    assert.deepEqual(failure(run(pki, { anchors: [] })), ["unknown-issuer", 1]);
  });

  it("not-a-ca: intermediate with cA FALSE, and without basicConstraints (§6.1.4 (k))", () => {
    assert.deepEqual(failure(run(threeLevels({ int: { basicConstraints: { ca: false } } }))), [
      "not-a-ca",
      1,
    ]);
    assert.deepEqual(failure(run(threeLevels({ int: { basicConstraints: null } }))), ["not-a-ca", 1]);
  });

  it("key-usage: intermediate keyUsage without keyCertSign (§6.1.4 (n)); absent keyUsage is fine", () => {
    assert.deepEqual(failure(run(threeLevels({ int: { keyUsage: ["digitalSignature", "cRLSign"] } }))), [
      "key-usage",
      1,
    ]);
    assert.equal(run(threeLevels({ int: { keyUsage: null } })).ok, true);
    assert.deepEqual(failure(run(threeLevels({ root: { keyUsage: ["digitalSignature"] } }))), [
      "key-usage",
      2,
    ]);
  });

  it("path-too-long: pathLenConstraint counts non-self-issued intermediates (§6.1.4 (l)–(m))", () => {
    const root = createCa({ cn: "R" });
    const top = intermediate(root, "Top", { basicConstraints: { ca: true, critical: true, pathLength: 0 } });
    const below = intermediate(top, "Below");
    const leaf = issueCertificate(below, { cn: "leaf" });
    const input = {
      leaf: leaf.certificate,
      intermediates: [top.certificate, below.certificate],
      anchors: [{ cert: root.certificate }],
    };
    assert.deepEqual(failure(validateChain(input)), ["path-too-long", 2]);
    // pathLen 1 allows it; the anchor's own pathLen applies as well.
    const top1 = intermediate(root, "Top", { basicConstraints: { ca: true, critical: true, pathLength: 1 } });
    const below1 = intermediate(top1, "Below");
    const leaf1 = issueCertificate(below1, { cn: "leaf" });
    assert.equal(
      validateChain({
        ...input,
        leaf: leaf1.certificate,
        intermediates: [top1.certificate, below1.certificate],
      }).ok,
      true,
    );
    const root0 = createCa({ cn: "R0", basicConstraints: { ca: true, critical: true, pathLength: 0 } });
    const pki = threeLevels();
    const int0 = intermediate(root0, "I0");
    const leaf0 = issueCertificate(int0, { cn: "leaf" });
    assert.deepEqual(
      failure(
        validateChain({
          leaf: leaf0.certificate,
          intermediates: [int0.certificate],
          anchors: [{ cert: root0.certificate }],
        }),
      ),
      ["path-too-long", 2],
    );
    assert.equal(run(pki).ok, true);
  });

  it("a self-issued intermediate (key rollover) is not counted against pathLen", () => {
    const root = createCa({ cn: "R" });
    const top = intermediate(root, "Top", { basicConstraints: { ca: true, critical: true, pathLength: 0 } });
    const rollover = intermediate(top, "Top");
    const leaf = issueCertificate(rollover, { cn: "leaf" });
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: [top.certificate, rollover.certificate],
      anchors: [{ cert: root.certificate }],
    });
    assert.equal(result.ok, true, result.ok ? "" : result.detail);
    assert.equal(result.ok && result.chain.length, 4);
  });

  it("unhandled-critical-extension on leaf or intermediate; non-critical unknown extensions are fine", () => {
    const unknown = { oid: "1.3.6.1.4.1.55555.7", value: Buffer.from([0x05, 0x00]) };
    assert.deepEqual(failure(run(threeLevels({ leaf: { extensions: [{ ...unknown, critical: true }] } }))), [
      "unhandled-critical-extension",
      0,
    ]);
    assert.deepEqual(failure(run(threeLevels({ int: { extensions: [{ ...unknown, critical: true }] } }))), [
      "unhandled-critical-extension",
      1,
    ]);
    assert.equal(run(threeLevels({ leaf: { extensions: [unknown] } })).ok, true);
  });

  it("eku: RFC 5924 §4 via checkSipEku, not OpenSSL's purpose rules", () => {
    const sipOnly = threeLevels({ leaf: { eku: ["sipDomain"] } });
    assert.equal(run(sipOnly, { purpose: "server" }).ok, true);
    const clientOnly = threeLevels({ leaf: { eku: ["clientAuth"] } });
    assert.equal(run(clientOnly, { purpose: "client" }).ok, true);
    assert.deepEqual(failure(run(clientOnly, { purpose: "server" })), ["eku", 0]);
    assert.equal(run(clientOnly, { purpose: "any" }).ok, true);
    assert.equal(run(clientOnly).ok, true);
  });

  it("malformed-certificate: a duplicated extension (RFC 5280 §4.2)", () => {
    const bc = { oid: "2.5.29.19", value: Buffer.from([0x30, 0x00]) };
    const pki = threeLevels({ leaf: { basicConstraints: null, extensions: [bc, bc] } });
    assert.deepEqual(failure(run(pki)), ["malformed-certificate", undefined]);
  });
});

describe("validateChain: bounded input and search", () => {
  it("an anchor that cannot be parsed is skipped, not fatal for the whole anchor set", () => {
    const bc = { oid: "2.5.29.19", value: Buffer.from([0x30, 0x03, 0x01, 0x01, 0xff]) };
    const broken = createCa({ cn: "Broken", basicConstraints: null, extensions: [bc, bc] });
    const pki = threeLevels();
    const result = run(pki, { anchors: [{ cert: broken.certificate }, { cert: pki.root.certificate }] });
    assert.equal(result.ok, true);
  });

  it("refuses more than 32 intermediates without trying", () => {
    const pki = threeLevels();
    const many = Array.from({ length: 33 }, () => pki.int.certificate);
    assert.deepEqual(failure(run(pki, { intermediates: many })), ["too-many-certificates", undefined]);
  });

  it("a tangle of same-named, mutually issuing CAs ends quickly with unknown-issuer", () => {
    // 6 CAs all named "Loop", each issued by the previous key: every one is a name-match for every other.
    const seed = createCa({ cn: "Loop", keyIdentifiers: false });
    const loop = [seed];
    for (let i = 0; i < 5; i++)
      loop.push(intermediate(loop[i] as typeof seed, "Loop", { keyIdentifiers: false }));
    const leaf = issueCertificate(loop[5] as typeof seed, { cn: "leaf", keyIdentifiers: false });
    const started = performance.now();
    const result = validateChain({
      leaf: leaf.certificate,
      intermediates: loop.map((c) => c.certificate),
      anchors: [{ cert: createCa({ cn: "Elsewhere" }).certificate }],
    });
    assert.equal(failure(result)[0], "unknown-issuer");
    assert.ok(performance.now() - started < 2000, "bounded search");
  });

  it("accepts the same certificate objects again (parsed-certificate cache) with the same verdict", () => {
    const pki = threeLevels();
    const first = run(pki);
    const copy = {
      ...pki,
      leaf: { ...pki.leaf, certificate: new X509Certificate(pki.leaf.certificate.raw) },
    };
    assert.equal(first.ok, true);
    assert.equal(run(pki).ok, true);
    assert.equal(run(copy).ok, true);
  });

  it("validation at an explicit time inside every validity period", () => {
    const pki = threeLevels({ leaf: { notBefore: daysFromNow(-400), notAfter: daysFromNow(-300) } });
    assert.equal(run(pki, { at: new Date(Date.now() - 350 * DAY) }).ok, false); // int/root not yet valid then
    assert.deepEqual(failure(run(pki)), ["expired", 0]);
  });
});
