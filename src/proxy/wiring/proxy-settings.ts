/**
 * The proxy's part of a configuration generation as plain data (the config layer sits above the proxy and
 * adapts its prepared configuration to this shape in src/config/edge-source.ts, as it does for the TLS edge).
 */
import type { EdgeConfigSource, StageResult } from "../../transport/edge-runtime.js";
import type { OutboundLimits, OutboundTrust, ReloadPolicy } from "../../transport/outbound-connections.js";
import type { InnerTarget } from "../core/index.js";
import type { RequestPolicySettings } from "../policy/request-policy.js";
import type { TimerSettings } from "../transactions/index.js";

export interface ProxySettings {
  /** Where the inner server reaches us (and where we bind: one port per worker, see docs/operations.md). */
  readonly inside: { readonly host: string; readonly port: number; readonly transport: "udp" | "tcp" };
  /** Host/port for Via and Record-Route towards the outside; default: the first listener's address. */
  readonly outside: { readonly host?: string; readonly port?: number };
  readonly innerServers: ReadonlyMap<string, readonly InnerTarget[]>;
  readonly identityHeader: string;
  readonly timers: TimerSettings;
  readonly maxTransactions?: number;
  /** A silent branch to an inner target is abandoned for the next one after this long (0 = off). */
  readonly failoverAfterMs?: number;
  readonly policy: RequestPolicySettings;
  /** Accounting file (one JSON line per transaction); absent = no accounting. */
  readonly accounting?: { readonly file: string };
  /** Admin HTTP API; absent = disabled. */
  readonly admin?: { readonly host: string; readonly port: number; readonly token?: string };
  /** Verified outbound TLS (the `outbound` section); absent = requests to the outside fail with a reason. */
  readonly outbound?: {
    readonly trust: Omit<OutboundTrust, "generation">;
    readonly limits: Partial<OutboundLimits>;
    readonly onReload: ReloadPolicy;
  };
  /** Names that also mean this edge (e.g. `localhost` in the embedded default). */
  readonly extraLocalNames?: readonly string[];
}

/** What EdgeProxy reads its configuration from: the edge's source plus the proxy settings. */
export interface ProxyConfigSource extends EdgeConfigSource {
  readonly proxy: ProxySettings;
  /** Registers the proxy's stage step for reloads (problems refuse the reload, like the edge's). */
  participateProxy(stage: (next: ProxySettings) => StageResult): void;
}
