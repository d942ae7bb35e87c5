/**
 * The verified-client-chain cache inside verifyClientChain (src/tls/client-verification.ts) may only save
 * work: every test verifies a chain once (filling the cache) and then asserts the verdict of a LATER call
 * whose inputs differ in one thing the verdict depends on (time, anchors, CRLs, CRL policy, CN mapping,
 * identity options, presented certificates). A cache that changed any of these verdicts would be a
 * security bug (an expired, revoked or untrusted client accepted).
 *
 * Every test builds its own anchors array, so each starts with an empty cache.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { X509Certificate } from "node:crypto";
import {
  verifyClientChain,
  type ClientVerification,
  type ClientVerificationPolicy,
} from "../../../src/tls/client-verification.js";
import { issueCertificate, createCa } from "../../../src/pki/issue.js";
import { parseCrl, validateChain, type Crl, type TrustAnchor } from "../../../src/pki/chain.js";
import { checkSipEku } from "../../../src/pki/eku.js";
import { parseCnMapping } from "../../../src/auth/cn-mapping.js";
import { identityText, type PeerIdentity } from "../../../src/auth/identity.js";
import type { IssuingCa } from "../../../src/auth/ca-rights.js";
import { DAY, daysFromNow, intermediate, makeCrl, threeLevels } from "../pki/chain-fixtures.js";

const NOW = new Date();
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

function policy(anchors: readonly TrustAnchor[], extra: Partial<ClientVerificationPolicy> = {}) {
  return { mode: "required", anchors, at: NOW, ...extra } satisfies ClientVerificationPolicy;
}

function anchorsOf(...cas: Array<{ certificate: X509Certificate }>): TrustAnchor[] {
  return cas.map((ca) => ({ cert: ca.certificate }));
}

function serialOf(cert: X509Certificate): string {
  return cert.serialNumber.toLowerCase();
}

function crlOf(...args: Parameters<typeof makeCrl>): Crl {
  return parseCrl(makeCrl(...args), "test.crl");
}

/** root → int → leaf with a SIP-usable leaf (clientAuth EKU, one DNS SAN), plus current CRLs for both CAs. */
function pki(options: Parameters<typeof threeLevels>[0] = {}) {
  const { root, int, leaf } = threeLevels({
    ...options,
    leaf: { eku: ["clientAuth"], san: { dns: ["client.example.com"] }, ...options.leaf },
  });
  const presented = [leaf.certificate, int.certificate];
  const crls: readonly Crl[] = [crlOf(root), crlOf(int)];
  return { root, int, leaf, presented, crls };
}

function assertVerified(result: ClientVerification, message?: string) {
  assert.equal(result.ok, true, `${message ?? ""} ${JSON.stringify(result)}`);
  assert.equal(result.code, "client-verified", message);
  assert.ok(result.code === "client-verified");
  return result;
}

function assertRefused(result: ClientVerification, code: string, message?: string) {
  assert.equal(result.ok, false, `${message ?? ""}: expected ${code}, got ${JSON.stringify(result)}`);
  assert.equal(result.code, code, message);
}

function identityTexts(result: ClientVerification): string[] {
  const verified = assertVerified(result);
  return verified.peer.identities.map(identityText).sort();
}

