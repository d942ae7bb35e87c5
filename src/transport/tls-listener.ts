/**
 * A TLS listener for SIP (the outside side of the edge): accepts connections within limits, applies the
 * server profile (SNI, client-certificate mode), verifies the client certificate itself, frames SIP
 * messages (RFC 3261 §18.3) and answers RFC 5626 keep-alive pings.
 *
 * Defences against hostile peers (issue 6 §2), each logged and counted:
 * - connection limits, total and per source address, enforced on the TCP accept, before any TLS work;
 * - a TLS handshake timeout (a peer that never finishes the handshake holds nothing for long);
 * - a partial-message timeout (slowloris: a message must complete within the bound once started);
 * - the framer's size limits (nothing is buffered past them);
 * - a bounded write buffer (a peer that does not read is disconnected).
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { X509Certificate } from "node:crypto";
import { Framer, type SipMessage, type SipLimits } from "../sip/index.js";
import type { PeerIdentities } from "../auth/peer.js";
import { identityText, sameIdentity } from "../auth/identity.js";
import { presentedChain } from "../tls/peer-chain.js";
import { serverTlsOptions, selectCredential, type ServerProfile } from "../tls/server-profile.js";
import {
  checkClientOcsp,
  verifyClientChain,
  type ClientVerification,
  type ClientVerificationPolicy,
} from "../tls/client-verification.js";
import { Counters } from "./counters.js";
import { feedStream } from "./stream-events.js";

export interface ListenerLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly handshakeTimeoutMs: number;
  readonly partialMessageTimeoutMs: number;
  /** A peer whose unread output exceeds this many bytes is disconnected. */
  readonly maxWriteBufferBytes: number;
  /**
   * Reading pauses while half of maxWriteBufferBytes is queued; a peer that has not read it within this time
   * does not read at all and is disconnected (write-buffer).
   */
  readonly writeStallTimeoutMs: number;
  readonly sip?: Partial<SipLimits>;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxConnections: 10_000,
  maxConnectionsPerIp: 200,
  handshakeTimeoutMs: 10_000,
  partialMessageTimeoutMs: 30_000,
  maxWriteBufferBytes: 1024 * 1024,
  writeStallTimeoutMs: 10_000,
};

/** The subset of a pino logger the transport uses. */
export interface TransportLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined };

export interface InboundConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly sni: string | undefined;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly chain: readonly X509Certificate[];
  /** Verified identities of a client that presented a valid certificate; undefined without one. */
  readonly peer: PeerIdentities | undefined;
  readonly verification: ClientVerification;
  /**
   * Configuration generation the peer was last verified against: the one in force at the handshake, or the
   * one a `revalidate` re-checked it under (which may also have updated `peer`).
   */
  readonly generation: number;
  /** Writes bytes; false (and the connection is closed) when the peer's unread output exceeds the bound. */
  send(data: Buffer | string): boolean;
  close(): void;
}

export interface TlsListenerOptions {
  readonly host: string;
  readonly port: number;
  /** Read on every handshake, so a reload takes effect for new connections at once. */
  readonly profile: () => ServerProfile;
  readonly clientPolicy: () => ClientVerificationPolicy;
  /** The configuration generation in force, recorded on each connection. Default: always 1. */
  readonly generation?: () => number;
  /** Our certificate's OCSP response to staple (RFC 6066 §8), looked up per handshake by the leaf's DER. */
  readonly ocspStaple?: (certDer: Buffer) => Buffer | undefined;
  readonly limits?: Partial<ListenerLimits>;
  readonly onMessage: (connection: InboundConnection, message: SipMessage) => void;
  readonly onConnection?: (connection: InboundConnection) => void;
  readonly onClose?: (connection: InboundConnection) => void;
  readonly logger?: TransportLogger;
  readonly counters?: Counters;
}

export class TlsListener {
  readonly counters: Counters;
  private readonly limits: ListenerLimits;
  private readonly logger: TransportLogger;
  private readonly server: tls.Server;
  private readonly perIp = new Map<string, number>();
  private readonly open = new Set<InboundConnection>();
  private nextId = 1;
  private stopped: Promise<void> | undefined;
  private tcpCount = 0;

