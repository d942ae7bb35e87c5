/**
 * The inside of the edge as Flows (PROXY.md "Flow", side `inside`): the UDP socket bound on `proxy.inside`
 * (transport/inner-transports.ts), the inner TCP listener when TCP is used, and one outgoing TCP connection
 * per inner TCP target, opened on first use and reused (RFC 3261 §18.1.1: a client MAY reuse a connection
 * to the same destination). Flow ids: `inner:<udp|tcp>:<address>:<port>`.
 *
 * Why responses work with several workers: each edge process binds its own inside port, the Via it adds
 * towards the inner server names that port (RFC 3261 §18.2.2: responses go to the Via sent-by), so the inner
 * server answers the process that holds the transaction.
 */
import * as net from "node:net";
import { Framer, type SipLimits, type SipMessage } from "../../sip/index.js";
import { Counters } from "../../transport/counters.js";
import { InnerTcpTransport, InnerUdpTransport, type InnerPeer } from "../../transport/inner-transports.js";
import { feedStream } from "../../transport/stream-events.js";
import type { TransportLogger } from "../../transport/tls-listener.js";
import type { Flow, InnerTarget } from "../core/index.js";

export interface InnerSideOptions {
  readonly host: string;
  readonly port: number;
  /** The transport the inner server reaches us on (our Via/Record-Route inside); UDP is always bound. */
  readonly transport: "udp" | "tcp";
  readonly onMessage: (flow: Flow, message: SipMessage) => void;
  /** A TCP flow died after send() had accepted data (connect refused, reset): its transactions fail now. */
  readonly onFlowFailed?: (flow: Flow) => void;
  readonly limits?: Partial<SipLimits>;
  readonly counters?: Counters;
  readonly logger?: TransportLogger;
  /** After a failed connect, sends to that TCP target fail at once for this long (fast failover). */
  readonly tcpRetryAfterMs?: number;
}

const silent: TransportLogger = { info: () => undefined, warn: () => undefined };
/** Inner UDP peers are few (the inner servers); the cache is bounded anyway, against a spraying peer. */
const MAX_UDP_FLOWS = 4096;

export class InnerSide {
  readonly counters: Counters;
  private readonly udp: InnerUdpTransport;
  private tcp: InnerTcpTransport | undefined;
  private readonly udpFlows = new Map<string, Flow>();
  private readonly tcpClients = new Map<string, InnerTcpClient>();
  private readonly tcpPeers = new WeakMap<InnerPeer, Flow>();
  private boundAddress: { address: string; port: number } | undefined;

  constructor(private readonly options: InnerSideOptions) {
    this.counters = options.counters ?? new Counters();
    this.udp = new InnerUdpTransport({
      host: options.host,
      port: options.port,
      onMessage: (peer, message) => options.onMessage(this.udpFlow(peer.address, peer.port), message),
      ...this.transportOptions(),
    });
  }

  /** The bound inside address (UDP; TCP listens on the same port when used). */
  get address(): { address: string; port: number } {
    if (!this.boundAddress) throw new Error("inner side not started");
    return this.boundAddress;
  }

  async start(): Promise<{ address: string; port: number }> {
    const udp = await this.udp.bind();
    this.boundAddress = { address: udp.address, port: udp.port };
    if (this.options.transport === "tcp") {
      this.tcp = new InnerTcpTransport({
        host: this.options.host,
        port: udp.port,
        onMessage: (peer, message) => this.options.onMessage(this.tcpPeerFlow(peer), message),
        ...this.transportOptions(),
      });
      await this.tcp.listen();
    }
    return this.boundAddress;
  }

  /** The flow a request to an inner target is sent on. */
  flowFor(target: InnerTarget): Flow {
    if (target.transport === "udp") return this.udpFlow(target.address, target.port);
    const key = `${target.address}:${target.port}`;
    let client = this.tcpClients.get(key);
    if (!client) {
      client = new InnerTcpClient(target.address, target.port, this.options, this.counters);
      this.tcpClients.set(key, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.tcpClients.values()) client.close();
    this.tcpClients.clear();
    await Promise.all([this.udp.close(), this.tcp?.close()]);
  }

  private transportOptions() {
    return {
      ...(this.options.limits ? { limits: this.options.limits } : {}),
      counters: this.counters,
      logger: this.options.logger ?? silent,
    };
  }

  private udpFlow(address: string, port: number): Flow {
    const key = `${address}:${port}`;
    let flow = this.udpFlows.get(key);
    if (!flow) {
      if (this.udpFlows.size >= MAX_UDP_FLOWS) this.udpFlows.clear();
      const udp = this.udp;
      flow = {
        id: `inner:udp:${key}`,
        side: "inside",
        transport: "udp",
        reliable: false,
        remoteAddress: address,
        remotePort: port,
        send(data: Buffer): boolean {
          udp.sendTo(data, port, address);
          return true;
        },
      };
      this.udpFlows.set(key, flow);
    }
    return flow;
  }

  private tcpPeerFlow(peer: InnerPeer): Flow {
    let flow = this.tcpPeers.get(peer);
    if (!flow) {
      flow = {
        id: `inner:tcp:${peer.address}:${peer.port}`,
        side: "inside",
        transport: "tcp",
        reliable: true,
        remoteAddress: peer.address,
        remotePort: peer.port,
        send(data: Buffer): boolean {
          peer.send(data);
          return true;
        },
      };
      this.tcpPeers.set(peer, flow);
    }
    return flow;
  }
}

/** One reused TCP connection to an inner target; reconnects on the next send after it closed. */
class InnerTcpClient implements Flow {
  readonly id: string;
  readonly side = "inside" as const;
  readonly transport = "tcp" as const;
  readonly reliable = true;
  private socket: net.Socket | undefined;
  private failedAt = -Infinity;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
    private readonly options: InnerSideOptions,
    private readonly counters: Counters,
  ) {
    this.id = `inner:tcp:${remoteAddress}:${remotePort}`;
  }

  send(data: Buffer): boolean {
    if (!this.socket || this.socket.destroyed) {
      // A target that just refused us fails fast, so the core can fail over instead of waiting for Timer B.
      if (Date.now() - this.failedAt < (this.options.tcpRetryAfterMs ?? 2000)) return false;
      this.socket = this.connect();
    }
    this.socket.write(data);
    return true;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.remoteAddress, port: this.remotePort });
    socket.setNoDelay(true);
    const framer = new Framer({ limits: this.options.limits });
    socket.on("data", (chunk: Buffer) => {
      feedStream(framer, chunk, {
        message: (message) => {
          this.counters.increment("inner.tcp.messages");
          this.options.onMessage(this, message);
        },
        pong: () => void socket.write("\r\n"),
        framingError: (error) => {
          this.counters.increment(`inner.tcp.framing.${error.code}`);
          (this.options.logger ?? silent).warn({ code: error.code, flow: this.id }, error.message);
          socket.destroy();
        },
      });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      this.failedAt = Date.now();
      this.counters.increment("inner.tcp.connect-error");
      (this.options.logger ?? silent).warn(
        { flow: this.id, err: err.code ?? err.message },
        "inner TCP error",
      );
    });
    // RFC 3261 §17.1.4: a transport failure (connect refused, reset) fails the client transactions on the
    // connection at once, so the core fails over to the next inner target instead of waiting for Timer B/F.
    // An orderly close by the server is not a failure: §18.2.2 lets it open a new connection for responses.
    socket.once("close", (hadError: boolean) => {
      if (this.socket === socket) this.socket = undefined;
      if (hadError) this.options.onFlowFailed?.(this);
    });
    return socket;
  }
}
