/** A short run of the mutation fuzzer (scripts/fuzz.ts) inside the unit tests: 20,000 inputs, no crash. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateInput, loadSeeds, runFuzz } from "../../../scripts/fuzz.js";

test("fuzz inputs are reproducible from (seed, index) and actually vary", () => {
  const seeds = loadSeeds();
  assert.ok(seeds.length >= 49, "corpus seeds loaded");
  assert.ok(generateInput(seeds, 7, 123).equals(generateInput(seeds, 7, 123)));
  const distinct = new Set(
    Array.from({ length: 200 }, (_, i) => generateInput(seeds, 7, i).toString("latin1")),
  );
  assert.ok(distinct.size > 150);
});

test(
  "20,000 mutated inputs: only SipParseError, no crash, bounded time per input",
  { timeout: 600_000 },
  () => {
    const report = runFuzz({ count: 20_000, seed: 20_251_125 });
    assert.deepEqual(
      report.crashes.map((c) => `#${c.index}: ${c.error.split("\n")[0]}`),
      [],
    );
    // Both outcomes must occur, or the mutators are not exercising the parser.
    assert.ok(report.parsed > 1000, `only ${report.parsed} inputs parsed`);
    assert.ok(report.rejected > 1000, `only ${report.rejected} inputs rejected`);
    assert.ok(report.slowestMs < 2000, `slowest input took ${report.slowestMs} ms`);
  },
);