describe("verifyClientChain cache: a repeated chain", () => {
  test("the second call gives the same verdict, identities, issuers and chain", () => {
    const { root, int, leaf, presented, crls } = pki();
    const p = policy(anchorsOf(root), { crls });
    const first = assertVerified(verifyClientChain(presented, p));
    const second = assertVerified(verifyClientChain(presented, p));
    assert.deepEqual(identityTexts(second), ["client.example.com"]);
    assert.deepEqual(second.peer, first.peer);
    assert.deepEqual(
      second.chain.map((c) => c.fingerprint256),
      [leaf, int, root].map((c) => c.certificate.fingerprint256),
    );
    // The same chain presented as new objects (a reconnect parses the certificates again).
    const reparsed = presented.map((c) => new (c.constructor as typeof X509Certificate)(c.raw));
    const third = assertVerified(verifyClientChain(reparsed, p));
    assert.deepEqual(third.peer, first.peer);
    assert.equal(third.chain[0], reparsed[0], "the chain is made of the certificates of this call");
  });

  test("each result has its own arrays: mutating one changes no later result", () => {
    const { root, presented, crls } = pki();
    const p = policy(anchorsOf(root), { crls });
    const first = assertVerified(verifyClientChain(presented, p));
    const snapshot = structuredClone({
      identities: first.peer.identities.map(identityText),
      issuers: first.peer.issuers,
      subjectCns: first.peer.subjectCns,
      warnings: first.peer.warnings,
      chain: first.chain.map((c) => c.fingerprint256),
    });
    const mutate = (result: ClientVerification) => {
      const v = assertVerified(result);
      (v.peer.identities as PeerIdentity[]).push({
        kind: "domain",
        domain: "evil.example",
        source: "san-dns",
      });
      (v.peer.issuers as IssuingCa[]).length = 0;
      (v.peer.subjectCns as string[]).push("evil");
      (v.peer.warnings as string[]).push("evil");
      v.chain.length = 0;
    };
    mutate(first);
    const second = verifyClientChain(presented, p);
    const view = (result: ClientVerification) => {
      const v = assertVerified(result);
      return {
        identities: v.peer.identities.map(identityText),
        issuers: v.peer.issuers,
        subjectCns: v.peer.subjectCns,
        warnings: v.peer.warnings,
        chain: v.chain.map((c) => c.fingerprint256),
      };
    };
    assert.deepEqual(view(second), snapshot);
    // A result served from the cache must not share arrays with the cache either.
    mutate(second);
    assert.deepEqual(view(verifyClientChain(presented, p)), snapshot);
  });
});

