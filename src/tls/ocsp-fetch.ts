/**
 * One OCSP exchange over HTTP (RFC 6960 Appendix A.1): POST the DER request with Content-Type
 * application/ocsp-request, read an application/ocsp-response body. Bounded in time (one deadline for
 * connect + request + response) and in size (the body is cut off at `maxBytes`); redirects are not followed.
 * Only `http:` URLs: OCSP responses are signed, and fetching them over TLS would need revocation checking
 * of the responder's own TLS certificate (the circularity RFC 5019 §5 avoids).
 */
import * as http from "node:http";

export interface OcspFetchRequest {
  readonly url: string;
  readonly body: Buffer;
  /** Default 5 s. */
  readonly timeoutMs?: number;
  /** Default 64 KiB: a response with its signer certificate is a few KiB. */
  readonly maxBytes?: number;
}

export type OcspFetchCode =
  "ocsp-bad-url" | "ocsp-unreachable" | "ocsp-timeout" | "ocsp-http-error" | "ocsp-too-large";

export type OcspFetchResult =
  | { readonly ok: true; readonly body: Buffer; readonly url: string }
  | { readonly ok: false; readonly code: OcspFetchCode; readonly detail: string; readonly url: string };

/** The transport used by the stapler and the policy; tests may substitute their own. */
export type OcspFetcher = (request: OcspFetchRequest) => Promise<OcspFetchResult>;

export const DEFAULT_OCSP_FETCH_TIMEOUT_MS = 5000;
export const DEFAULT_OCSP_MAX_BYTES = 64 * 1024;

/** POSTs `request.body` to `request.url`. Never rejects. */
export const fetchOcspResponse: OcspFetcher = (request) => {
  const url = parseHttpUrl(request.url);
  if (typeof url === "string")
    return Promise.resolve({ ok: false, code: "ocsp-bad-url", detail: url, url: request.url });
  return new Promise((resolve) => exchange(url, request, resolve));
};

function parseHttpUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: ${JSON.stringify(text)}`;
  }
  if (url.protocol !== "http:") return `only http: responder URLs are used, got ${url.protocol}`;
  return url;
}

function exchange(url: URL, request: OcspFetchRequest, resolve: (r: OcspFetchResult) => void): void {
  const timeoutMs = request.timeoutMs ?? DEFAULT_OCSP_FETCH_TIMEOUT_MS;
  const maxBytes = request.maxBytes ?? DEFAULT_OCSP_MAX_BYTES;
  let done = false;
  const finish = (result: OcspFetchResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.destroy();
    resolve(result);
  };
  const failWith = (code: OcspFetchCode, detail: string) =>
    finish({ ok: false, code, detail, url: url.href });
  const req = http.request(url, {
    method: "POST",
    agent: false,
    headers: {
      "Content-Type": "application/ocsp-request",
      Accept: "application/ocsp-response",
      "Content-Length": request.body.length,
    },
  });
  const timer = setTimeout(
    () => failWith("ocsp-timeout", `no complete answer within ${timeoutMs} ms`),
    timeoutMs,
  );
  req.on("error", (err: NodeJS.ErrnoException) =>
    failWith("ocsp-unreachable", `${err.code ?? ""} ${err.message}`.trim()),
  );
  req.on("response", (res) => {
    if (res.statusCode !== 200) {
      failWith("ocsp-http-error", `HTTP ${res.statusCode ?? "?"} ${res.statusMessage ?? ""}`.trim());
      return;
    }
    const declared = Number(res.headers["content-length"] ?? "0");
    if (declared > maxBytes) {
      failWith("ocsp-too-large", `Content-Length ${declared} exceeds ${maxBytes}`);
      return;
    }
    readBody(res, maxBytes, (body) => finish({ ok: true, body, url: url.href }), failWith);
  });
  req.end(request.body);
}

function readBody(
  res: http.IncomingMessage,
  maxBytes: number,
  onBody: (body: Buffer) => void,
  failWith: (code: OcspFetchCode, detail: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) failWith("ocsp-too-large", `body exceeds ${maxBytes} bytes`);
    else chunks.push(chunk);
  });
  res.on("end", () => onBody(Buffer.concat(chunks)));
  res.on("error", (err) => failWith("ocsp-unreachable", `response aborted: ${err.message}`));
  res.on("close", () => {
    if (!res.complete) failWith("ocsp-unreachable", "connection closed before the response was complete");
  });
}
