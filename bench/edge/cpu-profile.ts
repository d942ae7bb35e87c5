/**
 * Where siptrust's time goes: self time per function from the V8 .cpuprofile files `node --cpu-prof`
 * writes (one per process). A profile is a call tree (`nodes`, each with a callFrame) plus `samples` (the
 * node running at each tick) and `timeDeltas` (µs since the previous sample); a function's self time is the
 * sum of the deltas of the samples that landed in it, over all its nodes. Sample times are on the monotonic
 * clock, so a window measured with process.hrtime in the benchmark selects the measured run alone (no
 * start-up, no tsx compilation, no warm-up).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** µs on the monotonic clock (the one process.hrtime reads). */
  readonly startTime?: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly files: number;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: readonly SelfTime[];
  /** Self time per source file (or category such as "(garbage collector)"). */
  readonly byFile: readonly SelfTime[];
}

/** A time window in µs of the monotonic clock (`process.hrtime.bigint() / 1000n`). */
export interface SampleWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Monotonic-clock µs now, comparable with a .cpuprofile's sample times. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Self time per function over every profile in `dir`, counting only samples inside `window` if given. */
export function summarizeProfiles(dir: string, repo: string, window?: SampleWindow): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byFile = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame] as const));
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    let at = profile.startTime ?? 0;
    samples.forEach((id, i) => {
      const us = Math.max(0, deltas[i] ?? 0);
      at += deltas[i] ?? 0;
      if (window !== undefined && (at < window.fromUs || at > window.toUs)) return;
      const frame = frames.get(id);
      if (frame === undefined) return;
      totalUs += us;
      if (frame.functionName === "(idle)") {
        idleUs += us;
        return;
      }
      const where = location(frame, repo);
      const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
      const key = `${name} ${where}`;
      const entry = byFunction.get(key) ?? { name, where, us: 0 };
      entry.us += us;
      byFunction.set(key, entry);
      const fileKey = where === "" ? name : where.replace(/:\d+$/, "");
      byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
    });
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const rank = (items: Array<{ name: string; where: string; us: number }>): SelfTime[] =>
    items
      .sort((a, b) => b.us - a.us)
      .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: e.us / busyUs }));
  return {
    files: files.length,
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: rank([...byFunction.values()]),
    byFile: rank([...byFile].map(([name, us]) => ({ name, where: "", us }))),
  };
}

/** file[:line] relative to the repository (node internals keep their `node:` URL); "" for V8 categories. */
function location(frame: CallFrame, repo: string): string {
  if (frame.url === "") return "";
  const path = frame.url.startsWith("file://") ? decodeURIComponent(new URL(frame.url).pathname) : frame.url;
  const shown = path.startsWith(repo) ? relative(repo, path) : path;
  // TypeScript runs through tsx, and V8 reports lines of the transformed code: only the file means anything.
  return shown.endsWith(".ts") ? shown : `${shown}:${frame.lineNumber + 1}`;
}