describe("verifyClientChain cache: validation time", () => {
  test("past the leaf's notAfter the second call reports expired", () => {
    const { root, presented, crls } = pki({ leaf: { notBefore: at(-1), notAfter: at(2) } });
    const anchors = anchorsOf(root);
    assertVerified(verifyClientChain(presented, policy(anchors, { crls })));
    // The CRLs are current until day 7, so only the leaf's date decides on day 3.
    assertRefused(verifyClientChain(presented, policy(anchors, { crls, at: at(3) })), "expired");
    // Without CRLs too (no CRL nextUpdate narrows anything then).
    const bare = policy(anchors);
    assertVerified(verifyClientChain(presented, bare));
    assertRefused(verifyClientChain(presented, { ...bare, at: at(3) }), "expired");
  });

  test("past the intermediate's or the anchor's notAfter the second call reports expired", () => {
    const shortInt = pki({ int: { notBefore: at(-1), notAfter: at(1) } });
    const anchors = anchorsOf(shortInt.root);
    assertVerified(verifyClientChain(shortInt.presented, policy(anchors)));
    const later = verifyClientChain(shortInt.presented, policy(anchors, { at: at(2) }));
    assertRefused(later, "expired");
    assert.equal(!later.ok && later.depth, 1);

    const shortRoot = pki({ root: { notBefore: at(-1), notAfter: at(1) } });
    const rootAnchors = anchorsOf(shortRoot.root);
    assertVerified(verifyClientChain(shortRoot.presented, policy(rootAnchors)));
    assertRefused(verifyClientChain(shortRoot.presented, policy(rootAnchors, { at: at(2) })), "expired");
  });

  test("before the leaf's notBefore the second call reports not-yet-valid", () => {
    const { root, presented } = pki({ leaf: { notBefore: at(-1), notAfter: at(30) } });
    const anchors = anchorsOf(root);
    assertVerified(verifyClientChain(presented, policy(anchors)));
    assertRefused(verifyClientChain(presented, policy(anchors, { at: at(-2) })), "not-yet-valid");
  });

  test("with the real clock (no `at`) a cached chain is still checked against its dates", () => {
    // notAfter a little in the future: the first call succeeds, the call after it has passed must fail.
    const { root, presented } = pki({ leaf: { notBefore: at(-1), notAfter: new Date(Date.now() + 1500) } });
    const p: ClientVerificationPolicy = { mode: "required", anchors: anchorsOf(root) };
    assertVerified(verifyClientChain(presented, p));
    return new Promise<void>((resolve, reject) => {
      // Certificate dates have one-second precision; wait past the rounded notAfter.
      setTimeout(() => {
        try {
          assertRefused(verifyClientChain(presented, p), "expired");
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      }, 2600);
    });
  });
});

describe("verifyClientChain cache: configuration reload", () => {
  test("a new anchors array without the CA refuses the chain the old one accepted", () => {
    const { root, presented, crls } = pki();
    const other = createCa({ cn: "Other Root" });
    const before = anchorsOf(root, other);
    assertVerified(verifyClientChain(presented, policy(before, { crls })));
    const after = anchorsOf(other);
    assertRefused(verifyClientChain(presented, policy(after, { crls })), "unknown-issuer");
    // The old configuration is unaffected, and a new array with the CA still accepts.
    assertVerified(verifyClientChain(presented, policy(before, { crls })));
    assertVerified(verifyClientChain(presented, policy(anchorsOf(root), { crls })));
  });
});

describe("verifyClientChain cache: CRLs", () => {
  test("a new CRL list that revokes the leaf refuses the chain", () => {
    const { root, int, leaf, presented, crls } = pki();
    const anchors = anchorsOf(root);
    assertVerified(verifyClientChain(presented, policy(anchors, { crls })));
    const revoking = [crls[0] as Crl, crlOf(int, { revoked: [{ serialHex: serialOf(leaf.certificate) }] })];
    const result = verifyClientChain(presented, policy(anchors, { crls: revoking }));
    assertRefused(result, "revoked");
    assert.equal(!result.ok && result.depth, 0);
    // Revocation of the intermediate by the root is seen as well.
    const revokingInt = [
      crlOf(root, { revoked: [{ serialHex: serialOf(int.certificate) }] }),
      crls[1] as Crl,
    ];
    assertRefused(verifyClientChain(presented, policy(anchors, { crls: revokingInt })), "revoked");
  });

  test("a revoked leaf stays revoked when the CRL list is the same object on every call", () => {
    const { root, int, leaf, presented } = pki();
    const anchors = anchorsOf(root);
    const revoking = [crlOf(root), crlOf(int, { revoked: [{ serialHex: serialOf(leaf.certificate) }] })];
    for (let i = 0; i < 3; i++) {
      assertRefused(
        verifyClientChain(presented, policy(anchors, { crls: revoking })),
        "revoked",
        `call ${i}`,
      );
    }
  });

  test("past a CRL's nextUpdate under crlPolicy require the second call fails", () => {
    const since = { notBefore: at(-10) };
    const { root, int, presented } = pki({ root: since, int: since, leaf: since });
    const anchors = anchorsOf(root);
    const crls = [crlOf(root), crlOf(int, { thisUpdate: at(-1), nextUpdate: at(1) })];
    const p = policy(anchors, { crls, crlPolicy: "require" });
    assertVerified(verifyClientChain(presented, p));
    assertRefused(verifyClientChain(presented, { ...p, at: at(2) }), "crl-expired");
    // And before its thisUpdate: a CRL from the future is not yet valid.
    assertRefused(verifyClientChain(presented, { ...p, at: at(-2) }), "crl-not-yet-valid");
  });

  test("switching crlPolicy from when-present to require needs the missing CRL", () => {
    const { root, int, presented } = pki();
    const anchors = anchorsOf(root);
    const onlyInt = [crlOf(int)]; // nothing from the root about the intermediate
    assertVerified(
      verifyClientChain(presented, policy(anchors, { crls: onlyInt, crlPolicy: "when-present" })),
    );
    assertRefused(
      verifyClientChain(presented, policy(anchors, { crls: onlyInt, crlPolicy: "require" })),
      "crl-missing",
    );
    assertRefused(verifyClientChain(presented, policy(anchors, { crls: onlyInt })), "crl-missing", "default");
  });

  test("a CRL list with a CRL that is not valid yet is not turned into a later acceptance", () => {
    const { root, int, leaf, presented } = pki();
    const anchors = anchorsOf(root);
    // The newest CRL from the intermediate (thisUpdate tomorrow) revokes the leaf.
    const crls = [
      crlOf(root),
      crlOf(int, { thisUpdate: at(-2), nextUpdate: at(10) }),
      crlOf(int, {
        thisUpdate: at(1),
        nextUpdate: at(10),
        revoked: [{ serialHex: serialOf(leaf.certificate) }],
      }),
    ];
    const p = policy(anchors, { crls });
    assertRefused(verifyClientChain(presented, p), "crl-not-yet-valid");
    assertRefused(verifyClientChain(presented, { ...p, at: at(2) }), "revoked");
  });
});

describe("verifyClientChain cache: identities", () => {
  test("a different CN mapping object gives the identities of the new mapping", () => {
    const { root, presented } = pki({ leaf: { cn: "00:11:22:33:44:55", san: {} } });
    const anchors = anchorsOf(root);
    const mappingA = parseCnMapping("00:11:22:33:44:55\ta.example.com\n", "a.map");
    const mappingB = parseCnMapping("00:11:22:33:44:55\tbob@b.example.com\n", "b.map");
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors, { mapping: mappingA }))), [
      "a.example.com",
    ]);
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors, { mapping: mappingB }))), [
      "sip:bob@b.example.com",
    ]);
    // An equal mapping parsed again (a reload) is a different object: its identities, not cached ones.
    const mappingA2 = parseCnMapping("00:11:22:33:44:55\ta2.example.com\n", "a.map");
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors, { mapping: mappingA2 }))), [
      "a2.example.com",
    ]);
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors))), []);
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors, { mapping: mappingA }))), [
      "a.example.com",
    ]);
  });

  test("identity options are part of the verdict: emailAsSip on and off", () => {
    const { root, presented } = pki({ leaf: { san: { email: ["alice@example.com"] } } });
    const anchors = anchorsOf(root);
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors))), []);
    assert.deepEqual(
      identityTexts(verifyClientChain(presented, policy(anchors, { identityOptions: { emailAsSip: true } }))),
      ["sip:alice@example.com"],
    );
    assert.deepEqual(identityTexts(verifyClientChain(presented, policy(anchors))), []);
  });
});