  /** The fields revalidate may update after a reload; everything else about a connection is fixed. */
  private readonly mutable = new WeakMap<InboundConnection, { peer?: PeerIdentities; generation: number }>();

  constructor(private readonly options: TlsListenerOptions) {
    this.counters = options.counters ?? new Counters();
    this.limits = { ...DEFAULT_LISTENER_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    const profile = options.profile();
    this.server = tls.createServer({
      ...serverTlsOptions(profile),
      // The profile may change on reload: choose from the current one on every handshake.
      SNICallback: (servername, done) =>
        done(null, selectCredential(this.options.profile(), servername).credential.context),
      handshakeTimeout: this.limits.handshakeTimeoutMs,
    });
    if (options.ocspStaple) {
      // Emitted only for clients that sent status_request; null means "no staple" (RFC 6066 §8).
      this.server.on("OCSPRequest", (certificate: Buffer, _issuer: Buffer, done) =>
        done(null, this.options.ocspStaple?.(certificate) ?? null),
      );
    }
    this.server.on("connection", (socket: net.Socket) => this.admit(socket));
    this.server.on("secureConnection", (socket: tls.TLSSocket) => this.accept(socket));
    this.server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      const code = err.code === "ERR_TLS_HANDSHAKE_TIMEOUT" ? "handshake-timeout" : "handshake-failed";
      this.counters.increment(`tls.${code}`);
      this.logger.warn({ code, remote: socket.remoteAddress, err: err.message }, "TLS handshake failed");
      // With a tlsClientError listener, Node leaves the socket open: close it ourselves.
      socket.destroy();
    });
  }

  get connections(): ReadonlySet<InboundConnection> {
    return this.open;
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

  /**
   * A reload swapped the profile: the default context (served to clients that send no SNI) and the
   * client-certificate request are rebuilt from it. Clients that send SNI get the current profile anyway.
   */
  applyProfile(): void {
    const profile = this.options.profile();
    this.server.setSecureContext(profile.defaultCredential.contextOptions);
    // tls.Server reads requestCert for every new connection; setSecureContext leaves it alone.
    (this.server as tls.Server & { requestCert: boolean }).requestCert =
      profile.clientCertificates !== "ignore";
  }

  /**
   * Reload policy `revalidate` (issue 6 §3): re-checks every open connection's client chain against the
   * current client policy (new CA set, CRLs, mapping) and closes those that no longer pass. A connection
   * accepted without a certificate is re-checked too: a listener that now requires one closes it.
   * A peer that still validates but lost an identity it was verified with (its CN mapping line was removed
   * or changed) is closed too (`identities-lost`): in-flight authorization decisions were made on
   * identities the new configuration no longer grants. Survivors take the new identities (possibly more)
   * and the current generation. OCSP is not re-queried here (CRLs are): a reload must not wait on responders.
   */
  revalidate(): Array<{ readonly connection: InboundConnection; readonly verification: ClientVerification }> {
    const policy = this.options.clientPolicy();
    const generation = this.options.generation?.() ?? 1;
    const closed: Array<{ connection: InboundConnection; verification: ClientVerification }> = [];
    for (const connection of this.open) {
      const verification = lostIdentities(connection, verifyClientChain(connection.chain, policy));
      if (verification.ok) {
        this.mutable.set(connection, {
          peer: verification.code === "client-verified" ? verification.peer : undefined,
          generation,
        });
        continue;
      }
      this.counters.increment(`reload.revalidate.${verification.code}`);
      this.logger.warn(
        { code: verification.code, remote: connection.remoteAddress },
        "connection lost trust on reload; closing",
      );
      closed.push({ connection, verification });
      connection.close();
    }
    return closed;
  }

  /** Reload policy `drop`: closes every open connection (the listener keeps accepting). */
  dropConnections(): number {
    const count = this.open.size;
    for (const connection of this.open) connection.close();
    this.counters.increment("reload.dropped", count);
    return count;
  }

  /** Stops accepting, closes every connection, and resolves when the server is closed. */
  /**
   * Graceful shutdown, first step: no new connections (the socket stops listening; peers move on to their
   * next SRV target), while the open ones keep being served. Resolves once every connection has closed.
   */
  stopAccepting(): Promise<void> {
    this.stopped ??= new Promise((resolve) => this.server.close(() => resolve()));
    return this.stopped;
  }

  close(): Promise<void> {
    for (const connection of this.open) connection.close();
    return this.stopAccepting();
  }

  /** TCP accept: connection limits before any TLS work. */
  private admit(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? "unknown";
    const perIp = this.perIp.get(ip) ?? 0;
    const refuse =
      this.tcpCount >= this.limits.maxConnections
        ? "max-connections"
        : perIp >= this.limits.maxConnectionsPerIp
          ? "max-connections-per-ip"
          : undefined;
    if (refuse) {
      this.counters.increment(`limit.${refuse}`);
      this.logger.warn({ code: refuse, remote: ip }, "connection refused by limit");
      socket.destroy();
      return;
    }
    this.tcpCount++;
    this.perIp.set(ip, perIp + 1);
    socket.once("close", () => {
      this.tcpCount--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
  }

  /** Handshake done: verify the client (path, then OCSP when configured), then read SIP. */
  private accept(socket: tls.TLSSocket): void {
    const chain = presentedChain(socket);
    const policy = this.options.clientPolicy();
    const generation = this.options.generation?.() ?? 1;
    const verification = verifyClientChain(chain, policy);
    this.counters.increment(`tls.client.${verification.code}`);
    if (!verification.ok) {
      this.refuse(socket, verification.code, verification.detail);
      return;
    }
    if (!policy.ocsp || policy.ocsp.mode === "off" || verification.code !== "client-verified") {
      this.serve(socket, chain, verification, generation);
      return;
    }
    // Nothing is read until the responder has answered (or the policy tolerated its silence).
    socket.pause();
    void checkClientOcsp(verification, policy).then((ocsp) => {
      this.counters.increment(`tls.client.ocsp.${ocsp.code}`);
      if (!ocsp.ok) this.refuse(socket, ocsp.code, ocsp.detail);
      else if (!socket.destroyed) {
        this.serve(socket, chain, verification, generation);
        socket.resume();
      }
    });
  }

  private refuse(socket: tls.TLSSocket, code: string, detail: string): void {
    this.logger.warn({ code, detail, remote: socket.remoteAddress }, "client certificate rejected");
    socket.destroy();
  }

  private serve(
    socket: tls.TLSSocket,
    chain: X509Certificate[],
    verification: ClientVerification,
    generation: number,
  ): void {
    const connection = this.makeConnection(socket, chain, verification, generation);
    this.open.add(connection);
    this.counters.increment("tls.accepted");
    this.options.onConnection?.(connection);
    const stopReading = this.readMessages(socket, connection);
    // One close listener per connection (not one per concern): it runs once, for every accepted socket.
    socket.on("close", () => {
      stopReading();
      this.open.delete(connection);
      this.options.onClose?.(connection);
    });
  }

  private makeConnection(
    socket: tls.TLSSocket,
    chain: X509Certificate[],
    verification: ClientVerification,
    generation: number,
  ): InboundConnection {
    const limit = this.limits.maxWriteBufferBytes;
    const counters = this.counters;
    const logger = this.logger;
    const mutable = this.mutable;
    const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    const connection: InboundConnection = {
      id: this.nextId++,
      remoteAddress: socket.remoteAddress ?? "",
      remotePort: socket.remotePort ?? 0,
      sni: typeof servername === "string" ? servername : undefined,
      tlsVersion: socket.getProtocol() ?? "unknown",
      cipher: socket.getCipher()?.name ?? "unknown",
      chain,
      get peer() {
        return mutable.get(connection)?.peer;
      },
      get generation() {
        return mutable.get(connection)?.generation ?? generation;
      },
      verification,
      send(data: Buffer | string): boolean {
        if (socket.destroyed) return false;
        if (socket.writableLength > limit) {
          counters.increment("limit.write-buffer");
          logger.warn(
            { code: "write-buffer", remote: socket.remoteAddress },
            "peer does not read; disconnecting",
          );
          socket.destroy();
          return false;
        }
        socket.write(data);
        return true;
      },
      close(): void {
        socket.end();
        socket.destroySoon();
      },
    };
    const peer = verification.ok && verification.code === "client-verified" ? verification.peer : undefined;
    mutable.set(connection, { peer, generation });
    return connection;
  }

  /** Frames SIP from the socket; returns what must run when it closes. */
  private readMessages(socket: tls.TLSSocket, connection: InboundConnection): () => void {
    const state: ReadState = { framer: undefined, partialTimer: undefined };
    socket.on("data", (chunk: Buffer) => this.onData(socket, connection, state, chunk));
    socket.on("error", (err) => {
      this.counters.increment("tls.socket-error");
      this.logger.warn({ remote: connection.remoteAddress, err: err.message }, "connection error");
    });
    return () => stopPartialTimer(state);
  }

  private onData(
    socket: tls.TLSSocket,
    connection: InboundConnection,
    state: ReadState,
    chunk: Buffer,
  ): void {
    // Made on the first byte: an idle connection (most of them, between keep-alives) holds no framer.
    // Any SIP version is framed (Content-Length still delimits it) so that the proxy can answer 505 (RFC 3261
    // §8.2.2 via validateRequest) instead of the connection closing without an answer.
    const framer = (state.framer ??= new Framer({ limits: this.limits.sip, acceptAnyVersion: true }));
    let completed = false;
    const readable = feedStream(framer, chunk, {
      message: (message) => {
        completed = true;
        this.counters.increment("sip.messages");
        this.options.onMessage(connection, message);
      },
      pong: () => void connection.send("\r\n"),
      framingError: (error) => {
        this.counters.increment(`sip.framing.${error.code}`);
        this.logger.warn({ code: error.code, remote: connection.remoteAddress }, error.message);
        socket.destroy();
      },
    });
    if (!readable) return;
    this.applyBackpressure(socket);
    // The slowloris bound is per message: a chunk that completed a message and began the next one restarts
    // the clock (a busy peer's reads rarely end on a message boundary).
    if (framer.buffered === 0 || completed) stopPartialTimer(state);
    if (framer.buffered > 0 && !state.partialTimer) {
      state.partialTimer = setTimeout(() => {
        this.counters.increment("limit.partial-message-timeout");
        this.logger.warn(
          { code: "partial-message-timeout", remote: connection.remoteAddress },
          "message not completed in time",
        );
        socket.destroy();
      }, this.limits.partialMessageTimeoutMs);
      state.partialTimer.unref();
    }
  }

  /**
   * A peer that sends faster than it reads its answers (a burst of requests, each answered) is not hostile
   * until it stops reading: reading from it pauses while half the write bound is queued and resumes when
   * the queue drains; a peer that drains nothing within writeStallTimeoutMs is disconnected.
   */
  private applyBackpressure(socket: tls.TLSSocket): void {
    if (socket.writableLength <= this.limits.maxWriteBufferBytes / 2 || socket.isPaused()) return;
    this.counters.increment("limit.read-paused");
    socket.pause();
    const stalled = setTimeout(() => {
      this.counters.increment("limit.write-buffer");
      this.logger.warn(
        { code: "write-buffer", remote: socket.remoteAddress },
        "peer does not read; disconnecting",
      );
      socket.destroy();
    }, this.limits.writeStallTimeoutMs);
    stalled.unref();
    socket.once("drain", () => {
      clearTimeout(stalled);
      if (!socket.destroyed) socket.resume();
    });
    socket.once("close", () => clearTimeout(stalled));
  }
}

/**
 * What one connection's reader keeps between chunks. Plain state with module-level helpers rather than
 * closures: an accept then allocates only the two socket listeners.
 */
interface ReadState {
  framer: Framer | undefined;
  partialTimer: NodeJS.Timeout | undefined;
}

function stopPartialTimer(state: ReadState): void {
  if (state.partialTimer) clearTimeout(state.partialTimer);
  state.partialTimer = undefined;
}

/** A still-valid chain whose peer no longer has every identity it was verified with fails as `identities-lost`. */
function lostIdentities(connection: InboundConnection, verification: ClientVerification): ClientVerification {
  if (!verification.ok || !connection.peer) return verification;
  const now = verification.code === "client-verified" ? verification.peer.identities : [];
  const lost = connection.peer.identities.filter((old) => !now.some((id) => sameIdentity(old, id)));
  if (lost.length === 0) return verification;
  return {
    ok: false,
    code: "identities-lost",
    detail: `no longer granted: ${lost.map(identityText).join(", ")}`,
  };
}
