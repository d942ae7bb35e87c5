/**
 * One step of the race: `rate × seconds` calls at `rate` calls/s through a running set-up (SIPp UAS, the
 * proxy, stunnel: a "rig"), with the CPU time of every process group measured over the run, and the
 * verdict (< 0.1 % failed, calls started at ≥ 90 % of the rate).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TempDir } from "../../test/interop/tls/temp-dir.js";
import { freeTcpPort } from "../../test/interop/tls/free-port.js";
import { EDGE_NAME, type BenchPki } from "./pki.js";
import { groupProcessesCpu, machineBusySeconds, snapshotCpu, type Proc } from "./processes.js";
import { startUac, startUas, type UacResult, type UacTransport } from "./sipp.js";
import { freeUdpPort } from "./udp-port.js";
import { udpReceiveBufferErrors, udpSocketDrops } from "./sockets.js";
import { startStunnel } from "./stunnel.js";

export type ProxyName = "kamailio" | "siptrust";

/** What a proxy needs to join a step: where it listens for TLS and where the UAS is. */
export interface ProxyContext {
  readonly dir: TempDir;
  readonly pki: BenchPki;
  readonly tlsPort: number;
  readonly uasPort: number;
}

/** A started proxy: its process (group) and the UDP port it uses towards the UAS. */
export interface StartedProxy {
  readonly proc: Proc;
  readonly udpPort: number;
}

export interface ProxyLauncher {
  readonly name: ProxyName;
  /** Starts the proxy; resolves once it listens. Its process group is what the CPU column measures. */
  start(context: ProxyContext): Promise<StartedProxy>;
  /** How to end it at the end of a step (default: SIGKILL to its process group). */
  stop?(proc: Proc): Promise<void>;
}

export interface StepSettings {
  readonly transport: UacTransport;
  readonly rate: number;
  readonly seconds: number;
  /** A step passes when fewer than this fraction of calls fail (issue 7 §5: 0.1 %). */
  readonly maxFailureRatio: number;
  /** ... and the calls were started at no less than this fraction of the target rate. */
  readonly minRateRatio: number;
  readonly recvTimeoutMs: number;
}

export interface StepResult {
  readonly proxy: ProxyName;
  readonly settings: StepSettings;
  readonly calls: number;
  readonly uac: UacResult;
  /** Calls per second actually completed over the run (calls / wall time of the UAC run). */
  readonly achievedRate: number;
  readonly pass: boolean;
  readonly why: string;
  /** CPU seconds per process group over the measured run, and the run's wall time. */
  readonly cpu: ReadonlyMap<string, number>;
  /** CPU seconds of the proxy's busiest single process over the run (Kamailio is several processes). */
  readonly proxyBusiest: number;
  /** UDP datagrams dropped for a full receive buffer during the run: the proxy's socket, the UAS's, all. */
  readonly udpDrops: { readonly proxy: number; readonly uas: number; readonly system: number };
  readonly error?: string;
}

/** Key of the CPU map for what the machine spent outside the step's processes. */
export const OTHER = "other";
const WARMUP_SECONDS = 1;
const PACE_SLACK_SECONDS = 0.5;
const WARMUP_MAX_RATE = 300;

/**
 * A running set-up for one proxy and scenario: SIPp UAS, the proxy, stunnel. Reused by consecutive passing
 * steps (a start of siptrust through tsx takes seconds); a failed step ends it, so that no step inherits a
 * failed one's backlog.
 */
export interface Rig {
  readonly launcher: ProxyLauncher;
  readonly transport: UacTransport;
  readonly dir: TempDir;
  readonly proxy: Proc;
  /** UAS, proxy, stunnel. */
  readonly procs: readonly Proc[];
  readonly stunnelPort: number;
  readonly uasPort: number;
  readonly proxyUdpPort: number;
  stop(): Promise<void>;
}

