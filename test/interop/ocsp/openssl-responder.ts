/**
 * A real OpenSSL OCSP responder on loopback. `openssl ocsp -port N` (OpenSSL 3.0) binds every interface
 * ("ACCEPT [::]:N") and has no option to bind 127.0.0.1, which the test rules forbid; so a Node HTTP front
 * listens on 127.0.0.1 and answers each POST by running the same responder code once:
 * `openssl ocsp -index … -CA … -rsigner … -rkey … -reqin <request> -respout <response>`.
 * Every openssl run is bounded by a timeout; stop() closes the listener and every open connection.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface ResponderFiles {
  readonly index: string;
  readonly caPem: string;
  readonly signerPem: string;
  readonly signerKey: string;
  /** Extra `openssl ocsp` arguments; default `-nmin 10` (nextUpdate 10 minutes after thisUpdate). */
  readonly extraArgs?: readonly string[];
}

/** `serve`: answer with openssl; `hang`: accept the request and never answer; `http-500`: fail at HTTP level. */
export type ResponderMode = "serve" | "hang" | "http-500";

export interface LoopbackResponder {
  readonly url: string;
  readonly port: number;
  mode: ResponderMode;
  configure(files: ResponderFiles): void;
  /** Requests received so far. */
  readonly requests: number;
  stop(): Promise<void>;
}

const OPENSSL_TIMEOUT_MS = 10_000;
const MAX_REQUEST_BYTES = 64 * 1024;

export async function startLoopbackResponder(workDir: string, name: string): Promise<LoopbackResponder> {
  let files: ResponderFiles | undefined;
  let requests = 0;
  const sockets = new Set<import("node:net").Socket>();
  const state = { mode: "serve" as ResponderMode };
  const server = http.createServer((req, res) => {
    requests += 1;
    const n = requests;
    readRequest(req)
      .then(async (body) => {
        if (state.mode === "hang") return; // keep the connection open without answering
        if (state.mode === "http-500" || !files || !body) {
          res.writeHead(500).end();
          return;
        }
        const der = await runOpenssl(files, workDir, `${name}-${n}`, body);
        res.writeHead(200, { "Content-Type": "application/ocsp-response", "Content-Length": der.length });
        res.end(der);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    get mode() {
      return state.mode;
    },
    set mode(m: ResponderMode) {
      state.mode = m;
    },
    configure(f) {
      files = f;
    },
    get requests() {
      return requests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function readRequest(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        req.destroy();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function runOpenssl(files: ResponderFiles, dir: string, id: string, request: Buffer): Promise<Buffer> {
  const reqPath = join(dir, `${id}.req.der`);
  const respPath = join(dir, `${id}.resp.der`);
  await writeFile(reqPath, request);
  const args = [
    "ocsp",
    "-index",
    files.index,
    "-CA",
    files.caPem,
    "-rsigner",
    files.signerPem,
    "-rkey",
    files.signerKey,
    "-reqin",
    reqPath,
    "-respout",
    respPath,
    ...(files.extraArgs ?? ["-nmin", "10"]),
  ];
  await new Promise<void>((resolve, reject) => {
    execFile("openssl", args, { timeout: OPENSSL_TIMEOUT_MS }, (err, _stdout, stderr) =>
      err ? reject(new Error(`openssl ocsp failed: ${stderr}`)) : resolve(),
    );
  });
  return readFile(respPath);
}

/** A loopback port with nothing listening (bound, then released): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
