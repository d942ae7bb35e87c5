/** One record per server transaction: what accounting (and tests) see when it ends. */
import type { PolicyDecision } from "../policy/request-policy.js";
import type { Flow } from "./flow.js";

export interface TransactionSummary {
  readonly startedAt: number;
  readonly endedAt: number;
  /** inbound = outside → inside */
  readonly direction: "inbound" | "outbound";
  readonly method: string;
  readonly callId: string;
  readonly from: string;
  readonly to: string;
  readonly requestUri: string;
  /** Final status sent upstream (0 = none). */
  readonly status: number;
  /** Where the request came from. */
  readonly source: Flow;
  /** The TLS flow on the outside: the source for inbound, the chosen hop for outbound. */
  readonly outsideFlow?: Flow;
  readonly decision: PolicyDecision;
  /** e.g. timeout, no-target, outbound-failed:<code> */
  readonly failure?: { readonly code: string; readonly detail: string };
}
