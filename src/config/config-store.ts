/**
 * Holds the configuration in force and swaps it atomically on reload (SIGHUP, admin API, `siptrust
 * reload`). A new configuration is prepared completely — every file read and checked — before anything
 * changes; any problem leaves the old configuration serving and is returned with every problem listed.
 */
import { ConfigError, type ConfigProblem } from "./config-error.js";
import type { PreparedConfig } from "./prepare-config.js";

export type ReloadResult =
  | { readonly ok: true; readonly code: "reloaded"; readonly generation: number }
  | {
      readonly ok: false;
      readonly code: "bad-config";
      readonly generation: number;
      readonly problems: readonly ConfigProblem[];
    };

export type ConfigListener = (next: PreparedConfig, generation: number, previous: PreparedConfig) => void;

/**
 * A part of the running system that must accept a new configuration before it is swapped in (the TLS edge
 * builds its secure contexts here). `stage` must not change anything; `commit` must not fail.
 */
export interface ReloadParticipant {
  stage(next: PreparedConfig, current: PreparedConfig): StagedReload;
}

export type StagedReload =
  | { readonly ok: true; readonly commit: (generation: number) => void }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export class ConfigStore {
  private currentConfig: PreparedConfig;
  private currentGeneration = 1;
  private readonly listeners: ConfigListener[] = [];
  private readonly participants: ReloadParticipant[] = [];
  /** Reloads refused since start, for metrics. */
  failedReloads = 0;

  constructor(
    initial: PreparedConfig,
    private readonly prepare: () => PreparedConfig,
  ) {
    this.currentConfig = initial;
  }

  get current(): PreparedConfig {
    return this.currentConfig;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  onSwap(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /** Registers a participant whose `stage` can refuse a reload (two-phase swap). */
  addParticipant(participant: ReloadParticipant): void {
    this.participants.push(participant);
  }

  reload(): ReloadResult {
    let next: PreparedConfig;
    try {
      next = this.prepare();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return this.refuse(err.problems);
    }
    // Every participant stages before anything is swapped, so that all problems are reported together.
    const staged = this.participants.map((p) => p.stage(next, this.currentConfig));
    const problems = staged.flatMap((s) => (s.ok ? [] : s.problems));
    if (problems.length > 0) return this.refuse(problems);
    const previous = this.currentConfig;
    this.currentConfig = next;
    this.currentGeneration++;
    for (const s of staged) if (s.ok) s.commit(this.currentGeneration);
    for (const listener of this.listeners) listener(next, this.currentGeneration, previous);
    return { ok: true, code: "reloaded", generation: this.currentGeneration };
  }

  private refuse(problems: readonly ConfigProblem[]): ReloadResult {
    this.failedReloads++;
    return { ok: false, code: "bad-config", generation: this.currentGeneration, problems };
  }
}
