/**
 * What the core needs from the wiring to reach the next hop (RFC 3261 §16.5/§16.6 step 7): the inner servers
 * by group, the outside by RFC 3263 resolution (OutboundConnections), and the inbound connections by id for
 * flow-token routing (RFC 5626 §5.3 spirit).
 */
import type { AcquireDestination } from "../../transport/outbound-connections.js";
import type { Flow } from "./flow.js";

export type { AcquireDestination };

export interface InnerTarget {
  readonly transport: "udp" | "tcp";
  readonly address: string;
  readonly port: number;
}

export interface LocalInterfaces {
  /** Via / Record-Route towards the outside (TLS). */
  readonly outside: { readonly host: string; readonly port: number };
  readonly inside: { readonly host: string; readonly port: number; readonly transport: "udp" | "tcp" };
  /** Hosts that are "us" (Route / Request-URI recognition, RFC 3261 §16.4), lower-case. */
  readonly localNames: readonly string[];
}

export type OutsideFlowResult =
  | { readonly ok: true; readonly flow: Flow; readonly release: () => void }
  | { readonly ok: false; readonly code: string; readonly detail: string };

export interface HopProvider {
  innerTargets(group: string): readonly InnerTarget[] | undefined;
  innerFlow(target: InnerTarget): Flow;
  outsideFlow(destination: AcquireDestination): Promise<OutsideFlowResult>;
  /** Inbound outside connections, for our flow-token Record-Route. */
  flowById(id: string): Flow | undefined;
}
