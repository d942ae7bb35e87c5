/**
 * The inside of the edge: plain UDP and TCP sockets towards the inner SIP server (Asterisk, FreeSWITCH,
 * Kamailio …), which sits on a trusted network. Messages are parsed with the same limits as outside;
 * a malformed one is counted and logged, never silently dropped and never fatal. (TLS towards the inner
 * server uses openTlsConnection from the tls layer.)
 *
 * RFC 3261 §18.3: a UDP datagram holds one message (bytes after Content-Length are ignored); a TCP stream is
 * framed by Content-Length, and a framing error closes the connection.
 */
import * as dgram from "node:dgram";
import * as net from "node:net";
import { Framer, SipParseError, parseMessage, type SipLimits, type SipMessage } from "../sip/index.js";
import { Counters } from "./counters.js";
import { feedStream } from "./stream-events.js";
import type { TransportLogger } from "./tls-listener.js";

export interface InnerPeer {
  readonly transport: "udp" | "tcp";
  readonly address: string;
  readonly port: number;
  /** Sends a message back to this peer (same socket). */
  send(data: Buffer | string): void;
}

export interface InnerTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly onMessage: (peer: InnerPeer, message: SipMessage) => void;
  readonly limits?: Partial<SipLimits>;
  readonly counters?: Counters;
  readonly logger?: TransportLogger;
}

const UDP_BUFFER_BYTES = 4 * 1024 * 1024;
const silent: TransportLogger = { info: () => undefined, warn: () => undefined };

/** A UDP socket for the inner side: one SIP message per datagram. */
export class InnerUdpTransport {
  readonly counters: Counters;
  private readonly socket: dgram.Socket;

  constructor(private readonly options: InnerTransportOptions) {
    this.counters = options.counters ?? new Counters();
    this.socket = dgram.createSocket(net.isIPv6(options.host) ? "udp6" : "udp4");
    this.socket.on("message", (datagram, remote) => this.receive(datagram, remote));
    this.socket.on("error", (err) =>
      (options.logger ?? silent).warn({ err: err.message }, "inner UDP socket error"),
    );
  }

  bind(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.bind(this.options.port, this.options.host, () => {
        this.socket.off("error", reject);
        this.enlargeBuffers();
        resolve(this.socket.address());
      });
    });
  }

  /**
   * The kernel default (~208 KiB) overflows in a burst of answers from the inner server, and UDP loses what
   * does not fit until retransmission timers recover it: ask for 4 MiB each way (the kernel caps the request
   * at net.core.rmem_max/wmem_max; a refusal keeps the default and is logged).
   */
  private enlargeBuffers(): void {
    try {
      this.socket.setRecvBufferSize(UDP_BUFFER_BYTES);
      this.socket.setSendBufferSize(UDP_BUFFER_BYTES);
    } catch (err) {
      (this.options.logger ?? silent).warn({ err: (err as Error).message }, "inner UDP buffer size not set");
    }
  }

  /** Sends to any inner address (requests towards the inner server, responses to it). */
  sendTo(data: Buffer | string, port: number, address: string): void {
    this.socket.send(typeof data === "string" ? Buffer.from(data, "utf8") : data, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, remote: dgram.RemoteInfo): void {
    // RFC 5626 §3.5.1 keep-alives over UDP are STUN, not SIP; a bare CRLF datagram is a legacy ping.
    if (datagram.length <= 4 && /^[\r\n]*$/.test(datagram.toString("latin1"))) {
      this.counters.increment("inner.udp.keepalive");
      return;
    }
    let message: SipMessage;
    try {
      message = parseMessage(datagram, { limits: this.options.limits });
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.counters.increment(`inner.udp.malformed.${err.code}`);
      (this.options.logger ?? silent).warn(
        { code: err.code, remote: remote.address, offset: err.offset },
        err.message,
      );
      return;
    }
    this.counters.increment("inner.udp.messages");
    const peer: InnerPeer = {
      transport: "udp",
      address: remote.address,
      port: remote.port,
      send: (data) => this.sendTo(data, remote.port, remote.address),
    };
    this.options.onMessage(peer, message);
  }
}

/** A TCP listener for the inner side: Content-Length framing, keep-alive pongs, framing errors close. */
export class InnerTcpTransport {
  readonly counters: Counters;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: InnerTransportOptions) {
    this.counters = options.counters ?? new Counters();
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => this.counters.increment("inner.tcp.socket-error"));
    const framer = new Framer({ limits: this.options.limits });
    const peer: InnerPeer = {
      transport: "tcp",
      address: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
      send: (data) => void socket.write(data),
    };
    socket.on("data", (chunk: Buffer) => {
      feedStream(framer, chunk, {
        message: (message) => {
          this.counters.increment("inner.tcp.messages");
          this.options.onMessage(peer, message);
        },
        pong: () => void socket.write("\r\n"),
        framingError: (error) => {
          this.counters.increment(`inner.tcp.framing.${error.code}`);
          (this.options.logger ?? silent).warn({ code: error.code, remote: peer.address }, error.message);
          socket.destroy();
        },
      });
    });
  }
}