/** Starts UAS, proxy and stunnel, and proves the chain with a short warm-up (1 s, at most 300 calls/s). */
export async function startRig(
  launcher: ProxyLauncher,
  parent: TempDir,
  pki: BenchPki,
  transport: UacTransport,
  warmRate: number,
): Promise<Rig> {
  const procs: Proc[] = [];
  let proxy: Proc | undefined;
  // Its own directory (inside the run's, which the watchdog removes): two rigs, one per proxy, run side by
  // side, each with its configs and SIPp files.
  const dir = subDirectory(parent, `${launcher.name}-${transport}-`);
  const stop = async (): Promise<void> => {
    for (const p of [...procs].reverse()) {
      if (p === proxy && launcher.stop !== undefined) await launcher.stop(p);
      else await p.kill();
    }
    dir.remove();
  };
  try {
    const uasPort = await freeUdpPort();
    procs.push(await startUas(dir, uasPort, await freeUdpPort()));
    const tlsPort = await freeTcpPort();
    const started = await launcher.start({ dir, pki, tlsPort, uasPort });
    proxy = started.proc;
    procs.push(proxy);
    const stunnelPort = await freeTcpPort();
    procs.push(
      await startStunnel(dir, {
        acceptPort: stunnelPort,
        connectPort: tlsPort,
        cert: pki.clientCert,
        key: pki.clientKey,
        caFile: pki.caFile,
        serverName: EDGE_NAME,
      }),
    );
    const rig: Rig = {
      launcher,
      transport,
      dir,
      proxy,
      procs,
      stunnelPort,
      uasPort,
      proxyUdpPort: started.udpPort,
      stop,
    };
    const rate = Math.max(1, Math.min(warmRate, WARMUP_MAX_RATE));
    const warm = await runUac(
      rig,
      `${launcher.name}-${transport}-warmup`,
      rate,
      Math.max(1, Math.round(rate * WARMUP_SECONDS)),
      {
        recvTimeoutMs: 10_000,
      },
    );
    if (warm.result.successful === 0) {
      const r = warm.result;
      const why = `exit ${r.exitCode}, failed ${r.failed}${r.aborted === undefined ? "" : `, aborted: ${r.aborted}`}`;
      throw new Error(`warm-up: no call completed (${why})\n${r.firstErrors}\n${tail(r.output)}`);
    }
    return rig;
  } catch (err) {
    const logs = procs.map((p) => `--- ${p.name}\n${tail(p.output())}`).join("\n");
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}

interface UacRunResult {
  readonly result: UacResult;
  readonly cpu: Map<string, number>;
  /** CPU seconds of the proxy's busiest single process. */
  readonly busiest: number;
  readonly udpDrops: StepResult["udpDrops"];
}

async function runUac(
  rig: Rig,
  name: string,
  rate: number,
  calls: number,
  limits: {
    recvTimeoutMs: number;
    abortWhen?: (s: ReadonlyMap<string, string>, t: number) => string | undefined;
  },
): Promise<UacRunResult> {
  const run = startUac({
    dir: rig.dir,
    name,
    transport: rig.transport,
    remotePort: rig.stunnelPort,
    localPort: await freeTcpPort(),
    controlPort: await freeUdpPort(),
    calls,
    rate,
    recvTimeoutMs: limits.recvTimeoutMs,
    hardLimitMs: Math.ceil((calls / rate) * 1000 + limits.recvTimeoutMs + 10_000),
    ...(limits.abortWhen ? { abortWhen: limits.abortWhen } : {}),
  });
  const measured = [...rig.procs, run.proc];
  const machineBefore = machineBusySeconds();
  const dropsBefore = udpDrops(rig);
  const proxyBefore = groupProcessesCpu(rig.proxy.pid);
  const before = snapshotCpu(measured);
  // Sampled while SIPp runs: its group is gone once it has exited.
  let after = before;
  const sampler = setInterval(() => (after = snapshotCpu(measured)), 100);
  try {
    const result = await run.result;
    for (const [k, v] of snapshotCpu(rig.procs)) after.set(k, v);
    const cpu = new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const));
    // Everything else the machine did meanwhile (other jobs, the kernel's softirq work, this script).
    const ours = [...cpu.values()].reduce((a, b) => a + b, 0);
    cpu.set(OTHER, Math.max(0, machineBusySeconds() - machineBefore - ours));
    const deltas = [...groupProcessesCpu(rig.proxy.pid)].map(([pid, v]) => v - (proxyBefore.get(pid) ?? 0));
    const dropsAfter = udpDrops(rig);
    const drops = {
      proxy: dropsAfter.proxy - dropsBefore.proxy,
      uas: dropsAfter.uas - dropsBefore.uas,
      system: dropsAfter.system - dropsBefore.system,
    };
    return { result, cpu, busiest: Math.max(0, ...deltas), udpDrops: drops };
  } finally {
    clearInterval(sampler);
    await run.proc.kill();
  }
}

