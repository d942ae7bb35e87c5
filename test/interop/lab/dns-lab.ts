// A bounded DNSSEC lab for interop tests: Knot (authoritative, signing the lab's zones itself) and
// Unbound (validating recursive resolver whose trust anchor is the lab's anchor zone), both on
// 127.0.0.1 random ports, in one temp directory that stop() removes.
//
//   const lab = await startDnsLab({ zones: [{ name: "sip.test.", records: [srv(...), tlsa(...)] }] });
//   t.after(() => lab.stop());
//   // ask lab.resolver (AD bit = secure), or lab.authoritative for raw zone data
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register, removeDir, startWatchdog, unregister, type Cleanable, type Watchdog } from "./cleanup.js";
import type { Daemon } from "./daemon.js";
import type { KnotPaths } from "./knot-config.js";
import { publishDelegations, startKnot } from "./knot-server.js";
import { LabStartError } from "./lab-error.js";
import { normalizeSpec, type DnsLabSpec } from "./lab-spec.js";
import { LAB_HOST } from "./readiness.js";
import { startUnbound } from "./unbound-server.js";

export { LabStartError } from "./lab-error.js";
export { LabSpecError } from "./lab-spec.js";
export type { DnsLabSpec, LabRecord, LabRecordType, LabZone, ZoneSecurity } from "./lab-spec.js";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface DnsLab {
  readonly resolver: Endpoint;
  readonly authoritative: Endpoint;
  readonly anchor: string;
  /** The DS record given to Unbound as trust anchor (`test. DS <tag> 13 2 <hex>`). */
  readonly trustAnchor: string;
  /** DS record per delegated zone as its parent publishes it (corrupted for `bogus`; none for `unsigned`). */
  readonly ds: ReadonlyMap<string, string>;
  readonly dir: string;
  /** knotMs: Knot serving the signed zones; then DS publication and Unbound start run side by side. */
  readonly timings: {
    readonly knotMs: number;
    readonly delegationsAndUnboundMs: number;
    readonly totalMs: number;
  };
  logs(): { readonly knot: string; readonly unbound: string };
  /** Stops both daemons (bounded) and removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
}

class LabState implements Cleanable {
  readonly daemons: Daemon[] = [];
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly watchdog: Watchdog,
  ) {}

  cleanupNow(): void {
    for (const d of this.daemons) d.killNow();
    this.watchdog.killNow();
    removeDir(this.dir);
  }

  /** Stays registered until the end, so an exit in the middle still runs cleanupNow(). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.daemons.map((d) => d.stop()));
    removeDir(this.dir);
    await this.watchdog.stop();
    unregister(this);
  }
}

function makeDirs(): { dir: string; paths: KnotPaths; pidDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-dnslab-"));
  const paths = {
    rundir: join(dir, "knot-run"),
    storage: join(dir, "knot-db"),
    zonesDir: join(dir, "zones"),
  };
  const pidDir = join(dir, "pids");
  for (const d of [paths.rundir, paths.storage, paths.zonesDir, pidDir]) mkdirSync(d, { mode: 0o700 });
  return { dir, paths, pidDir };
}

export async function startDnsLab(input: DnsLabSpec): Promise<DnsLab> {
  const t0 = Date.now();
  const spec = normalizeSpec(input);
  const deadline = t0 + spec.startTimeoutMs;
  const { dir, paths, pidDir } = makeDirs();
  const state = new LabState(dir, startWatchdog(dir, spec.maxLifetimeMs));
  register(state);
  const onSpawn = (d: Daemon): void => void state.daemons.push(d);
  try {
    const knot = await startKnot({ spec, dir, paths, pidDir, deadline, onSpawn });
    const t1 = Date.now();
    const { trustAnchor } = knot;
    // Unbound needs only the anchor's key and Knot's port: it starts while Knot publishes the DS records.
    // allSettled, not all: neither may still be spawning processes when a failure triggers the cleanup.
    const [published, unbound] = await Promise.allSettled([
      publishDelegations(knot, { spec, dir, paths, pidDir, deadline, onSpawn }),
      startUnbound({ spec, dir, pidDir, authoritativePort: knot.port, trustAnchor, deadline, onSpawn }),
    ]);
    if (published.status === "rejected") throw published.reason;
    if (unbound.status === "rejected") throw unbound.reason;
    const t2 = Date.now();
    return {
      resolver: { host: LAB_HOST, port: unbound.value.port },
      authoritative: { host: LAB_HOST, port: knot.port },
      anchor: spec.anchor,
      trustAnchor,
      ds: published.value,
      dir,
      timings: { knotMs: t1 - t0, delegationsAndUnboundMs: t2 - t1, totalMs: t2 - t0 },
      logs: () => ({ knot: knot.daemon.log(), unbound: unbound.value.daemon.log() }),
      stop: () => state.stop(),
    };
  } catch (err) {
    await state.stop();
    if (err instanceof LabStartError) err.dir = dir;
    throw err;
  }
}
