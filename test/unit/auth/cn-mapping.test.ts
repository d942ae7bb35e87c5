import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CnMappingError,
  MAX_REPORTED_PROBLEMS,
  mappedIdentities,
  parseCnMapping,
  type CnMappingErrorCode,
} from "../../../src/auth/cn-mapping.js";
import { identityText } from "../../../src/auth/identity.js";

function problemsOf(text: string, file = "devices.map"): CnMappingError {
  try {
    parseCnMapping(text, file);
  } catch (err) {
    assert.ok(err instanceof CnMappingError, `expected CnMappingError, got ${String(err)}`);
    return err;
  }
  assert.fail("parseCnMapping accepted an invalid file");
}

test("valid file: comments, blank lines, CRLF, several ids, all three id forms", () => {
  const text = [
    "# factory certificates of the lobby phones",
    "",
    "00:11:22:33:44:55\tlobby.example.com, alice@example.com,sip:bob@example.com",
    "   # indented comment",
    "phone-2\tsip:example.org\r",
    "Phone With Spaces\tBücher.Example.",
    "",
  ].join("\n");
  const mapping = parseCnMapping(text, "devices.map");
  assert.equal(mapping.source, "devices.map");
  assert.deepEqual([...mapping.entries.keys()], ["00:11:22:33:44:55", "phone-2", "Phone With Spaces"]);
  const texts = (cn: string) =>
    mappedIdentities(mapping, [cn]).map((i) => `${i.kind} ${identityText(i)} ${i.source}`);
  assert.deepEqual(texts("00:11:22:33:44:55"), [
    "domain lobby.example.com mapping",
    "uri sip:alice@example.com mapping",
    "uri sip:bob@example.com mapping",
  ]);
  // A full sip: URI without a user part is a domain identity, as in RFC 5922 §7.1.
  assert.deepEqual(texts("phone-2"), ["domain example.org mapping"]);
  // IDN written as U-labels with a trailing dot: stored as the normalized A-label form.
  assert.deepEqual(texts("Phone With Spaces"), ["domain xn--bcher-kva.example mapping"]);
});

test("an empty file and a comment-only file are valid and map nothing", () => {
  assert.equal(parseCnMapping("", "empty.map").entries.size, 0);
  assert.equal(parseCnMapping("# nothing yet\n\n", "c.map").entries.size, 0);
});

test("CN lookup is exact: case-sensitive, and several subject CNs map nothing", () => {
  const mapping = parseCnMapping("dev-1\ta.example\n", "m");
  assert.equal(mappedIdentities(mapping, ["dev-1"]).length, 1);
  assert.equal(mappedIdentities(mapping, ["DEV-1"]).length, 0);
  assert.equal(mappedIdentities(mapping, []).length, 0);
  assert.equal(mappedIdentities(mapping, ["dev-1", "dev-1"]).length, 0);
});