/** `rate × seconds` calls at `rate` through a running rig. */
export async function runStep(rig: Rig, settings: StepSettings): Promise<StepResult> {
  const calls = Math.max(1, Math.round(settings.rate * settings.seconds));
  const run = await runUac(
    rig,
    `${rig.launcher.name}-${rig.transport}-${settings.rate}`,
    settings.rate,
    calls,
    {
      recvTimeoutMs: settings.recvTimeoutMs,
      abortWhen: (stats, seconds) => doomed(settings, calls, stats, seconds),
    },
  );
  return {
    ...judge(rig.launcher.name, settings, calls, run.result, run.cpu),
    proxyBusiest: run.busiest,
    udpDrops: run.udpDrops,
  };
}

/** The result of a step whose set-up failed (nothing ran). */
export function setupFailure(proxy: ProxyName, settings: StepSettings, err: unknown): StepResult {
  const calls = Math.max(1, Math.round(settings.rate * settings.seconds));
  const uac: UacResult = {
    successful: 0,
    failed: calls,
    unfinished: 0,
    wallSeconds: 0,
    exitCode: null,
    killed: false,
    failures: new Map(),
    firstErrors: "",
    output: "",
  };
  return {
    proxy,
    settings,
    calls,
    uac,
    achievedRate: 0,
    pass: false,
    why: "set-up failed",
    cpu: new Map(),
    proxyBusiest: 0,
    udpDrops: { proxy: 0, uas: 0, system: 0 },
    error: (err as Error).message,
  };
}

function judge(
  proxy: ProxyName,
  settings: StepSettings,
  calls: number,
  uac: UacResult,
  cpu: Map<string, number>,
): Omit<StepResult, "proxyBusiest" | "udpDrops"> {
  const notOk = calls - uac.successful;
  const failureRatio = notOk / calls;
  const achievedRate = uac.successful / Math.max(uac.wallSeconds, 1e-3);
  const targetSeconds = calls / settings.rate;
  // Slack for SIPp's start (scenario, connection through stunnel) and the last call's own duration.
  const paced = uac.wallSeconds <= targetSeconds / settings.minRateRatio + PACE_SLACK_SECONDS;
  const failedOk = failureRatio < settings.maxFailureRatio;
  const why =
    uac.aborted !== undefined
      ? `aborted: ${uac.aborted}`
      : !failedOk
        ? `${notOk} of ${calls} calls failed (${(failureRatio * 100).toFixed(2)} %)`
        : !paced
          ? `calls took ${uac.wallSeconds.toFixed(1)} s instead of ${targetSeconds.toFixed(1)} s`
          : "ok";
  return { proxy, settings, calls, uac, achievedRate, pass: failedOk && paced, why, cpu };
}

/** Why a running step can no longer pass (too many failures, or calls started too slowly), if it cannot. */
function doomed(
  settings: StepSettings,
  calls: number,
  stats: ReadonlyMap<string, string>,
  seconds: number,
): string | undefined {
  const failed = Number(stats.get("FailedCall(C)") ?? 0);
  if (failed / calls >= settings.maxFailureRatio) return `${failed} calls failed`;
  const created = Number(stats.get("OutgoingCall(C)") ?? 0);
  const deadline = calls / settings.rate / settings.minRateRatio + 1;
  if (seconds > deadline && created < calls)
    return `only ${created} calls started after ${seconds.toFixed(1)} s`;
  return undefined;
}

function udpDrops(rig: Rig): StepResult["udpDrops"] {
  return {
    proxy: udpSocketDrops(rig.proxyUdpPort),
    uas: udpSocketDrops(rig.uasPort),
    system: udpReceiveBufferErrors(),
  };
}

/** A fresh directory inside `parent`, with the TempDir operations. */
function subDirectory(parent: TempDir, prefix: string): TempDir {
  const path = mkdtempSync(join(parent.path, prefix));
  const write = (name: string, content: string, mode = 0o644): string => {
    const file = join(path, name);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    return file;
  };
  return {
    path,
    write,
    writeCredential: (name, generated) => ({
      cert: write(`${name}.pem`, generated.certificatePem),
      key: write(`${name}.key`, generated.privateKeyPem, 0o600),
    }),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

function tail(text: string, lines = 15): string {
  return text.split("\n").slice(-lines).join("\n");
}
