/**
 * `siptrust serve` without --config: the embedded default on free ports and a temporary data directory.
 * In-process (startServe) for the behaviour, and once as a real process for SIGTERM → exit 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as dgram from "node:dgram";
import * as tls from "node:tls";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Framer, createResponse, parseMessage, type SipMessage } from "../../../src/sip/index.js";
import {
  hostPort,
  startServe,
  type ServeHandle,
  type ServeOptions,
} from "../../../src/cli/commands/serve.js";
import { UsageError } from "../../../src/cli/exit.js";

const BIN = resolve(import.meta.dirname, "../../../bin/siptrust.js");

function tempDir(t: { after: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-serve-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function options(dataDir: string, innerPort: number): ServeOptions {
  return {
    dataDir,
    workers: 1,
    listen: { host: "127.0.0.1", port: 0 },
    inner: { host: "127.0.0.1", port: innerPort },
    inside: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    graceMs: 200,
    logLevel: "silent",
  };
}

async function serve(
  t: { after: (fn: () => unknown) => void },
  opts: ServeOptions,
): Promise<{ handle: ServeHandle; banner: string; port: number }> {
  let banner = "";
  const handle = await startServe(opts, { out: (text) => void (banner += text), log: () => undefined });
  t.after(() => handle.stop());
  const port = (handle.addresses.listeners.get("tls") as { port: number }).port;
  return { handle, banner, port };
}

/** One request over TLS with the generated client certificate; resolves with the first final response. */
function request(port: number, dataDir: string, text: string): Promise<SipMessage> {
  const pki = join(dataDir, "pki");
  return new Promise((resolvePromise, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: readFileSync(join(pki, "ca.pem")),
      cert: readFileSync(join(pki, "client.pem")),
      key: readFileSync(join(pki, "client-key.pem")),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no final response in time"));
    }, 4000);
    const framer = new Framer();
    socket.on("secureConnect", () => socket.write(text.replace(/\n/g, "\r\n")));
    socket.on("data", (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.type === "message" && (event.message.status ?? 0) >= 200) {
          clearTimeout(timer);
          socket.destroy();
          resolvePromise(event.message);
        }
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function options200(callId: string): string {
  return `OPTIONS sip:localhost SIP/2.0
Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}
Max-Forwards: 70
From: <sip:tester@client.test>;tag=o1
To: <sip:localhost>
Call-ID: ${callId}
CSeq: 1 OPTIONS
Content-Length: 0

`;
}

/** A fake inner server: answers every request with 200 and counts them. */
async function innerUas(t: {
  after: (fn: () => unknown) => void;
}): Promise<{ port: number; got: SipMessage[] }> {
  const socket = dgram.createSocket("udp4");
  const got: SipMessage[] = [];
  socket.on("message", (data, remote) => {
    const message = parseMessage(data);
    got.push(message);
    if (message.isRequest && message.method !== "ACK") {
      socket.send(createResponse(message, 200, "OK", { toTag: "in1" }), remote.port, remote.address);
    }
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  t.after(() => new Promise<void>((r) => socket.close(() => r())));
  return { port: socket.address().port, got };
}

test("the embedded default creates its PKI and config, prints SIPp commands, and answers OPTIONS with 200", async (t) => {
  const dataDir = tempDir(t);
  const inner = await innerUas(t);
  const { banner, port, handle } = await serve(t, options(dataDir, inner.port));
  for (const file of [
    "ca.pem",
    "ca-key.pem",
    "server.pem",
    "server-key.pem",
    "client.pem",
    "client-key.pem",
  ]) {
    assert.ok(existsSync(join(dataDir, "pki", file)), `pki/${file} exists`);
  }
  for (const file of ["siptrust.yaml", "sipp-uac.xml", "stunnel-client.conf"]) {
    assert.ok(existsSync(join(dataDir, file)), `${file} exists`);
  }
  assert.match(banner, /sipp -sf \S+sipp-uac\.xml -t t1 /, "SIPp over stunnel (TCP)");
  assert.match(banner, /-t l1 -tls_cert \S+client\.pem -tls_key \S+client-key\.pem/, "native TLS SIPp form");
  assert.match(banner, new RegExp(`127\\.0\\.0\\.1:${port}`), "the bound TLS port is printed");
  const stunnel = readFileSync(join(dataDir, "stunnel-client.conf"), "utf8");
  assert.match(stunnel, new RegExp(`connect = 127\\.0\\.0\\.1:${port}`));
  assert.match(readFileSync(join(dataDir, "sipp-uac.xml"), "utf8"), /From: "sipp" <sip:sipp@client\.test>/);
  const response = await request(port, dataDir, options200("opt-1"));
  assert.equal(response.status, 200);
  assert.equal(inner.got.length, 0, "OPTIONS to the edge is answered by the edge itself");
  assert.equal(handle.proxy.adminTarget.health().ok, true);
});

test("the generated client certificate's domain passes authorization end to end; another From gets 403", async (t) => {
  const dataDir = tempDir(t);
  const inner = await innerUas(t);
  const { port } = await serve(t, options(dataDir, inner.port));
  const message = `MESSAGE sip:bob@localhost SIP/2.0
Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-msg-1
Max-Forwards: 70
From: <sip:alice@client.test>;tag=m1
To: <sip:bob@localhost>
Call-ID: msg-1
CSeq: 1 MESSAGE
Content-Length: 0

`;
  assert.equal((await request(port, dataDir, message)).status, 200);
  assert.equal(inner.got.filter((m) => m.method === "MESSAGE").length, 1);
  const foreign = message.replace(/alice@client\.test/, "alice@elsewhere.test").replace(/msg-1/g, "msg-2");
  assert.equal((await request(port, dataDir, foreign)).status, 403);
});

test("a second start with the same data directory reuses the PKI", async (t) => {
  const dataDir = tempDir(t);
  const inner = await innerUas(t);
  const first = await serve(t, options(dataDir, inner.port));
  const ca = readFileSync(join(dataDir, "pki", "ca.pem"), "utf8");
  await first.handle.stop();
  const second = await serve(t, options(dataDir, inner.port));
  assert.equal(readFileSync(join(dataDir, "pki", "ca.pem"), "utf8"), ca);
  assert.match(second.banner, /reused: +pki\/ca\.pem/);
  assert.equal(
    second.handle.setup?.created.some((f) => f.endsWith(".pem")),
    false,
  );
  assert.equal((await request(second.port, dataDir, options200("opt-2"))).status, 200);
});

test("hostPort parses host:port and [v6]:port and refuses the rest", () => {
  assert.deepEqual(hostPort("127.0.0.1:5061", "--listen"), { host: "127.0.0.1", port: 5061 });
  assert.deepEqual(hostPort("[::1]:0", "--listen"), { host: "::1", port: 0 });
  for (const bad of ["127.0.0.1", ":5061", "127.0.0.1:70000", "[::1]5061", "a:b:c"]) {
    assert.throws(() => hostPort(bad, "--listen"), UsageError, bad);
  }
});

test("siptrust serve as a process: prints the banner, exits 0 on SIGTERM within the bound", async (t) => {
  const dataDir = tempDir(t);
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--inside", "127.0.0.1:0"].concat([
      "--admin",
      "off",
      "--inner",
      "127.0.0.1:9",
      "--grace",
      "300",
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  t.after(() => child.kill("SIGKILL"));
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes("Try it") && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(stdout, /Try it/, `banner printed; got: ${stdout.slice(0, 500)}`);
  const signalled = Date.now();
  child.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 5000))]);
  assert.equal(code, 0);
  assert.ok(Date.now() - signalled < 5000);
});

