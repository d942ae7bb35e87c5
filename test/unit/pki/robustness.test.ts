// Hostile input never crashes the loaders or the extractors with anything but their typed errors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { CertificateLoadError, parseCertificates, parsePrivateKey } from "../../../src/pki/load.js";
import { readSubjectAltNames } from "../../../src/pki/san.js";
import { extractSipIdentities } from "../../../src/pki/identities.js";
import { checkSipEku } from "../../../src/pki/eku.js";
import { DerError, readChildren, readElement } from "../../../src/pki/der.js";
import { parsePemBlocks, PemError } from "../../../src/pki/pem.js";

const ca = createCa();
const leaf = issueCertificate(ca, {
  cn: "x.example",
  san: { uri: ["sip:example.com", "sip:bob@example.com"], dns: ["a.example"], ip: ["192.0.2.1"] },
  eku: ["sipDomain"],
});

function onlyLoadErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CertificateLoadError, `unexpected ${String(err)}`);
  }
}

describe("loaders under random input", () => {
  it("parseCertificates throws only CertificateLoadError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) =>
        onlyLoadErrors(() => parseCertificates(Buffer.from(bytes), "f")),
      ),
      { numRuns: 300 },
    );
  });

  it("parsePrivateKey throws only CertificateLoadError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
        onlyLoadErrors(() => parsePrivateKey(Buffer.from(bytes), "f")),
      ),
      { numRuns: 300 },
    );
  });

  it("PEM text with random bodies throws only CertificateLoadError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (body) =>
        onlyLoadErrors(() =>
          parseCertificates(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, "f"),
        ),
      ),
      { numRuns: 300 },
    );
  });

  it("DER and PEM readers throw only their typed errors", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          readChildren(readElement(Buffer.from(bytes)).value);
        } catch (err) {
          assert.ok(err instanceof DerError, String(err));
        }
        try {
          parsePemBlocks(`-----BEGIN X-----\n${Buffer.from(bytes).toString("latin1")}`);
        } catch (err) {
          assert.ok(err instanceof PemError, String(err));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("extractors over mutated certificates", () => {
  it("a byte flipped anywhere never makes the SAN reader or extractors throw", () => {
    const der = leaf.certificate.raw;
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
        const copy = Buffer.from(der);
        copy[pos] = (copy[pos] ?? 0) ^ xor;
        readSubjectAltNames(copy); // pure DER walk: must not throw
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(copy);
        } catch {
          return; // OpenSSL refused it: nothing further to check
        }
        const ids = extractSipIdentities(cert);
        assert.ok(Array.isArray(ids.identities));
        assert.ok(["boolean"].includes(typeof checkSipEku(cert, "server").ok));
      }),
      { numRuns: 400 },
    );
  });
});
