/**
 * Flows for the verified outbound TLS connections (transport/outbound-connections.ts), id `out:<connId>`.
 * What the peer sends back on such a connection (responses, and requests inside dialogs we set up) enters
 * the core on the same Flow object the request left on, so transaction matching sees one flow per socket.
 */
import type { OutboundConnection } from "../../transport/outbound-connections.js";
import type { Flow } from "../core/index.js";
import { outboundTlsAttributes, type TlsAttributes } from "../policy/tls-attributes.js";

export class OutboundFlows {
  private readonly byConnection = new WeakMap<OutboundConnection, OutboundFlow>();

  flowFor(connection: OutboundConnection): Flow {
    let flow = this.byConnection.get(connection);
    if (!flow) {
      flow = new OutboundFlow(connection);
      this.byConnection.set(connection, flow);
    }
    return flow;
  }
}

class OutboundFlow implements Flow {
  readonly id: string;
  readonly side = "outside" as const;
  readonly transport = "tls" as const;
  readonly reliable = true;

  constructor(readonly connection: OutboundConnection) {
    this.id = `out:${connection.id}`;
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  get remotePort(): number {
    return this.connection.remotePort;
  }

  // Cached per connection and generation by outboundTlsAttributes itself.
  get tls(): TlsAttributes {
    return outboundTlsAttributes(this.connection);
  }

  send(data: Buffer): boolean {
    return this.connection.send(data);
  }
}