/** Two consecutive free ports (UDP and TCP), for per-worker `port + index` sockets. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const sockets: dgram.Socket[] = [];
    try {
      const first = dgram.createSocket("udp4");
      sockets.push(first);
      await new Promise<void>((r, j) => (first.once("error", j), first.bind(0, "127.0.0.1", () => r())));
      const base = first.address().port;
      if (base >= 65535) continue;
      const second = dgram.createSocket("udp4");
      sockets.push(second);
      await new Promise<void>(
        (r, j) => (second.once("error", j), second.bind(base + 1, "127.0.0.1", () => r())),
      );
      return base;
    } catch {
      // taken: try another base
    } finally {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  }
  throw new Error("no free port pair");
}

test("--workers 2: each worker has its own inside and admin port, the TLS port is shared, SIGTERM stops all", async (t) => {
  const dataDir = tempDir(t);
  const inside = await freePortPair();
  const admin = await freePortPair();
  const child = spawn(
    process.execPath,
    [BIN, "serve", "--workers", "2", "--data-dir", dataDir, "--listen", "127.0.0.1:0"]
      .concat(["--inside", `127.0.0.1:${inside}`, "--admin", `127.0.0.1:${admin}`, "--inner", "127.0.0.1:9"])
      .concat(["--grace", "300", "--log-level", "warn"]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  t.after(() => child.kill("SIGKILL"));
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + 40_000;
  const ready = (): string[] =>
    [
      ...stdout.matchAll(
        /worker (\d) \(pid \d+\) ready: TLS tls 127\.0\.0\.1:(\d+); inside 127\.0\.0\.1:(\d+)/g,
      ),
    ].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
  while (ready().length < 2 && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const workers = ready().sort();
  assert.equal(workers.length, 2, stdout.slice(0, 1000));
  const [w0, w1] = workers.map((w) => w.split(":").map(Number)) as [number[], number[]];
  assert.equal(w0[1], w1[1], "one shared TLS port");
  assert.deepEqual([w0[2], w1[2]], [inside, inside + 1], "inside port = base + worker index");
  const tlsPort = w0[1] as number;
  assert.equal((await request(tlsPort, dataDir, options200("w-1"))).status, 200);
  assert.equal((await request(tlsPort, dataDir, options200("w-2"))).status, 200);
  let answered = 0;
  for (const port of [admin, admin + 1]) {
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) });
    const text = await metrics.text();
    const m = /siptrust_requests_total\{method="OPTIONS",outcome="local"\} (\d+)/.exec(text);
    answered += Number(m?.[1] ?? 0);
  }
  assert.equal(answered, 2, "the two OPTIONS were answered by the workers (each admin API counts its own)");
  child.kill("SIGTERM");
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 8000))]);
  assert.equal(code, 0);
});
