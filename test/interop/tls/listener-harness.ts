// An in-process TlsListener for the interop tests, recording what it saw of each peer (SNI, TLS version,
// client verification, identities) and answering each request with 200 OK, as the edge will.
import { X509Certificate } from "node:crypto";
import type { GeneratedCertificate } from "../../../src/pki/issue.js";
import { buildServerProfile } from "../../../src/tls/server-profile.js";
import type { ClientCertificateMode } from "../../../src/tls/client-verification.js";
import { TlsListener, type ListenerLimits } from "../../../src/transport/tls-listener.js";
import { identityText } from "../../../src/auth/identity.js";
import { okResponse } from "./sip-text.js";

export interface SeenRequest {
  readonly connectionId: number;
  readonly method: string;
  readonly callId: string;
  readonly sni: string | undefined;
  readonly tlsVersion: string;
  readonly verification: string;
  /** Verified identities as text: a domain, or a URI for an identity with a user part. */
  readonly identities: readonly string[];
}

export interface HarnessOptions {
  /** Server certificates; the first is the default. */
  readonly credentials: readonly GeneratedCertificate[];
  readonly mode: ClientCertificateMode;
  /** The listener's client CA set (anchors, and the names sent in the CertificateRequest). */
  readonly clientCas?: readonly GeneratedCertificate[];
  readonly limits?: Partial<ListenerLimits>;
}

export interface Harness {
  readonly listener: TlsListener;
  readonly port: number;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const cas = options.clientCas ?? [];
  const profile = buildServerProfile({
    credentials: options.credentials.map((c) => ({ certPem: c.certificatePem, keyPem: c.privateKeyPem })),
    clientCertificates: options.mode,
    clientCaPems: cas.map((c) => c.certificatePem),
  });
  const anchors = cas.map((c) => ({ cert: new X509Certificate(c.certificatePem) }));
  const seen: SeenRequest[] = [];
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: options.mode, anchors }),
    limits: options.limits,
    onMessage: (connection, message) => {
      seen.push({
        connectionId: connection.id,
        method: message.method ?? "",
        callId: message.get("Call-ID") ?? "",
        sni: connection.sni,
        tlsVersion: connection.tlsVersion,
        verification: connection.verification.code,
        identities: (connection.peer?.identities ?? []).map(identityText),
      });
      if (message.isRequest) connection.send(okResponse(message));
    },
  });
  const { port } = await listener.listen();
  return { listener, port, seen, close: () => listener.close() };
}
