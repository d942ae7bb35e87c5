/**
 * Opens an outbound TLS connection and reports what happened as a result with a reason code.
 *
 * OpenSSL's own verification is switched off here on purpose: siptrust verifies the presented chain
 * itself (RFC 5280 path validation with the RFC 5924 EKU rule instead of OpenSSL's purpose check,
 * DANE per RFC 7671/7673, identities per RFC 5922), and an unverified socket is never handed to a caller
 * as trusted: the caller gets the chain and decides.
 */
import * as tls from "node:tls";
import type { X509Certificate } from "node:crypto";
import { presentedChain } from "./peer-chain.js";

export interface ClientCredentials {
  /** PEM certificate chain, leaf first. */
  readonly cert: string | Buffer;
  /** PEM private key. */
  readonly key: string | Buffer;
}

export interface HandshakeRequest {
  readonly host: string;
  readonly port: number;
  /** RFC 6066 SNI; always sent (DESIGN.md "Outbound" rule 4). An IP literal cannot be sent as SNI. */
  readonly servername: string;
  readonly clientCredentials?: ClientCredentials;
  readonly timeoutMs?: number;
  /** TLS 1.2 is the floor unless the operator loosens it explicitly. */
  readonly minVersion?: tls.SecureVersion;
}

export type HandshakeCode =
  "connected" | "connect-failed" | "handshake-timeout" | "tls-error" | "no-certificate";

export type HandshakeResult =
  | {
      readonly ok: true;
      readonly code: "connected";
      readonly socket: tls.TLSSocket;
      readonly chain: X509Certificate[];
      readonly version: string;
      readonly cipher: string;
    }
  | { readonly ok: false; readonly code: Exclude<HandshakeCode, "connected">; readonly detail: string };

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

export function openTlsConnection(request: HandshakeRequest): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let tcpConnected = false;
    const settle = (result: HandshakeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const socket = tls.connect({
      host: request.host,
      port: request.port,
      servername: isIpLiteral(request.servername) ? undefined : request.servername,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      minVersion: request.minVersion ?? "TLSv1.2",
      cert: request.clientCredentials?.cert,
      key: request.clientCredentials?.key,
    });
    const timeoutMs = request.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(
      () =>
        settle({ ok: false, code: "handshake-timeout", detail: `no TLS handshake within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once("connect", () => {
      tcpConnected = true;
    });
    socket.once("secureConnect", () => {
      const chain = presentedChain(socket);
      if (chain.length === 0) {
        settle({ ok: false, code: "no-certificate", detail: "the server presented no certificate" });
        return;
      }
      settle({
        ok: true,
        code: "connected",
        socket,
        chain,
        version: socket.getProtocol() ?? "unknown",
        cipher: socket.getCipher()?.name ?? "unknown",
      });
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const code = tcpConnected ? "tls-error" : "connect-failed";
      settle({
        ok: false,
        code,
        detail: `${request.host}:${request.port}: ${err.code ?? ""} ${err.message}`.trim(),
      });
    });
  });
}

/** RFC 6066 §3: SNI carries host names only; an IP literal is never sent. */
export function isIpLiteral(name: string): boolean {
  return /^[0-9.]+$/.test(name) || name.includes(":");
}
