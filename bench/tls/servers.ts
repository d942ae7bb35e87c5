/**
 * The two servers `npm run bench:tls` compares, configured identically (same certificate, client certificate
 * required, TLS 1.2+), shared by bench/tls.bench.ts and bench/tls/profile-accept.ts so both measure the same
 * thing. Each writes ACCEPTED once a client is accepted: for siptrust only after its certificate was verified
 * and its identities extracted, the work being measured.
 */
import { X509Certificate } from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import { buildServerProfile } from "../../src/tls/server-profile.js";
import { TlsListener } from "../../src/transport/tls-listener.js";

export interface Pki {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export interface RunningServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** The same "accepted" signal from both servers: one CRLF (an RFC 5626 pong, harmless on a SIP stream). */
export const ACCEPTED = "\r\n";

/** Bare Node: tls.createServer with the same certificate and client-certificate requirement. */
export async function startNodeServer(pki: Pki): Promise<RunningServer> {
  const server = tls.createServer(
    {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
      ca: [pki.caPem],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    },
    (socket) => {
      socket.on("error", () => undefined);
      socket.write(ACCEPTED);
    },
  );
  server.on("tlsClientError", (_err, socket) => socket.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
  return { port, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The siptrust TlsListener: verifies the client chain itself and extracts the peer's SIP identities. */
export async function startSiptrustServer(pki: Pki): Promise<RunningServer> {
  const profile = buildServerProfile({
    credentials: [{ certPem: pki.serverCertPem, keyPem: pki.serverKeyPem }],
    clientCertificates: "required",
    clientCaPems: [pki.caPem],
  });
  const anchors = [{ cert: new X509Certificate(pki.caPem) }];
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "required", anchors }),
    // Total raised for the idle phase; the per-address limit keeps its default.
    limits: { maxConnections: 50_000 },
    onConnection: (connection) => {
      if (connection.peer === undefined) throw new Error("accepted without verified identities");
      connection.send(ACCEPTED);
    },
    onMessage: () => undefined,
  });
  const { port } = await listener.listen();
  return { port, stop: () => listener.close() };
}
