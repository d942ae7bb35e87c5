/**
 * The edge race (`npm run bench:edge`, issue 7 §5; not a test): siptrust against Kamailio 5.6 in the same
 * run, on the same machine, with the same SIPp scenarios and certificates.
 *
 *   SIPp UAC --TCP--> stunnel4 (client mode: TLS + partner client certificate) --TLS--> proxy --UDP--> SIPp UAS
 *
 * (a) `-t t1`: every call over ONE TCP connection, so one TLS connection into the proxy;
 * (b) `-t tn`: a new TCP connection per call, so a new TLS handshake (no session resumption) per call.
 * Proxies: `siptrust serve --config <generated>` (client certificates required and verified, forwarding to
 * the UAS) and Kamailio 5.6 (tm + rr + tls, verify_certificate/require_certificate against the same CA,
 * `-x tlsf -m 4096`, tcp_children=1, children=1). A call is INVITE/180/200/ACK/BYE/200 (bench/edge/scenarios.ts).
 *
 * For each scenario and proxy the highest rate with < 0.1 % failed calls is searched in bounded steps (a ×2
 * ladder, then bisection; bench/edge/rate-search.ts). Kamailio and siptrust steps alternate so both see the
 * same background load. A set-up (UAS, proxy, stunnel; 1 s warm-up through the chain) serves consecutive
 * passing steps of one proxy and scenario and is replaced after a failed one. A step is rate × --step-seconds
 * calls; it also fails when SIPp could not start its calls at ≥ 90 % of the rate. Per step it prints the CPU
 * of every process group from /proc/<pid>/stat (as cores: CPU seconds per wall second), including stunnel and
 * both SIPps, and "other" (the rest of the machine: other jobs share these cores). Every process is killed
 * when its set-up ends, on failure, on SIGINT/SIGTERM/exit, and by a watchdog for the whole run.
 *
 * Options:
 *   --quick              few, short steps (a smoke run of about 2 minutes)
 *   --step-seconds S     seconds of calls per step (default 5, quick 2)
 *   --max-rate R         highest rate tried in (a) (default 16000, quick 8000)
 *   --max-rate-b R       highest rate tried in (b) (default 1600, quick 800)
 *   --scenarios a,b      which scenarios (default both)
 *   --proxies kamailio,siptrust
 *   --workers N          `siptrust serve --workers N` (default: serve's own default)
 *   --accounting         siptrust writes accounting lines (off by default, as Kamailio has no acc here)
 *   --profile            also run siptrust under --cpu-prof at a fixed rate and print the top self-time
 *   --profile-only       only that (no race)
 *   --profile-rate R     rate for the profile run (default: half of siptrust's best in (a), else 1000)
 *   --profile-scenario a|b
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { makeTempDir, type TempDir } from "../test/interop/tls/temp-dir.js";
import { register, startWatchdog } from "../test/interop/lab/cleanup.js";
import { monotonicUs, summarizeProfiles, type SampleWindow } from "./edge/cpu-profile.js";
import { kamailioLauncher } from "./edge/kamailio-launcher.js";
import { recordProcessGroupsIn } from "./edge/processes.js";
import { writePki, type BenchPki } from "./edge/pki.js";
import { RateSearch, type RateSearchSettings } from "./edge/rate-search.js";
import {
  cpuNotes,
  loadAverage,
  raceTable,
  SCENARIO_TITLES,
  stepLine,
  type RaceRow,
  type ScenarioId,
} from "./edge/report.js";
import { siptrustLauncher } from "./edge/siptrust-launcher.js";
import {
  runStep,
  setupFailure,
  startRig,
  type ProxyLauncher,
  type Rig,
  type ProxyName,
  type StepResult,
  type StepSettings,
} from "./edge/step.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const MAX_FAILURE_RATIO = 0.001;
const MIN_RATE_RATIO = 0.9;
const RECV_TIMEOUT_MS = 5_000;
const FAILURE_EXCERPT = 600;
/** Between two steps on the same set-up: the previous step's last transactions end (RFC 3261 Timer K). */
const PAUSE_BETWEEN_STEPS_MS = 1_000;

interface Options {
  readonly quick: boolean;
  readonly stepSeconds: number;
  readonly maxRateA: number;
  readonly maxRateB: number;
  readonly scenarios: readonly ScenarioId[];
  readonly proxies: readonly ProxyName[];
  readonly workers?: number;
  readonly accounting: boolean;
  readonly profile: boolean;
  readonly profileOnly: boolean;
  readonly profileRate?: number;
  readonly profileScenario: ScenarioId;
}

