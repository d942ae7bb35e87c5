import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildClientCredentialTable,
  chooseClientCredentials,
  namedCredentials,
} from "../../../src/tls/client-credential-table.js";

const fedA = namedCredentials("fed-a", "CERT-A", "KEY-A");
const fedB = namedCredentials("fed-b", "CERT-B", "KEY-B");
const fallback = namedCredentials("default", "CERT-D", "KEY-D");

test("each destination domain gets its federation's certificate, others the default", () => {
  const table = buildClientCredentialTable(
    [
      { domains: ["a1.example", "A2.Example."], credentials: fedA },
      { domains: ["b1.example"], credentials: fedB },
    ],
    fallback,
  );
  assert.equal(chooseClientCredentials(table, "a2.example").credentials?.name, "fed-a");
  assert.equal(chooseClientCredentials(table, "B1.EXAMPLE").credentials?.name, "fed-b");
  const other = chooseClientCredentials(table, "sub.a1.example");
  assert.equal(other.code, "default", "no suffix matching");
  assert.equal(other.credentials?.name, "default");
  assert.notEqual(fedA.fingerprint, fedB.fingerprint);
});

test("without a default entry an unknown destination gets no client certificate", () => {
  const table = buildClientCredentialTable([{ domains: ["a1.example"], credentials: fedA }]);
  assert.equal(chooseClientCredentials(table, "c.example").code, "none");
});

test("a domain listed under two certificates is refused", () => {
  assert.throws(
    () =>
      buildClientCredentialTable([
        { domains: ["x.example"], credentials: fedA },
        { domains: ["X.example"], credentials: fedB },
      ]),
    { code: "duplicate-destination", message: /two client certificates/ },
  );
});
