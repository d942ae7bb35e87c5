/**
 * The core's next hops (PROXY.md HopProvider), backed by the real transports: inner targets from
 * `proxy.innerServers` (replaced on reload), the inner UDP/TCP side, the verified outbound connections
 * (RFC 3263 + DANE/RFC 5922 per destination, transport/outbound-connections.ts) and the open inbound
 * connections for flow-token routing.
 */
import type {
  AcquireDestination,
  OutboundConnection,
  OutboundConnections,
} from "../../transport/outbound-connections.js";
import type { Flow, HopProvider, InnerTarget, OutsideFlowResult } from "../core/index.js";
import type { InboundFlows } from "./inbound-flows.js";
import type { InnerSide } from "./inner-side.js";
import type { OutboundFlows } from "./outbound-flows.js";

export interface WiredHopsOptions {
  /** Inner server groups by name, read on every request so that a reload takes effect at once. */
  readonly innerServers: () => ReadonlyMap<string, readonly InnerTarget[]>;
  readonly inner: InnerSide;
  /** Absent when no `outbound` section is configured: requests to the outside then fail with a reason. */
  readonly outbound: () => OutboundConnections | undefined;
  readonly outboundFlows: OutboundFlows;
  readonly inbound: InboundFlows;
}

/** A connection can start draining between acquire and beginTransaction; one more acquire then suffices. */
const ACQUIRE_ATTEMPTS = 2;

export class WiredHops implements HopProvider {
  constructor(private readonly options: WiredHopsOptions) {}

  innerTargets(group: string): readonly InnerTarget[] | undefined {
    return this.options.innerServers().get(group);
  }

  innerFlow(target: InnerTarget): Flow {
    return this.options.inner.flowFor(target);
  }

  async outsideFlow(destination: AcquireDestination): Promise<OutsideFlowResult> {
    const outbound = this.options.outbound();
    if (!outbound) {
      return {
        ok: false,
        code: "no-outbound",
        detail: "no outbound section is configured: this edge does not send requests to the outside",
      };
    }
    let last: OutsideFlowResult = { ok: false, code: "closed", detail: "no connection" };
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      const acquired = await outbound.acquire(destination);
      if (!acquired.ok) return { ok: false, code: acquired.code, detail: acquired.detail };
      const started = acquired.connection.beginTransaction();
      if (started.ok) return this.begun(acquired.connection);
      last = { ok: false, code: started.code, detail: started.detail };
    }
    return last;
  }

  flowById(id: string): Flow | undefined {
    return this.options.inbound.flowById(id);
  }

  private begun(connection: OutboundConnection): OutsideFlowResult {
    let released = false;
    return {
      ok: true,
      flow: this.options.outboundFlows.flowFor(connection),
      // Idempotent: the core may release on both the final response and a timeout.
      release: () => {
        if (released) return;
        released = true;
        connection.endTransaction();
      },
    };
  }
}
