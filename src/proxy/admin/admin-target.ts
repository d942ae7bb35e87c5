/**
 * What the admin HTTP server reads from the running edge (issue 7 §3). The daemon (edge-proxy.ts)
 * implements AdminTarget; the admin server only renders it, so the server never reaches into the
 * transport or the proxy core itself and tests can drive it with a plain object.
 */
import type { Counters } from "../../transport/counters.js";
import type { EdgeReloadResult } from "../../transport/edge-runtime.js";

/** `GET /health`: `ok` decides 200 or 503; anything else the daemon adds is passed through as JSON. */
export interface HealthReport {
  readonly ok: boolean;
  readonly generation: number;
  readonly uptimeSeconds: number;
  readonly [key: string]: unknown;
}

/** One TLS connection as `GET /connections` and `siptrust connections` show it. */
export interface ConnectionView {
  /** inbound = a peer connected to one of our listeners; outbound = we connected to a peer. */
  readonly direction: "inbound" | "outbound";
  /** The flow id the proxy uses ("in:<listener>:<n>", "out:<n>"), so logs and this list can be joined. */
  readonly id: string;
  /** The listener an inbound connection arrived on. */
  readonly listener?: string;
  /** The SIP domain an outbound connection was opened and verified for. */
  readonly domain?: string;
  /** `address:port`, IPv6 in brackets. */
  readonly peer: string;
  readonly ageSeconds: number;
  /** Configuration generation the peer was (last) verified under. */
  readonly generation: number;
  /** "open" | "draining" | "closed" (outbound lifetimes); inbound connections are "open" while listed. */
  readonly state: string;
  readonly sni?: string;
  readonly tls: { readonly version: string; readonly cipher: string };
  /** The verification outcome code and, when known, how trust was established (dane-ee, rfc5922, ...). */
  readonly verification: { readonly code: string; readonly method?: string };
  /** Verified SIP identities of the peer (domains and URIs), normalized. */
  readonly identities: readonly string[];
  /** Names the connection may be reused for (RFC 5923 §9: only names verified on it). */
  readonly aliases: readonly string[];
  /** The client certificate we presented (outbound); absent = none. */
  readonly clientCertificate?: { readonly name: string; readonly fingerprint: string };
  readonly activeTransactions: number;
}

export interface AdminTarget {
  health(): HealthReport;
  connections(): readonly ConnectionView[];
  /** Reload the configuration; a refused reload lists every problem and changes nothing. */
  reload(): EdgeReloadResult;
  readonly counters: Counters;
  /**
   * Point-in-time values, read at scrape time. Known keys: `connections.<inbound|outbound>.<state>`,
   * `transactions.active`, `generation`; any other key is exported as `siptrust_gauge{name}`.
   */
  gauges(): Record<string, number>;
}