describe("verifyClientChain cache: failures are not cached", () => {
  test("a chain from a CA that is not trusted fails every time; a valid chain after it works", () => {
    const good = pki();
    const wrong = pki();
    const anchors = anchorsOf(good.root);
    for (let i = 0; i < 2; i++) {
      assertRefused(verifyClientChain(wrong.presented, policy(anchors)), "unknown-issuer", `call ${i}`);
    }
    assertVerified(verifyClientChain(good.presented, policy(anchors)));
    assertRefused(verifyClientChain(wrong.presented, policy(anchors)), "unknown-issuer", "after a success");
  });

  test("a chain that failed on its dates passes once it is valid (the failure was not remembered)", () => {
    const { root, presented } = pki({ leaf: { notBefore: at(1), notAfter: at(30) } });
    const anchors = anchorsOf(root);
    assertRefused(verifyClientChain(presented, policy(anchors)), "not-yet-valid");
    assertVerified(verifyClientChain(presented, policy(anchors, { at: at(2) })));
  });

  test("a chain refused for revocation passes with a CRL list that no longer lists it", () => {
    const { root, int, leaf, presented } = pki();
    const anchors = anchorsOf(root);
    const revoking = [crlOf(root), crlOf(int, { revoked: [{ serialHex: serialOf(leaf.certificate) }] })];
    assertRefused(verifyClientChain(presented, policy(anchors, { crls: revoking })), "revoked");
    assertVerified(verifyClientChain(presented, policy(anchors, { crls: [crlOf(root), crlOf(int)] })));
  });

  test("the presented certificates are the key: a missing or substituted intermediate fails", () => {
    const { root, int, leaf, presented } = pki();
    const anchors = anchorsOf(root);
    assertVerified(verifyClientChain(presented, policy(anchors)));
    assertRefused(verifyClientChain([leaf.certificate], policy(anchors)), "unknown-issuer");
    // Same subject, different key: the leaf's signature does not verify under it.
    const impostor = intermediate(root, "Test Int");
    const result = verifyClientChain([leaf.certificate, impostor.certificate], policy(anchors));
    assert.equal(result.ok, false, JSON.stringify(result));
    // The original still verifies (the failures above did not evict or poison anything).
    assertVerified(verifyClientChain([leaf.certificate, int.certificate], policy(anchors)));
  });

  test("an empty presented list under required is refused, also after a cached success", () => {
    const { root, presented } = pki();
    const anchors = anchorsOf(root);
    assertVerified(verifyClientChain(presented, policy(anchors)));
    assertRefused(verifyClientChain([], policy(anchors)), "client-cert-required");
  });
});

describe("verifyClientChain cache: EKU", () => {
  for (const eku of [["codeSigning"], ["serverAuth"], ["emailProtection"]]) {
    test(`a leaf with EKU ${eku.join(",")} never passes, before or after a good leaf of the same CA`, () => {
      const { root, int, presented } = pki();
      const anchors = anchorsOf(root);
      const bad = issueCertificate(int, {
        cn: "client.example.com",
        san: { dns: ["client.example.com"] },
        eku,
      });
      const expected = checkSipEku(bad.certificate, "client");
      assert.equal(expected.ok, false, "fixture: the EKU is unacceptable for a SIP client");
      const badChain = [bad.certificate, int.certificate];
      assertRefused(verifyClientChain(badChain, policy(anchors)), expected.code, "first");
      assertVerified(verifyClientChain(presented, policy(anchors)));
      assertRefused(verifyClientChain(badChain, policy(anchors)), expected.code, "second");
    });
  }
});

