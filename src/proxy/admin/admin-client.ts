/**
 * Client side of the admin API, for `siptrust status|connections|reload`. Bounded: a request that gets no
 * complete answer within the timeout fails, and a response larger than the cap is refused rather than held.
 */
import * as http from "node:http";
import * as https from "node:https";

export const DEFAULT_ADMIN_URL = "http://127.0.0.1:8061";

export interface AdminRequest {
  readonly method: "GET" | "POST";
  /** Endpoint path, e.g. "/health". */
  readonly path: string;
  readonly token?: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

export interface AdminResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export type AdminClientErrorCode =
  "admin-bad-url" | "admin-unreachable" | "admin-timeout" | "admin-response-too-large";

/** The admin API could not be asked (bad URL, nothing listening, no answer in time). */
export class AdminClientError extends Error {
  override readonly name = "AdminClientError";
  constructor(
    readonly code: AdminClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Parses the --admin URL: http or https, no path beyond "/" (endpoints are appended). */
export function parseAdminUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AdminClientError("admin-bad-url", `${text}: not a URL (expected e.g. ${DEFAULT_ADMIN_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AdminClientError("admin-bad-url", `${text}: only http: and https: admin URLs are supported`);
  }
  return url;
}

export function adminRequest(base: URL, request: AdminRequest): Promise<AdminResponse> {
  const url = new URL(request.path, base);
  const timeoutMs = request.timeoutMs ?? 5000;
  const maxBytes = request.maxResponseBytes ?? 64 * 1024 * 1024;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: AdminResponse | AdminClientError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof AdminClientError) {
        req.destroy();
        reject(outcome);
      } else resolve(outcome);
    };
    const req = client.request(url, {
      method: request.method,
      headers: {
        Accept: "application/json, text/plain",
        ...(request.token !== undefined ? { Authorization: `Bearer ${request.token}` } : {}),
        ...(request.method === "POST" ? { "Content-Length": "0" } : {}),
      },
    });
    const timer = setTimeout(
      () => settle(new AdminClientError("admin-timeout", `${url.origin}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      settle(
        new AdminClientError("admin-unreachable", `${url.origin}: ${err.code ?? ""} ${err.message}`.trim()),
      ),
    );
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          settle(
            new AdminClientError(
              "admin-response-too-large",
              `${url.origin}: response larger than ${maxBytes} bytes`,
            ),
          );
        } else chunks.push(chunk);
      });
      res.on("error", (err) =>
        settle(new AdminClientError("admin-unreachable", `${url.origin}: ${err.message}`)),
      );
      res.on("end", () =>
        settle({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    req.end();
  });
}
