/**
 * `crlCoverage` of validateChain: `all` (default, OpenSSL's -crl_check_all) needs a CRL for every certificate
 * below the anchor; `issuers-with-crl` (crlPolicy when-present) checks only certificates whose issuer has one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCrl, validateChain, type ChainInput } from "../../../src/pki/chain.js";
import { daysFromNow, makeCrl, serialOf, threeLevels } from "./chain-fixtures.js";

const { root, int, leaf } = threeLevels();
const base: ChainInput = {
  leaf: leaf.certificate,
  intermediates: [int.certificate],
  anchors: [{ cert: root.certificate }],
};
const intCrl = (options: Parameters<typeof makeCrl>[1] = {}) => parseCrl(makeCrl(int, options), "int.crl");

const cases: Array<{ name: string; input: Partial<ChainInput>; code: string }> = [
  {
    name: "all: the intermediate has no CRL from the root",
    input: { crls: [intCrl()] },
    code: "crl-missing",
  },
  {
    name: "issuers-with-crl: only the leaf's issuer has a CRL, and it is clean",
    input: { crls: [intCrl()], crlCoverage: "issuers-with-crl" },
    code: "valid",
  },
  {
    name: "issuers-with-crl: the leaf is revoked by its issuer's CRL",
    input: {
      crls: [intCrl({ revoked: [{ serialHex: serialOf(leaf.certificate) }] })],
      crlCoverage: "issuers-with-crl",
    },
    code: "revoked",
  },
  {
    name: "issuers-with-crl: an expired CRL of the issuer still fails",
    input: {
      crls: [intCrl({ thisUpdate: daysFromNow(-10), nextUpdate: daysFromNow(-1) })],
      crlCoverage: "issuers-with-crl",
    },
    code: "crl-expired",
  },
  {
    name: "issuers-with-crl: a CRL of an unrelated issuer checks nothing here",
    input: {
      crls: [parseCrl(makeCrl(threeLevels({ int: { cn: "Other Int" } }).int), "other.crl")],
      crlCoverage: "issuers-with-crl",
    },
    code: "valid",
  },
  {
    name: "all: a CRL of an unrelated issuer leaves the path uncovered",
    input: { crls: [parseCrl(makeCrl(threeLevels({ int: { cn: "Other Int" } }).int), "other.crl")] },
    code: "crl-missing",
  },
];

for (const c of cases) {
  test(c.name, () => {
    assert.equal(validateChain({ ...base, ...c.input }).code, c.code);
  });
}
