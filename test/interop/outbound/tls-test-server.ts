// A real TLS server for outbound tests: node's tls on one 127.0.0.x address and a random port, presenting a
// fixed chain and recording the SNI each client sent. Every connection is closed right after the handshake:
// the outbound procedure only needs the handshake, and nothing can linger.
//
// SNI is recorded from the ClientHello (SNICallback), not after the handshake: a client that closes as soon as
// it has verified the server (as siptrust does) may be gone before the server sees the handshake complete.
import * as tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";

export interface TlsTestServer {
  readonly host: string;
  readonly port: number;
  /** The server_name of every ClientHello that carried one (RFC 6066 §3), in order. */
  readonly sniReceived: readonly string[];
  /**
   * CN of the client certificate of every completed handshake ("" when none was sent). The server asks for
   * one but does not require or verify it: tests check what the client chose to present.
   */
  readonly clientCertificates: readonly string[];
  /** TCP connections accepted, whether or not the handshake completed. */
  connections(): number;
  close(): Promise<void>;
}

export interface TlsTestServerOptions {
  /** PEM chain to present, leaf first. */
  readonly certPem: string;
  readonly keyPem: string;
}

export async function startTlsTestServer(
  host: string,
  options: TlsTestServerOptions,
): Promise<TlsTestServer> {
  if (!host.startsWith("127.")) throw new Error(`test servers listen on loopback only, not ${host}`);
  const sniReceived: string[] = [];
  const clientCertificates: string[] = [];
  const context = tls.createSecureContext({ cert: options.certPem, key: options.keyPem });
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = tls.createServer(
    {
      cert: options.certPem,
      key: options.keyPem,
      handshakeTimeout: 5000,
      requestCert: true,
      rejectUnauthorized: false,
      SNICallback: (servername, done) => {
        sniReceived.push(servername);
        done(null, context);
      },
    },
    (socket) => {
      const peer = socket.getPeerCertificate();
      clientCertificates.push(peer && "subject" in peer && peer.subject ? String(peer.subject.CN ?? "") : "");
      socket.on("error", () => socket.destroy());
      // Like a SIP server: the connection stays up until the client closes it. (Hanging up right after
      // the handshake is how a TLS 1.3 server refuses a client certificate without an alert.)
      socket.on("end", () => socket.end());
    },
  );
  server.on("connection", (raw) => {
    accepted++;
    sockets.add(raw);
    raw.once("close", () => sockets.delete(raw));
    raw.on("error", () => raw.destroy());
  });
  // A client that gives up mid-handshake is normal in these tests; it must not crash the test process.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    sniReceived,
    clientCertificates,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
