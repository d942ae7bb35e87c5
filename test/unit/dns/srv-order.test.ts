import { test } from "node:test";
import assert from "node:assert/strict";
import { orderSrv } from "../../../src/dns/srv-order.js";
import { seeded } from "./fake-dns.js";

const srv = (name: string, priority: number, weight: number) => ({ name, priority, weight });

test("lower priority always comes first; every record appears exactly once", () => {
  const records = [srv("c", 20, 5), srv("a", 10, 1), srv("d", 30, 0), srv("b", 10, 9)];
  for (let seed = 1; seed < 50; seed++) {
    const order = orderSrv(records, seeded(seed)).map((r) => r.name);
    assert.deepEqual(order.slice(2), ["c", "d"]);
    assert.deepEqual([...order.slice(0, 2)].sort(), ["a", "b"]);
  }
});

test("the same seed gives the same order (deterministic with an injected RNG)", () => {
  const records = Array.from({ length: 8 }, (_, i) => srv(`t${i}`, 1, i * 10));
  assert.deepEqual(orderSrv(records, seeded(7)), orderSrv(records, seeded(7)));
});

test("within a priority, the first pick follows the weights (RFC 2782)", () => {
  const records = [srv("heavy", 1, 90), srv("light", 1, 10)];
  const random = seeded(42);
  let heavyFirst = 0;
  const trials = 4000;
  for (let i = 0; i < trials; i++) if (orderSrv(records, random)[0]?.name === "heavy") heavyFirst++;
  // draw in [0, 100]: heavy wins for draws 0..90 → 91/101 ≈ 0.90
  const share = heavyFirst / trials;
  assert.ok(share > 0.87 && share < 0.93, `heavy first in ${share}`);
});

test("weight-0 records are placed first in the running sum, so they are picked only on a zero draw", () => {
  const records = [srv("w50", 1, 50), srv("zero", 1, 0)];
  assert.equal(orderSrv(records, () => 0)[0]?.name, "zero", "draw 0 selects the weight-0 record");
  assert.equal(orderSrv(records, () => 0.5)[0]?.name, "w50");
  const random = seeded(3);
  let zeroFirst = 0;
  for (let i = 0; i < 2000; i++) if (orderSrv(records, random)[0]?.name === "zero") zeroFirst++;
  assert.ok(zeroFirst > 0 && zeroFirst < 100, `weight 0 first ${zeroFirst}/2000 (≈1/51)`);
});

test("a hostile RNG (NaN, 1, negative) cannot break the ordering", () => {
  const records = [srv("a", 1, 1), srv("b", 1, 1)];
  for (const value of [NaN, 1, -5, Infinity]) {
    const order = orderSrv(records, () => value)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(order, ["a", "b"]);
  }
});
