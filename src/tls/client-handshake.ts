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
import { isIpLiteral } from "../pki/dns-name.js";
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
  /** TLS 1.3 only: how long to wait for the server to refuse our client certificate (ms). */
  readonly tls13ConfirmMs?: number;
  /** Ask for a stapled OCSP response (RFC 6066 §8); it is returned as `ocspResponse` (ocsp-policy.ts). */
  readonly requestOcsp?: boolean;
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
      /** The stapled OCSP response, when requested and sent. */
      readonly ocspResponse?: Buffer;
    }
  | { readonly ok: false; readonly code: Exclude<HandshakeCode, "connected">; readonly detail: string };

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * RFC 8446 §4.4.2 / §4.6.1: in TLS 1.3 the client's handshake completes before the server has judged the
 * client certificate; a server that refuses it answers our Finished with an alert (e.g. 116
 * certificate_required), and one that accepts it typically sends NewSessionTicket. So under TLS 1.3 success
 * is reported on the first session ticket, or when this window passes without an alert or a close.
 */
export const DEFAULT_TLS13_CONFIRM_MS = 300;

function awaitServerAcceptance(socket: tls.TLSSocket, windowMs: number, accept: () => void): void {
  const timer = setTimeout(accept, windowMs);
  socket.once("session", () => {
    clearTimeout(timer);
    // 'session' fires from inside OpenSSL's read; a caller writing synchronously there loses the write.
    setImmediate(accept);
  });
  // An alert arrives through the 'error' handler and a close through the 'close' handler, which settle first.
  socket.once("close", () => clearTimeout(timer));
}

export function openTlsConnection(request: HandshakeRequest): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let tcpConnected = false;
    let secured = false;
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
      // RFC 6066 §3: SNI carries host names only; an IP literal is never sent.
      servername: isIpLiteral(request.servername) ? undefined : request.servername,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      minVersion: request.minVersion ?? "TLSv1.2",
      cert: request.clientCredentials?.cert,
      key: request.clientCredentials?.key,
      // tls.connect passes requestOCSP on to TLSSocket; @types/node lists it only for TLSSocketOptions.
      ...({ requestOCSP: request.requestOcsp ?? false } satisfies tls.TLSSocketOptions),
    });
    let ocspResponse: Buffer | undefined;
    // Emitted before 'secureConnect' (Node tls docs) when the server stapled a response.
    socket.once("OCSPResponse", (response: Buffer) => {
      ocspResponse = response;
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
      const connected: HandshakeResult = {
        ok: true,
        code: "connected",
        socket,
        chain,
        version: socket.getProtocol() ?? "unknown",
        cipher: socket.getCipher()?.name ?? "unknown",
        ...(ocspResponse ? { ocspResponse } : {}),
      };
      secured = true;
      if (connected.version !== "TLSv1.3") settle(connected);
      else
        awaitServerAcceptance(socket, request.tls13ConfirmMs ?? DEFAULT_TLS13_CONFIRM_MS, () =>
          settle(connected),
        );
    });
    // A close before the result counts as a refusal. Under TLS 1.3 a server that refuses our client
    // certificate may only hang up after our Finished, with no alert we get to read (seen with OpenSSL
    // servers), so a close during the confirmation window is a refusal too.
    socket.once("close", () =>
      settle({
        ok: false,
        code: "tls-error",
        detail: secured
          ? `${request.host}:${request.port}: closed right after the TLS 1.3 handshake (client certificate refused?)`
          : `${request.host}:${request.port}: closed during the handshake`,
      }),
    );
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

/** Bound on waiting for the peer to acknowledge our close. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Closes a connection we no longer need politely: our last handshake flight is flushed and close_notify sent
 * (RFC 8446 §6.1), so the server sees a completed handshake and a clean close rather than a reset. A peer that
 * never closes its side is cut off after `graceMs`.
 */
export function closeGracefully(socket: tls.TLSSocket, graceMs = CLOSE_GRACE_MS): void {
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  socket.on("error", () => socket.destroy());
  socket.end();
}
