// Measures DNS lab start-up (not a test): node --import tsx test/interop/lab/measure-start.ts [runs] [zones]
// Each run starts a lab with <zones> signed children (plus an unsigned and a bogus one) and stops it.
import { startDnsLab, type LabZone } from "./dns-lab.js";
import { a, tlsa } from "./records.js";

const runs = Number(process.argv[2] ?? 5);
const signedZones = Number(process.argv[3] ?? 5);

function zones(): LabZone[] {
  const signed = Array.from({ length: signedZones }, (_, i) => ({
    name: `z${i}.test.`,
    records: [a("host", "127.0.0.2"), tlsa("_5061._tcp.host", 3, 1, 1, "ab".repeat(32))],
  }));
  return [
    ...signed,
    { name: "plain.test.", security: "unsigned", records: [a("host", "127.0.0.3")] },
    { name: "bogus.test.", security: "bogus", records: [a("host", "127.0.0.4")] },
  ];
}

const totals: number[] = [];
for (let i = 0; i < runs; i++) {
  const lab = await startDnsLab({ zones: zones() });
  const t = lab.timings;
  totals.push(t.totalMs);
  console.log(
    `run ${i + 1}: total ${t.totalMs} ms (knot ${t.knotMs}, DS + unbound ${t.delegationsAndUnboundMs})`,
  );
  const s0 = Date.now();
  await lab.stop();
  console.log(`        stop ${Date.now() - s0} ms`);
}
totals.sort((x, y) => x - y);
console.log(
  `min ${totals[0]} ms, median ${totals[Math.floor(totals.length / 2)]} ms, max ${totals.at(-1)} ms`,
);
