/**
 * What the edge benchmark prints: one line per step as it runs, then the race table (max rate per proxy
 * and scenario, the ratio, the CPU of every process during each proxy's best step) and a note on what
 * limited each side.
 */
import { cpus, loadavg } from "node:os";
import { OTHER, type StepResult } from "./step.js";

export const SCENARIO_TITLES = {
  a: "(a) one TLS connection, all calls",
  b: "(b) new TLS connection per call",
} as const;
export type ScenarioId = keyof typeof SCENARIO_TITLES;

export function loadAverage(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
}

/** CPU of each process group as a share of one core over the run, e.g. "kamailio 0.83 (busiest 0.61)". */
export function cpuShares(step: StepResult): string {
  const seconds = Math.max(step.uac.wallSeconds, 1e-3);
  return [...step.cpu]
    .map(([name, cpu]) => {
      const busiest =
        name === step.proxy && step.proxyBusiest < cpu - 0.01
          ? ` (busiest process ${(step.proxyBusiest / seconds).toFixed(2)})`
          : "";
      return `${name} ${(cpu / seconds).toFixed(2)}${busiest}`;
    })
    .join(", ");
}

export function stepLine(scenario: ScenarioId, step: StepResult): string {
  const verdict = step.pass ? "pass" : "FAIL";
  const failures = [...step.uac.failures].map(([k, v]) => `${k}=${v}`).join(" ");
  const parts = [
    `  ${scenario} ${step.proxy.padEnd(8)} ${String(step.settings.rate).padStart(6)}/s ${verdict}`,
    `${step.uac.successful}/${step.calls} ok in ${step.uac.wallSeconds.toFixed(1)} s`,
    `(${step.achievedRate.toFixed(0)}/s)`,
    step.pass ? "" : `— ${step.why}${failures === "" ? "" : ` [${failures}]`}`,
  ];
  const d = step.udpDrops;
  const drops =
    d.proxy + d.uas + d.system > 0 ? `; UDP drops: proxy ${d.proxy}, UAS ${d.uas}, machine ${d.system}` : "";
  const cpu = step.cpu.size > 0 ? `\n      cores: ${cpuShares(step)}; load ${loadAverage()}${drops}` : "";
  return parts.filter((p) => p !== "").join(" ") + cpu;
}

export interface RaceRow {
  readonly scenario: ScenarioId;
  readonly kamailio?: StepResult;
  readonly siptrust?: StepResult;
  /** The lowest failing step above the best, per proxy (what stopped the climb). */
  readonly kamailioLimit?: StepResult;
  readonly siptrustLimit?: StepResult;
  /** Every step of the scenario, both proxies. */
  readonly steps: readonly StepResult[];
}

function rate(step: StepResult | undefined): string {
  return step === undefined ? "none" : `${step.settings.rate}/s`;
}

/** Proxy CPU per completed call in a step, in µs (the proxy's whole process group). */
export function cpuPerCall(step: StepResult): number {
  return ((step.cpu.get(step.proxy) ?? 0) * 1e6) / Math.max(1, step.uac.successful);
}

/**
 * The highest rate at which both proxies passed, with each one's CPU per call there: a comparison that
 * holds even when the load generator or a busy machine, not the proxy, ended the climb.
 */
export function sameRateCpu(
  steps: readonly StepResult[],
): { rate: number; k: number; s: number } | undefined {
  const passed = (proxy: string): Map<number, StepResult> =>
    new Map(steps.filter((x) => x.proxy === proxy && x.pass).map((x) => [x.settings.rate, x] as const));
  const k = passed("kamailio");
  const s = passed("siptrust");
  const common = [...k.keys()].filter((r) => s.has(r)).sort((a, b) => b - a)[0];
  if (common === undefined) return undefined;
  const ks = k.get(common) as StepResult;
  const ss = s.get(common) as StepResult;
  return { rate: common, k: cpuPerCall(ks), s: cpuPerCall(ss) };
}

export function raceTable(rows: readonly RaceRow[]): string {
  const header = [
    "scenario",
    "Kamailio max",
    "siptrust max",
    "siptrust/Kamailio",
    "proxy CPU/call at a rate both passed (K / s)",
  ];
  const body = rows.map((r) => {
    const k = r.kamailio?.settings.rate;
    const s = r.siptrust?.settings.rate;
    const ratio = k !== undefined && s !== undefined ? (s / k).toFixed(2) : "n/a";
    const same = sameRateCpu(r.steps);
    const cpu =
      same === undefined
        ? "n/a"
        : `${same.k.toFixed(0)} µs / ${same.s.toFixed(0)} µs at ${same.rate}/s (×${(same.k / same.s).toFixed(2)})`;
    return [SCENARIO_TITLES[r.scenario], rate(r.kamailio), rate(r.siptrust), ratio, cpu];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    "| " + cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ") + " |";
  const rule = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [line(header), rule, ...body.map(line)].join("\n");
}

/** CPU of every process during the best step (cores = CPU seconds per wall second), and the limit. */
export function cpuNotes(rows: readonly RaceRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    for (const [best, limit] of [
      [r.kamailio, r.kamailioLimit],
      [r.siptrust, r.siptrustLimit],
    ] as const) {
      const step = best ?? limit;
      if (step === undefined) continue;
      const label = `${r.scenario} ${step.proxy}`;
      if (best !== undefined) {
        out.push(
          `  ${label} best step ${best.settings.rate}/s: CPU s ${[...best.cpu].map(([n, c]) => `${n} ${c.toFixed(2)}`).join(", ")}` +
            ` over ${best.uac.wallSeconds.toFixed(1)} s; proxy ${cpuPerCall(best).toFixed(0)} µs CPU/call`,
        );
        out.push(`      cores: ${cpuShares(best)}`);
      }
      if (best === undefined) out.push(`  ${label}: no step passed`);
      if (limit !== undefined) out.push(`      limit: ${limitNote(limit)}`);
    }
  }
  return out.join("\n");
}

/**
 * A reading of the lowest failing step: which process was (nearly) saturated. On a shared machine the sum
 * of all shares (with "other": everything outside the step) near the core count means the machine itself,
 * not one process, was the limit.
 */
export function limitNote(step: StepResult): string {
  const seconds = Math.max(step.uac.wallSeconds, 1e-3);
  const shares = [...step.cpu].map(([name, cpu]) => ({ name, cores: cpu / seconds }));
  const total = shares.reduce((a, s) => a + s.cores, 0);
  const top = shares.filter((s) => s.name !== OTHER).sort((a, b) => b.cores - a.cores)[0];
  const what = `${step.settings.rate}/s failed (${step.why})`;
  if (top === undefined) return `${what}; no CPU figures`;
  const busiest = `busiest: ${top.name} ${top.cores.toFixed(2)} cores`;
  const cores = cpus().length;
  if (total >= 0.9 * cores) {
    return `${what}; machine saturated (${total.toFixed(2)} of ${cores} cores busy), ${busiest}`;
  }
  const proxyProcess = step.proxyBusiest / seconds;
  if (proxyProcess >= 0.9) {
    return `${what}; a ${step.proxy} process saturated one core (${proxyProcess.toFixed(2)}), ${busiest}`;
  }
  if (top.cores >= 0.9) return `${what}; ${top.name} saturated one core (${busiest})`;
  return `${what}; no process saturated a core (${busiest}, machine ${total.toFixed(2)} of ${cores} cores)`;
}
