import { test } from "node:test";
import assert from "node:assert/strict";
import { bestResponse } from "../../../../src/proxy/core/best-response.js";

const c = (status: number) => ({ status, reason: String(status) });

test("§16.7 step 6: 6xx first, else the lowest class, first of its class", () => {
  const table: Array<[number[], number | undefined]> = [
    [[], undefined],
    [[486], 486],
    [[503, 404, 302], 302],
    [[503, 404, 480], 404],
    [[486, 603, 302], 603],
    [[500, 408], 408],
  ];
  for (const [statuses, expected] of table) {
    assert.equal(bestResponse(statuses.map(c))?.status, expected, statuses.join(","));
  }
});
