/**
 * RFC 2782 target selection order: lowest priority first; within one priority, a weighted random order in which a
 * record's chance to come next is proportional to its weight, and weight-0 records are tried only rarely.
 */

export interface Weighted {
  readonly priority: number;
  readonly weight: number;
}

/** A source of uniform numbers in [0, 1); Math.random by default, seeded in tests. */
export type Random = () => number;

export function orderSrv<T extends Weighted>(records: readonly T[], random: Random = Math.random): T[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  return priorities.flatMap((p) =>
    weightedOrder(
      records.filter((r) => r.priority === p),
      random,
    ),
  );
}

/**
 * RFC 2782 "Usage rules": put weight-0 records first, compute running sums, draw a uniform integer in [0, sum]
 * (inclusive) and take the first record whose running sum is >= the draw; repeat with the remaining records.
 */
function weightedOrder<T extends Weighted>(group: readonly T[], random: Random): T[] {
  const remaining = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
  const ordered: T[] = [];
  while (remaining.length > 0) {
    const sum = remaining.reduce((s, r) => s + r.weight, 0);
    const draw = Math.min(sum, Math.floor(clampUnit(random()) * (sum + 1)));
    let running = 0;
    const index = remaining.findIndex((r) => (running += r.weight) >= draw);
    const [picked] = remaining.splice(index < 0 ? 0 : index, 1);
    if (picked !== undefined) ordered.push(picked);
  }
  return ordered;
}

function clampUnit(x: number): number {
  return Number.isFinite(x) && x >= 0 ? Math.min(x, 1 - Number.EPSILON) : 0;
}
