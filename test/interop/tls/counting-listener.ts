// A TlsListener (client certificates required) for the SIPp load tests: answers every OPTIONS with 200 OK and
// records each accepted TLS connection (onConnection) and each request with the identities verified on its
// connection, so a test can tell how SIPp's TCP connections mapped onto TLS connections.
import { X509Certificate } from "node:crypto";
import type { GeneratedCertificate } from "../../../src/pki/issue.js";
import { buildServerProfile } from "../../../src/tls/server-profile.js";
import { TlsListener } from "../../../src/transport/tls-listener.js";
import { identityText } from "../../../src/auth/identity.js";
import { okResponse } from "./sip-text.js";

export interface AcceptedConnection {
  readonly id: number;
  readonly sni: string | undefined;
  readonly identities: readonly string[];
}

export interface ReceivedOptions {
  readonly connectionId: number;
  readonly callId: string;
  readonly verification: string;
  readonly identities: readonly string[];
}

export interface CountingListener {
  readonly listener: TlsListener;
  readonly port: number;
  readonly connections: AcceptedConnection[];
  readonly options: ReceivedOptions[];
  /** Forgets what was recorded (between SIPp runs against the same listener). */
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingListener(
  server: GeneratedCertificate,
  clientCas: readonly GeneratedCertificate[],
): Promise<CountingListener> {
  const profile = buildServerProfile({
    credentials: [{ certPem: server.certificatePem, keyPem: server.privateKeyPem }],
    clientCertificates: "required",
    clientCaPems: clientCas.map((c) => c.certificatePem),
  });
  const anchors = clientCas.map((c) => ({ cert: new X509Certificate(c.certificatePem) }));
  const connections: AcceptedConnection[] = [];
  const options: ReceivedOptions[] = [];
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "required", anchors }),
    onConnection: (connection) => {
      connections.push({
        id: connection.id,
        sni: connection.sni,
        identities: (connection.peer?.identities ?? []).map(identityText),
      });
    },
    onMessage: (connection, message) => {
      if (message.method !== "OPTIONS") return;
      options.push({
        connectionId: connection.id,
        callId: message.get("Call-ID") ?? "",
        verification: connection.verification.code,
        identities: (connection.peer?.identities ?? []).map(identityText),
      });
      connection.send(okResponse(message));
    },
  });
  const { port } = await listener.listen();
  const reset = (): void => {
    connections.length = 0;
    options.length = 0;
  };
  return { listener, port, connections, options, reset, close: () => listener.close() };
}