function numberOption(name: string, fallback: number | undefined): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

function listOption<T extends string>(name: string, allowed: readonly T[]): readonly T[] {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return allowed;
  const values = (process.argv[i + 1] ?? "").split(",").filter((v) => v !== "");
  for (const v of values) {
    if (!allowed.includes(v as T)) throw new Error(`--${name}: ${v} is not one of ${allowed.join(", ")}`);
  }
  return values as T[];
}

function parseOptions(): Options {
  const known = new Set(["--quick", "--accounting", "--profile", "--profile-only"]);
  const withValue = new Set([
    "--step-seconds",
    "--max-rate",
    "--max-rate-b",
    "--scenarios",
    "--proxies",
    "--workers",
    "--profile-rate",
    "--profile-scenario",
  ]);
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (withValue.has(arg)) i++;
    else if (!known.has(arg))
      throw new Error(
        `unknown option ${arg} (see the comment at the top of ${fileURLToPath(import.meta.url)})`,
      );
  }
  const quick = args.includes("--quick");
  const profileScenario = listOption("profile-scenario", ["a", "b"] as const)[0] ?? "a";
  return {
    quick,
    stepSeconds: numberOption("step-seconds", quick ? 2 : 5) ?? 5,
    maxRateA: numberOption("max-rate", quick ? 8000 : 16000) ?? 16000,
    maxRateB: numberOption("max-rate-b", quick ? 800 : 1600) ?? 1600,
    scenarios: listOption("scenarios", ["a", "b"] as const),
    proxies: listOption("proxies", ["kamailio", "siptrust"] as const),
    workers: numberOption("workers", undefined),
    accounting: args.includes("--accounting"),
    profile: args.includes("--profile") || args.includes("--profile-only"),
    profileOnly: args.includes("--profile-only"),
    profileRate: numberOption("profile-rate", undefined),
    profileScenario,
  };
}

function searchSettings(scenario: ScenarioId, o: Options): RateSearchSettings {
  const maxRate = scenario === "a" ? o.maxRateA : o.maxRateB;
  if (o.quick) {
    return {
      start: scenario === "a" ? 1000 : 50,
      factor: 4,
      maxRate,
      bisections: 1,
      resolution: 0.25,
      maxDown: 1,
    };
  }
  return {
    start: scenario === "a" ? 1000 : 50,
    factor: 2,
    maxRate,
    bisections: 3,
    resolution: 0.08,
    maxDown: 3,
  };
}

function requireTools(): void {
  const probes: Array<[string, string[], RegExp, string]> = [
    ["sipp", ["-v"], /SIPp v/, "sip-tester"],
    ["stunnel4", ["-version"], /stunnel 5/, "stunnel4"],
    ["kamailio", ["-v"], /kamailio 5\./, "kamailio + kamailio-tls-modules"],
  ];
  for (const [tool, args, expect, pkg] of probes) {
    const r = spawnSync(tool, args, { encoding: "utf8", timeout: 10_000 });
    if (!expect.test(`${r.stdout}${r.stderr}`)) throw new Error(`${tool} is missing (Debian package ${pkg})`);
  }
}

/** Whether this tree's CLI has `serve` (the bench runs Kamailio alone otherwise, and says so). */
function siptrustServeAvailable(): boolean {
  const r = spawnSync(process.execPath, ["bin/siptrust.js", "serve", "--help"], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });
  return r.status === 0 && /--config/.test(r.stdout);
}

interface ScenarioOutcome {
  readonly row: RaceRow;
  readonly steps: readonly StepResult[];
}

