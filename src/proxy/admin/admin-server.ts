/**
 * The admin HTTP API of the edge (issue 7 §3): GET /health, GET /connections, POST /reload, GET /metrics.
 *
 * Decisions:
 * - Loopback by default. Binding anywhere else exposes reload and the peer list to the network, so it is
 *   refused unless a bearer token is configured, and even then logged as a warning.
 * - When a token is configured every endpoint needs it, /health and /metrics included: the peer list and the
 *   counters describe who federates with us, which is not public.
 * - The server is bounded like the SIP side: bodies are not used and refused past 1 KiB, slow clients are cut
 *   off by headersTimeout/requestTimeout, connections and header counts are capped.
 * - A target that throws answers 500 and is logged; the server keeps serving (a broken /connections must not
 *   take /reload away from the operator).
 * - The token is never logged, and failed checks log only the peer address and the reason code.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { EdgeReloadResult } from "../../transport/edge-runtime.js";
import type { TransportLogger } from "../../transport/tls-listener.js";
import type { AdminTarget } from "./admin-target.js";
import { checkBearerToken, isUsableToken } from "./bearer-token.js";
import { isLoopbackHost } from "./loopback.js";
import { AdminMetrics } from "./metrics.js";

export const DEFAULT_ADMIN_HOST = "127.0.0.1";
export const DEFAULT_ADMIN_PORT = 8061;

export interface AdminLimits {
  /** Request bodies are never used; anything larger than this is refused with 413. */
  readonly maxBodyBytes: number;
  /** Time a client has to send the complete request head. */
  readonly headersTimeoutMs: number;
  /** Time a client has to send the complete request. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxHeaderBytes: number;
}

export const DEFAULT_ADMIN_LIMITS: AdminLimits = {
  maxBodyBytes: 1024,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 32,
  maxHeaderBytes: 8192,
};

export interface AdminServerOptions {
  /** Default 127.0.0.1. A non-loopback address needs `token`. */
  readonly host?: string;
  /** Default 8061; 0 = any free port. */
  readonly port?: number;
  readonly token?: string;
  readonly target: AdminTarget;
  readonly logger?: TransportLogger;
  readonly limits?: Partial<AdminLimits>;
  /** Node process metrics in /metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export type AdminServerErrorCode = "admin-remote-needs-token" | "admin-bad-token" | "admin-bad-port";

/** The admin server cannot be set up as configured (the message says which rule). */
export class AdminServerError extends Error {
  override readonly name = "AdminServerError";
  constructor(
    readonly code: AdminServerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Handler = (res: http.ServerResponse) => Promise<void> | void;

interface Route {
  readonly method: "GET" | "POST";
  readonly handle: Handler;
}

// What a client hears when Node's parser or timers give up on its request (anything else: 400).
const CLIENT_ERROR_STATUS: Readonly<Record<string, string>> = {
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
};

const silentLogger: TransportLogger = { info: () => undefined, warn: () => undefined };

export class AdminServer {
  readonly metrics: AdminMetrics;
  private readonly host: string;
  private readonly port: number;
  private readonly token: string | undefined;
  private readonly target: AdminTarget;
  private readonly logger: TransportLogger;
  private readonly limits: AdminLimits;
  private readonly server: http.Server;
  private readonly routes: ReadonlyMap<string, Route>;

  constructor(options: AdminServerOptions) {
    this.host = options.host ?? DEFAULT_ADMIN_HOST;
    this.port = options.port ?? DEFAULT_ADMIN_PORT;
    this.token = options.token;
    this.target = options.target;
    this.logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_ADMIN_LIMITS, ...options.limits };
    checkSetup(this.host, this.port, this.token);
    if (!isLoopbackHost(this.host)) {
      this.logger.warn(
        { host: this.host, port: this.port },
        "admin API on a non-loopback address: reachable from the network, bearer token required on every request",
      );
    }
    this.metrics = new AdminMetrics(this.target, { defaultMetrics: options.defaultMetrics ?? true });
    this.routes = new Map<string, Route>([
      ["/health", { method: "GET", handle: (res) => this.health(res) }],
      ["/connections", { method: "GET", handle: (res) => this.connections(res) }],
      ["/reload", { method: "POST", handle: (res) => this.reload(res) }],
      ["/metrics", { method: "GET", handle: (res) => this.renderMetrics(res) }],
    ]);
    this.server = this.createServer();
  }

  /** Binds; resolves with the bound address (port 0 → the port chosen). */
  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off("error", reject);
        const info = this.server.address() as AddressInfo;
        this.logger.info(
          { address: info.address, port: info.port, token: this.token !== undefined },
          "admin API listening",
        );
        resolve({ address: info.address, port: info.port });
      });
    });
  }

  /** Stops accepting and closes every connection, idle or not. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private createServer(): http.Server {
    const server = http.createServer(
      {
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        keepAliveTimeout: this.limits.keepAliveTimeoutMs,
        maxHeaderSize: this.limits.maxHeaderBytes,
        // Node checks the two timeouts above on this interval (default 30 s, far coarser than they are).
        connectionsCheckingInterval: Math.min(1000, this.limits.headersTimeoutMs),
      },
      (req, res) => this.receive(req, res),
    );
    server.maxConnections = this.limits.maxConnections;
    server.maxHeadersCount = 64;
    server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
      const status = CLIENT_ERROR_STATUS[err.code ?? ""] ?? "400 Bad Request";
      this.logger.warn(
        { code: err.code ?? "client-error", status },
        "admin API: malformed or too slow request",
      );
      // Written, then closed: the peer learns why, and the connection does not stay half-open.
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
          socket.destroy(),
        );
      } else socket.destroy();
    });
    return server;
  }

  /** Reads (and discards) a bounded body, then answers; the route runs only on a complete request. */
  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = pathOf(req.url);
    res.once("finish", () => this.metrics.recordAdminRequest(path, res.statusCode));
    const declared = Number(req.headers["content-length"] ?? "0");
    if (!Number.isFinite(declared) || declared > this.limits.maxBodyBytes) {
      this.tooLarge(req, res);
      return;
    }
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.limits.maxBodyBytes && !res.headersSent) this.tooLarge(req, res);
    });
    req.on("end", () => {
      if (!res.headersSent) void this.dispatch(req, res, path);
    });
    req.on("error", () => undefined);
  }

  private tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader("Connection", "close");
    sendJson(res, 413, {
      ok: false,
      code: "body-too-large",
      detail: `request bodies are limited to ${this.limits.maxBodyBytes} bytes`,
    });
    // Whatever else the client sends is not read: stop the stream so the connection closes.
    req.pause();
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const auth = checkBearerToken(this.token, req.headers.authorization);
    if (!auth.ok) {
      this.logger.warn(
        { remote: req.socket.remoteAddress, path, code: auth.code },
        "admin API: unauthorized",
      );
      res.setHeader("WWW-Authenticate", 'Bearer realm="siptrust"');
      sendJson(res, 401, { ok: false, code: auth.code, detail: auth.detail });
      return;
    }
    const route = this.routes.get(path);
    if (!route) {
      sendJson(res, 404, { ok: false, code: "not-found", detail: `no such endpoint: ${path}` });
      return;
    }
    if (req.method !== route.method) {
      res.setHeader("Allow", route.method);
      sendJson(res, 405, {
        ok: false,
        code: "method-not-allowed",
        detail: `${path} accepts ${route.method} only`,
      });
      return;
    }
    try {
      await route.handle(res);
    } catch (err) {
      this.logger.warn({ path, err: (err as Error).message }, "admin API: the edge failed to answer");
      if (!res.headersSent) {
        sendJson(res, 500, { ok: false, code: "internal-error", detail: (err as Error).message });
      } else res.destroy();
    }
  }

  private health(res: http.ServerResponse): void {
    const report = this.target.health();
    sendJson(res, report.ok ? 200 : 503, report);
  }

  private connections(res: http.ServerResponse): void {
    const list = this.target.connections();
    sendJson(res, 200, { count: list.length, connections: list });
  }

  private reload(res: http.ServerResponse): void {
    const result = this.reloadTarget();
    if (result.ok) {
      this.logger.info({ generation: result.generation, code: result.code }, "reload via admin API: applied");
      sendJson(res, 200, result);
    } else {
      this.logger.warn(
        { generation: result.generation, code: result.code, problems: result.problems.length },
        "reload via admin API: refused",
      );
      sendJson(res, 409, result);
    }
  }

  private reloadTarget(): EdgeReloadResult {
    try {
      return this.target.reload();
    } catch (err) {
      // The edge's own reload path never throws; if something does, it is a failed (not applied) reload.
      this.target.counters.increment("reload.failed");
      throw err;
    }
  }

  private async renderMetrics(res: http.ServerResponse): Promise<void> {
    const text = await this.metrics.render();
    res.writeHead(200, { "Content-Type": this.metrics.contentType, "Cache-Control": "no-store" });
    res.end(text);
  }
}

function checkSetup(host: string, port: number, token: string | undefined): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AdminServerError("admin-bad-port", `admin port ${port} is not a TCP port`);
  }
  if (token !== undefined && !isUsableToken(token)) {
    throw new AdminServerError(
      "admin-bad-token",
      "the admin token must be non-empty visible ASCII without spaces (it is sent in an HTTP header)",
    );
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new AdminServerError(
      "admin-remote-needs-token",
      `refusing to serve the admin API on ${host} without a bearer token; bind to 127.0.0.1 or configure a token`,
    );
  }
}

/** The path without query string; a malformed target is treated as an unknown path. */
function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + "\n";
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}
