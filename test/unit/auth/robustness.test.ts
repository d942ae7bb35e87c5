/** Bad input never crashes: arbitrary text in, a result or the typed error out (fast-check, bounded runs). */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { authorizeRequest } from "../../../src/auth/authorize.js";
import { CnMappingError, parseCnMapping } from "../../../src/auth/cn-mapping.js";
import { referencePeer } from "./fixtures.js";

const CODES = new Set([
  "no-client-cert",
  "malformed-from",
  "from-not-covered",
  "trusted-peer",
  "covered-by-domain",
  "covered-by-uri",
  "covered-by-mapping",
  "in-dialog-skipped",
]);

/** Text biased towards SIP URI syntax so that parsing gets past the first character. */
const sipish = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc
    .tuple(
      fc.constantFrom("sip:", "sips:", "SIP:", "tel:", ""),
      fc.string({ unit: fc.constantFrom(..."ab%2F6@.:;=?&[]+-_ \t\r\nü*"), maxLength: 40 }),
      fc.constantFrom(
        "a.example",
        "B.example.",
        "c.example",
        "[::1]",
        "192.0.2.1",
        "xn--bcher-kva.example",
        "",
      ),
    )
    .map(([scheme, middle, host]) => `${scheme}${middle}@${host}`),
);

test("authorizeRequest returns a known code for any From text", () => {
  const peer = referencePeer();
  fc.assert(
    fc.property(sipish, fc.option(fc.string({ maxLength: 10 })), fc.boolean(), (from, toTag, skip) => {
      const result = authorizeRequest(
        peer,
        { method: "INVITE", fromUri: from, toTag },
        { skipInDialog: skip },
      );
      assert.ok(CODES.has(result.code), result.code);
      assert.equal(typeof result.detail, "string");
      // The detail never carries raw line breaks from the wire into a log line.
      assert.doesNotMatch(result.detail, /[\r\n]/);
    }),
    { numRuns: 1000 },
  );
});

test("parseCnMapping either returns a mapping or throws CnMappingError", () => {
  const line = fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom("\t", "", "\t\t", " "), sipish)
    .map(([cn, sep, ids]) => `${cn}${sep}${ids}`);
  fc.assert(
    fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
      const text = lines.join("\n");
      const lineCount = text.split("\n").length;
      try {
        const mapping = parseCnMapping(text, "fuzz.map");
        assert.ok(mapping.entries.size <= lineCount);
      } catch (err) {
        assert.ok(err instanceof CnMappingError, String(err));
        assert.ok(err.problems.length > 0);
        for (const p of err.problems) assert.ok(p.line >= 1 && p.line <= lineCount);
      }
    }),
    { numRuns: 1000 },
  );
});