describe("verifyClientChain cache: several candidate paths", () => {
  // Two intermediates with the same name and key: one valid from day -10 to day 1, one from day 0.5 to day 30.
  // Which path validates depends on the time, so the verdict, the chain and the issuing CAs must follow the
  // time exactly as a fresh validation would (an ambiguous path build must not be served from the cache).
  const root = createCa({ cn: "Test Root" });
  const expiring = intermediate(root, "Test Int", { notBefore: at(-10), notAfter: at(1) });
  const future = intermediate(root, "Test Int", {
    notBefore: at(0.5),
    notAfter: at(30),
    privateKey: expiring.privateKey,
  });
  const leaf = issueCertificate(expiring, {
    cn: "client.example.com",
    san: { dns: ["client.example.com"] },
    eku: ["clientAuth"],
    notBefore: at(-1),
    notAfter: at(20),
  });
  const orders = {
    "expiring first": [leaf.certificate, expiring.certificate, future.certificate],
    "future first": [leaf.certificate, future.certificate, expiring.certificate],
  };
  for (const [name, presented] of Object.entries(orders)) {
    test(`${name}: each call matches a fresh validation (verdict, chain, issuers)`, () => {
      const anchors = anchorsOf(root);
      for (const days of [0, 0, 0.75, 0.75, 2, 2, 0, 0.75, 25, 2]) {
        const when = `day ${days}`;
        const fresh = validateChain({
          leaf: leaf.certificate,
          intermediates: presented.slice(1),
          anchors,
          at: at(days),
        });
        const result = verifyClientChain(presented, policy(anchors, { at: at(days) }));
        assert.equal(result.ok, fresh.ok, `${when}: ${JSON.stringify(result)}`);
        if (!fresh.ok) {
          assert.equal(result.code, fresh.code, when);
          continue;
        }
        const verified = assertVerified(result, when);
        const prints = (chain: readonly X509Certificate[]) => chain.map((c) => c.fingerprint256);
        assert.deepEqual(prints(verified.chain), prints(fresh.chain), `${when}: chain`);
        assert.equal(
          verified.peer.issuers[0]?.fingerprint,
          fresh.chain[1]?.fingerprint256.replaceAll(":", "").toLowerCase(),
          `${when}: nearest issuing CA`,
        );
      }
      // Day 25: the leaf is expired whichever intermediate is used.
      assertRefused(verifyClientChain(presented, policy(anchors, { at: at(25) })), "expired");
    });
  }

  test("only the expiring intermediate presented: fails once it has expired", () => {
    const anchors = anchorsOf(root);
    const onlyExpiring = [leaf.certificate, expiring.certificate];
    assertVerified(verifyClientChain(onlyExpiring, policy(anchors)));
    assertRefused(verifyClientChain(onlyExpiring, policy(anchors, { at: at(2) })), "expired");
  });
});

describe("verifyClientChain cache: many chains", () => {
  test("more chains than the cache holds are all verified correctly, the untrusted one never", () => {
    const root = createCa({ cn: "Test Root" });
    const int = intermediate(root, "Test Int");
    const anchors = anchorsOf(root);
    const leaves = Array.from({ length: 520 }, (_, i) =>
      issueCertificate(int, { cn: `c${i}`, san: { dns: [`c${i}.example.com`] }, eku: ["clientAuth"] }),
    );
    const untrusted = pki();
    for (let round = 0; round < 2; round++) {
      for (const [i, leaf] of leaves.entries()) {
        const result = verifyClientChain([leaf.certificate, int.certificate], policy(anchors));
        assert.deepEqual(identityTexts(result), [`c${i}.example.com`], `round ${round}, leaf ${i}`);
      }
      assertRefused(verifyClientChain(untrusted.presented, policy(anchors)), "unknown-issuer");
    }
    // The first leaves were evicted; after the leaf's expiry nothing of it survives anywhere.
    const first = leaves[0] as (typeof leaves)[number];
    assertRefused(
      verifyClientChain([first.certificate, int.certificate], policy(anchors, { at: daysFromNow(4000) })),
      "expired",
    );
  });
});
