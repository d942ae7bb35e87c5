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

export class ConfigStore {
  private currentConfig: PreparedConfig;
  private currentGeneration = 1;
  private readonly listeners: ConfigListener[] = [];
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

  reload(): ReloadResult {
    let next: PreparedConfig;
    try {
      next = this.prepare();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.failedReloads++;
      return { ok: false, code: "bad-config", generation: this.currentGeneration, problems: err.problems };
    }
    const previous = this.currentConfig;
    this.currentConfig = next;
    this.currentGeneration++;
    for (const listener of this.listeners) listener(next, this.currentGeneration, previous);
    return { ok: true, code: "reloaded", generation: this.currentGeneration };
  }
}