async function raceScenario(
  scenario: ScenarioId,
  launchers: readonly ProxyLauncher[],
  dir: TempDir,
  pki: BenchPki,
  o: Options,
): Promise<ScenarioOutcome> {
  console.log(`\n${SCENARIO_TITLES[scenario]} — ${o.stepSeconds} s steps, load average ${loadAverage()}`);
  const transport = scenario === "a" ? "t1" : "tn";
  const searches = launchers.map((l) => ({
    launcher: l,
    search: new RateSearch(searchSettings(scenario, o)),
    rig: undefined as Rig | undefined,
  }));
  const steps: StepResult[] = [];
  /** One step on the entry's set-up (started if needed); the set-up is replaced after a failed step. */
  const stepOn = async (entry: (typeof searches)[number], settings: StepSettings): Promise<StepResult> => {
    let step: StepResult;
    try {
      // One retry: on a busy machine a start (tsx compiling, cluster workers) can exceed its bound once.
      entry.rig ??= await startRig(entry.launcher, dir, pki, transport, settings.rate).catch(
        (err: unknown) => {
          console.log(indent(`set-up failed, retrying once: ${(err as Error).message.split("\n")[0]}`));
          return startRig(entry.launcher, dir, pki, transport, settings.rate);
        },
      );
      await delay(PAUSE_BETWEEN_STEPS_MS);
      step = await runStep(entry.rig, settings);
    } catch (err) {
      step = setupFailure(entry.launcher.name, settings, err);
    }
    if (!step.pass) {
      // A fresh set-up after a failure: the next step must not inherit this one's backlog.
      await entry.rig?.stop();
      entry.rig = undefined;
    }
    return step;
  };
  try {
    // Alternate the proxies step by step: a change in background load then hits both alike.
    for (;;) {
      const pending = searches.filter((s) => s.search.next() !== undefined);
      if (pending.length === 0) break;
      for (const entry of pending) {
        const rate = entry.search.next();
        if (rate === undefined) continue;
        const settings = stepSettings(scenario, rate, o);
        const step = await stepOn(entry, settings);
        steps.push(step);
        entry.search.record(rate, step.pass);
        printStep(scenario, step);
      }
    }
    // CPU per call is comparable only at the same rate: if the bisections ended on different rates, run the
    // proxy that has no passing step at the lower of the two best rates once more at that rate.
    const bests = searches.map((e) => e.search.best());
    const common =
      bests.every((b) => b !== undefined) && bests.length > 1 ? Math.min(...(bests as number[])) : 0;
    for (const entry of common > 0 ? searches : []) {
      const done = steps.some((x) => x.proxy === entry.launcher.name && x.pass && x.settings.rate === common);
      if (done) continue;
      const step = await stepOn(entry, stepSettings(scenario, common, o));
      steps.push(step);
      printStep(scenario, step, " (same-rate CPU comparison, not part of the search)");
    }
  } finally {
    for (const entry of searches) await entry.rig?.stop();
  }
  const best = (proxy: ProxyName): StepResult | undefined => {
    const passed = steps.filter((s) => s.proxy === proxy && s.pass);
    return passed.sort((x, y) => y.settings.rate - x.settings.rate)[0];
  };
  const limit = (proxy: ProxyName): StepResult | undefined => {
    const top = best(proxy)?.settings.rate ?? 0;
    const failed = steps.filter((s) => s.proxy === proxy && !s.pass && s.settings.rate > top);
    return failed.sort((x, y) => x.settings.rate - y.settings.rate)[0];
  };
  const row: RaceRow = {
    scenario,
    kamailio: best("kamailio"),
    siptrust: best("siptrust"),
    kamailioLimit: limit("kamailio"),
    siptrustLimit: limit("siptrust"),
    steps,
  };
  return { row, steps };
}

function printStep(scenario: ScenarioId, step: StepResult, note = ""): void {
  const line = stepLine(scenario, step);
  const end = line.indexOf("\n");
  console.log(end < 0 ? line + note : line.slice(0, end) + note + line.slice(end));
  if (step.error !== undefined) console.log(indent(step.error));
  else if (!step.pass && step.uac.firstErrors !== "") {
    console.log(indent(`first failure: ${step.uac.firstErrors.slice(0, FAILURE_EXCERPT).trimEnd()}`));
  }
}

