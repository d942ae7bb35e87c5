// An outside peer of the edge: one TLS connection (node:tls) with a client certificate the edge's listener
// verifies, which sends raw bytes and records every message the edge sends back and when the edge closed
// the connection. Every wait is bounded.
import * as tls from "node:tls";
import { parseWire, StreamSplitter, type WireMessage } from "./sip-wire.js";

export interface PeerCredentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** SNI and the name checked in the edge's certificate. */
  readonly serverName: string;
}

export class TlsPeer {
  readonly received: WireMessage[] = [];
  /** Bytes the edge sent that did not parse as a SIP message (there should be none). */
  readonly unparsed: Buffer[] = [];
  private closedAt: number | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly splitter = new StreamSplitter();

  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      for (const raw of this.splitter.push(chunk)) {
        const message = parseWire(raw);
        if (message === undefined) this.unparsed.push(raw);
        else this.received.push(message);
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closedAt = Date.now();
      this.wake();
    });
    // A reset by the edge is a close for our purposes; the 'close' event follows.
    socket.on("error", () => undefined);
  }

  static connect(port: number, credentials: PeerCredentials, timeoutMs = 5000): Promise<TlsPeer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        servername: credentials.serverName,
        ca: credentials.ca,
        cert: credentials.cert,
        key: credentials.key,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS handshake with the edge not done within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("secureConnect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new TlsPeer(socket));
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Our port: the sent-by of the Via in requests we write. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** False when the edge already closed the connection (the bytes go nowhere). */
  send(data: Buffer | string): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write(data);
    return true;
  }

  /** The first received message that satisfies `match`, waiting up to `timeoutMs`; undefined if none came. */
  async waitFor(match: (m: WireMessage) => boolean, timeoutMs: number): Promise<WireMessage | undefined> {
    await this.waitUntil(() => this.received.some(match) || this.closed, timeoutMs);
    return this.received.find(match);
  }

  /** True once the edge has closed the connection, waiting up to `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    await this.waitUntil(() => this.closed, timeoutMs);
    return this.closed;
  }

  /** When the edge closed the connection (Date.now()), if it did. */
  get closedTime(): number | undefined {
    return this.closedAt;
  }

  /** Stops reading: what the edge sends piles up in the kernel buffers, then in the edge's write queue. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Bytes accepted by send() but not yet handed to the kernel (grows while the edge does not read). */
  get unsent(): number {
    return this.socket.writableLength;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Waits until `condition` holds (checked whenever bytes arrive or the connection closes) or `timeoutMs`. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return;
        done();
      };
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
