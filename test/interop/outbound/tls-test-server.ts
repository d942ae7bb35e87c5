// A real TLS server for outbound tests: node's tls on one 127.0.0.x address and a random port, presenting a
// fixed chain and recording what each client sent (SNI, client certificate). Every connection is closed right
// after the handshake: the outbound procedure only needs the handshake, and nothing can linger.
import * as tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";

export interface ReceivedConnection {
  /** The SNI the client sent (RFC 6066 §3), or null when it sent none. */
  readonly servername: string | null;
  /** Subject of the client certificate, when one was presented. */
  readonly clientSubject: string | null;
}

export interface TlsTestServer {
  readonly host: string;
  readonly port: number;
  /** Completed handshakes, in order. */
  readonly received: readonly ReceivedConnection[];
  /** TCP connections accepted, whether or not the handshake completed. */
  connections(): number;
  close(): Promise<void>;
}

export interface TlsTestServerOptions {
  /** PEM chain to present, leaf first. */
  readonly certPem: string;
  readonly keyPem: string;
  /** Ask for a client certificate (not verified here; the test inspects it). */
  readonly requestCert?: boolean;
}

export async function startTlsTestServer(
  host: string,
  options: TlsTestServerOptions,
): Promise<TlsTestServer> {
  if (!host.startsWith("127.")) throw new Error(`test servers listen on loopback only, not ${host}`);
  const received: ReceivedConnection[] = [];
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = tls.createServer(
    {
      cert: options.certPem,
      key: options.keyPem,
      requestCert: options.requestCert === true,
      rejectUnauthorized: false,
      handshakeTimeout: 5000,
    },
    (socket) => {
      const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
      const peer = socket.getPeerCertificate();
      received.push({
        servername: typeof servername === "string" ? servername : null,
        clientSubject: peer && "subject" in peer && peer.subject ? String(peer.subject.CN ?? "") : null,
      });
      socket.on("error", () => socket.destroy());
      socket.end();
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
    received,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
