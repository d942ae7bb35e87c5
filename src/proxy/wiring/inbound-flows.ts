/**
 * Flows for the outside TLS connections the listeners accepted (PROXY.md "Flow"): one Flow object per
 * connection, id `in:<listener>:<connId>`, carrying the `tls` routing context (DESIGN.md "Routing and
 * accounting"), which policy/tls-attributes.ts recomputes only when a reload re-verified the connection.
 *
 * The registry also answers flowById for our flow-token Record-Route (RFC 5626-style: an in-dialog request
 * from inside goes back over the very connection the dialog came in on). Closed connections are pruned
 * lazily, so the registry never holds more than about twice the connections that are open.
 */
import type { InboundConnection } from "../../transport/tls-listener.js";
import type { Flow } from "../core/index.js";
import { inboundTlsAttributes, type TlsAttributes } from "../policy/tls-attributes.js";

/** What the registry needs from the TLS edge: its listeners, their open connections, their CA sets. */
export interface InboundListeners {
  names(): readonly string[];
  connectionsOf(listener: string): ReadonlySet<InboundConnection> | undefined;
  /** The listener's client CA set name in force (may change on reload). */
  caSetOf(listener: string): string | undefined;
}

export class InboundFlows {
  private readonly byConnection = new WeakMap<InboundConnection, InboundFlow>();
  private readonly byId = new Map<string, InboundFlow>();
  private sweepAt = 64;

  constructor(private readonly listeners: InboundListeners) {}

  /** The flow of a connection, created on its first message (the only time its listener is looked up). */
  flowFor(connection: InboundConnection): Flow {
    const known = this.byConnection.get(connection);
    if (known) return known;
    const listener = this.listenerOf(connection);
    const flow = new InboundFlow(listener, connection, () => this.listeners.caSetOf(listener));
    this.byConnection.set(connection, flow);
    this.byId.set(flow.id, flow);
    if (this.byId.size >= this.sweepAt) this.sweep();
    return flow;
  }

  /** A flow whose connection is still open; undefined once it closed (the caller answers 430/410-style). */
  flowById(id: string): Flow | undefined {
    const flow = this.byId.get(id);
    if (!flow) return undefined;
    if (this.isOpen(flow)) return flow;
    this.byId.delete(id);
    return undefined;
  }

  /** Registered flows (open or not yet pruned); for tests and gauges. */
  get size(): number {
    return this.byId.size;
  }

  private listenerOf(connection: InboundConnection): string {
    return this.listeners.names().find((n) => this.listeners.connectionsOf(n)?.has(connection)) ?? "";
  }

  private isOpen(flow: InboundFlow): boolean {
    return this.listeners.connectionsOf(flow.listener)?.has(flow.connection) ?? false;
  }

  // Amortized O(1): a sweep runs when the map doubled since the last one.
  private sweep(): void {
    for (const [id, flow] of this.byId) if (!this.isOpen(flow)) this.byId.delete(id);
    this.sweepAt = Math.max(64, this.byId.size * 2);
  }
}

class InboundFlow implements Flow {
  readonly id: string;
  readonly side = "outside" as const;
  readonly transport = "tls" as const;
  readonly reliable = true;

  constructor(
    readonly listener: string,
    readonly connection: InboundConnection,
    private readonly caSet: () => string | undefined,
  ) {
    this.id = `in:${listener}:${connection.id}`;
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  get remotePort(): number {
    return this.connection.remotePort;
  }

  // Cached per connection and generation by inboundTlsAttributes itself.
  get tls(): TlsAttributes {
    return inboundTlsAttributes(this.listener, this.caSet(), this.connection);
  }

  send(data: Buffer): boolean {
    return this.connection.send(data);
  }
}