function stepSettings(scenario: ScenarioId, rate: number, o: Options): StepSettings {
  return {
    transport: scenario === "a" ? "t1" : "tn",
    rate,
    seconds: o.stepSeconds,
    maxFailureRatio: MAX_FAILURE_RATIO,
    minRateRatio: MIN_RATE_RATIO,
    recvTimeoutMs: RECV_TIMEOUT_MS,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
}

async function profileRun(dir: TempDir, pki: BenchPki, o: Options, rows: readonly RaceRow[]): Promise<void> {
  const scenario = o.profileScenario;
  const best = rows.find((r) => r.scenario === scenario)?.siptrust?.settings.rate;
  const rate =
    o.profileRate ?? (best !== undefined ? Math.max(10, Math.round(best / 2)) : scenario === "a" ? 1000 : 50);
  const profileDir = makeTempDir("edge-prof");
  try {
    const launcher = siptrustLauncher({
      workers: o.workers,
      accounting: o.accounting,
      cpuProfileDir: profileDir.path,
    });
    console.log(
      `\nProfile: siptrust under --cpu-prof, ${SCENARIO_TITLES[scenario]}, ${rate}/s for ${o.stepSeconds} s`,
    );
    const settings = stepSettings(scenario, rate, o);
    let step: StepResult;
    let window: SampleWindow | undefined;
    try {
      const rig = await startRig(launcher, dir, pki, scenario === "a" ? "t1" : "tn", rate);
      try {
        const fromUs = monotonicUs();
        step = await runStep(rig, settings);
        window = { fromUs, toUs: monotonicUs() };
      } finally {
        // SIGTERM (launcher.stop): Node writes the profile on its way out.
        await rig.stop();
      }
    } catch (err) {
      step = setupFailure("siptrust", settings, err);
    }
    console.log(stepLine(scenario, step));
    if (step.error !== undefined) console.log(indent(step.error));
    // Only the measured run: start-up (tsx compiling the sources) and warm-up would dominate otherwise.
    const summary = summarizeProfiles(profileDir.path, REPO, window);
    if (summary.files === 0) {
      console.log("  no .cpuprofile written (siptrust did not exit normally on SIGTERM?)");
      return;
    }
    const busy = summary.totalMs - summary.idleMs;
    console.log(
      `  ${summary.files} profile(s), ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy, over the measured run only`,
    );
    console.log("  top self time (share of busy time):");
    for (const f of summary.functions.slice(0, 25)) {
      console.log(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
    }
    console.log("  by file:");
    for (const f of summary.byFile.slice(0, 15)) {
      console.log(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
    }
  } finally {
    profileDir.remove();
  }
}

async function main(): Promise<void> {
  const o = parseOptions();
  requireTools();
  const watchdogMs = o.quick ? 6 * 60_000 : 60 * 60_000;
  const watchdog = setTimeout(() => {
    console.error(`bench:edge: watchdog fired after ${watchdogMs / 1000} s; stopping`);
    // process.exit runs the clean-up's exit handler: every registered process group is killed.
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();
  const dir = makeTempDir("edge-bench");
  register({ cleanupNow: () => dir.remove() });
  // If this process is SIGKILLed, the watchdog kills every recorded process group (and the directory).
  recordProcessGroupsIn(dir.path);
  const guard = startWatchdog(dir.path, watchdogMs + 60_000);
  register({ cleanupNow: () => guard.killNow() });
  try {
    const pki = writePki(dir);
    const launchers: ProxyLauncher[] = [];
    if (o.proxies.includes("kamailio")) launchers.push(kamailioLauncher(4096));
    const siptrust = siptrustLauncher({ workers: o.workers, accounting: o.accounting });
    let siptrustNote = "";
    if (o.proxies.includes("siptrust")) {
      if (siptrustServeAvailable()) launchers.push(siptrust);
      else
        siptrustNote =
          "siptrust: `node bin/siptrust.js serve --help` failed in this tree; siptrust not raced.";
    }
    console.log(
      `edge race: ${launchers.map((l) => l.name).join(" vs ")} on ${cpus().length} cores (Node ${process.version}), ` +
        `< ${MAX_FAILURE_RATIO * 100} % failed calls, start rate ≥ ${MIN_RATE_RATIO * 100} % of target, load average ${loadAverage()}`,
    );
    if (siptrustNote !== "") console.log(siptrustNote);
    const rows: RaceRow[] = [];
    for (const scenario of o.profileOnly ? [] : o.scenarios) {
      const outcome = await raceScenario(scenario, launchers, dir, pki, o);
      rows.push(outcome.row);
    }
    if (rows.length > 0) {
      console.log(`\nResult (load average now ${loadAverage()}):`);
      console.log(raceTable(rows));
      console.log(
        "\nCPU during each proxy's best step (CPU seconds; cores = CPU s per wall s), and what stopped the climb:",
      );
      console.log(cpuNotes(rows));
      if (launchers.includes(siptrust)) console.log(`\nsiptrust command: ${siptrust.lastCommand()}`);
    }
    if (o.profile && launchers.includes(siptrust)) await profileRun(dir, pki, o, rows);
  } finally {
    dir.remove();
    await guard.stop();
    clearTimeout(watchdog);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