const BAD_LINES: ReadonlyArray<readonly [string, string, CnMappingErrorCode, RegExp]> = [
  ["no tab", "dev-1 a.example", "missing-tab", /missing TAB/],
  ["two tabs", "dev-1\ta.example\tb.example", "extra-tab", /more than one TAB/],
  ["empty CN", "\ta.example", "empty-cn", /empty CN/],
  ["blank CN", "  \ta.example", "empty-cn", /empty CN/],
  ["CN with trailing blank", "dev-1 \ta.example", "bad-cn", /leading or trailing/],
  ["CN over 64 characters", `${"x".repeat(65)}\ta.example`, "bad-cn", /longer than 64/],
  ["no ids", "dev-1\t", "empty-id", /empty id \(id #1\)/],
  ["empty id between commas", "dev-1\ta.example,,b.example", "empty-id", /empty id \(id #2\)/],
  ["trailing comma", "dev-1\ta.example,", "empty-id", /id #2/],
  ["invalid domain label", "dev-1\texa_mple.com", "invalid-id", /invalid label/],
  ["empty label", "dev-1\ta..example", "invalid-id", /empty label/],
  ["label over 63", `dev-1\t${"a".repeat(64)}.example`, "invalid-id", /longer than 63/],
  ["wildcard", "dev-1\t*.example.com", "invalid-id", /wildcard/],
  ["IPv4 literal", "dev-1\t192.0.2.1", "invalid-id", /IP address/],
  ["IPv6 literal", "dev-1\t[2001:db8::1]", "invalid-id", /IP address/],
  ["user at IP", "dev-1\tbob@192.0.2.1", "invalid-id", /IP address/],
  ["sip URI with IP host", "dev-1\tsip:bob@192.0.2.1", "invalid-id", /IP address/],
  ["sips URI", "dev-1\tsips:bob@example.com", "invalid-id", /write sip:/],
  ["tel URI", "dev-1\ttel:+12015550123", "invalid-id", /only sip: URIs/],
  ["sip URI with port", "dev-1\tsip:bob@example.com:5061", "invalid-id", /a port not allowed/],
  ["sip URI with params", "dev-1\tsip:bob@example.com;transport=tls", "invalid-id", /parameters not allowed/],
  ["sip URI with password", "dev-1\tsip:bob:secret@example.com", "invalid-id", /password not allowed/],
  ["user@ with empty user", "dev-1\t@example.com", "invalid-id", /empty user part/],
  ["user with a space", "dev-1\tbo b@example.com", "invalid-id", /not a valid SIP identity/],
  ["same id twice", "dev-1\ta.example, A.Example.", "duplicate-id", /listed twice/],
  ["same URI id twice, escaped", "dev-1\tbob@x.example,sip:b%6Fb@x.example", "duplicate-id", /listed twice/],
];

for (const [name, line, code, reason] of BAD_LINES) {
  test(`bad line is rejected: ${name}`, () => {
    const error = problemsOf(`# header\n${line}\n`);
    assert.equal(error.code, "cn-mapping-invalid");
    assert.equal(error.problems.length, 1, JSON.stringify(error.problems));
    const [problem] = error.problems;
    assert.equal(problem?.code, code);
    assert.equal(problem?.line, 2);
    assert.equal(problem?.file, "devices.map");
    assert.match(problem?.reason ?? "", reason);
    assert.match(error.message, /devices\.map:2: /);
  });
}

test("several errors in one file are reported together, each with file:line", () => {
  const text = [
    "dev-1\ta.example", // 1 ok
    "dev-2 b.example", // 2 missing tab
    "dev-3\ta.example,,b.example", // 3 empty id
    "# comment", // 4
    "dev-1\tc.example", // 5 duplicate CN (first at 1)
    "dev-4\texa mple.com", // 6 invalid domain
    "dev-5\t*.example, tel:123", // 7 two bad ids on one line
    "", // 8
  ].join("\n");
  const error = problemsOf(text, "/etc/siptrust/devices.map");
  assert.deepEqual(
    error.problems.map((p) => [p.line, p.code]),
    [
      [2, "missing-tab"],
      [3, "empty-id"],
      [5, "duplicate-cn"],
      [6, "invalid-id"],
      [7, "invalid-id"],
      [7, "invalid-id"],
    ],
  );
  assert.match(error.problems[2]?.reason ?? "", /already listed at \/etc\/siptrust\/devices\.map:1/);
  for (const line of [2, 3, 5, 6, 7]) assert.match(error.message, new RegExp(`devices\\.map:${line}: `));
  assert.match(error.message, /6 problem\(s\)/);
});

test("a CN repeated on a line with bad ids is still reported as a duplicate", () => {
  const error = problemsOf("dev-1\t\ndev-1\ta.example\n");
  assert.deepEqual(
    error.problems.map((p) => [p.line, p.code]),
    [
      [1, "empty-id"],
      [2, "duplicate-cn"],
    ],
  );
});

test("a garbage file gives a bounded problem list with a count of the rest", () => {
  const lines = 5000;
  const error = problemsOf("not a mapping line\n".repeat(lines));
  assert.equal(error.problems.length, MAX_REPORTED_PROBLEMS);
  assert.equal(error.omitted, lines - MAX_REPORTED_PROBLEMS);
  assert.match(error.message, new RegExp(`and ${lines - MAX_REPORTED_PROBLEMS} more`));
});
