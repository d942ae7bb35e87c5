/**
 * The daemon wired end to end, in-process on loopback with free ports: a configuration file read through
 * the config store, the TLS edge, the proxy core, the inner UDP side, accounting and the admin API.
 * A TLS client with a generated client certificate calls a fake inner UAS (a dgram socket in the test).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import * as net from "node:net";
import * as tls from "node:tls";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { Framer, createResponse, parseMessage, type SipMessage } from "../../../src/sip/index.js";
import { ConfigStore } from "../../../src/config/config-store.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { proxyConfigSource } from "../../../src/config/edge-source.js";
import { EdgeProxy, type EdgeProxyAddresses } from "../../../src/proxy/edge-proxy.js";
import { silentEdgeLogger } from "../../../src/transport/edge-runtime.js";

const IDENTITY_HEADER = "X-Siptrust-Identity";

interface Pki {
  readonly dir: string;
  readonly ca: GeneratedCertificate;
  readonly client: GeneratedCertificate;
}

function makePki(dir: string): Pki {
  const ca = createCa({ cn: "edge-proxy test CA" });
  const server = issueCertificate(ca, {
    cn: "localhost",
    san: { uri: ["sip:localhost"], dns: ["localhost"] },
    eku: ["sipDomain", "serverAuth"],
  });
  const client = issueCertificate(ca, {
    cn: "client.test",
    san: { uri: ["sip:client.test"] },
    eku: ["sipDomain", "clientAuth"],
  });
  writeFileSync(join(dir, "ca.pem"), ca.certificatePem);
  writeFileSync(join(dir, "server.pem"), server.certificatePem);
  writeFileSync(join(dir, "server-key.pem"), server.privateKeyPem);
  return { dir, ca, client };
}

function configYaml(innerPort: number, extra = ""): string {
  return `caSets:
  dev: { files: [ca.pem] }
listeners:
  - name: tls
    address: 127.0.0.1
    port: 0
    certificates: [{ cert: server.pem, key: server-key.pem }]
    clientCertificates: optional
    clientCaSet: dev
proxy:
  inside: { address: 127.0.0.1, port: 5080, transport: udp }
  identityHeader: ${IDENTITY_HEADER}
  innerServers:
    default:
      - { address: 127.0.0.1, port: ${innerPort}, transport: udp }
accounting:
  file: accounting.jsonl
${extra}`;
}

/** A UAS on the inside: answers INVITE with 100/180/200, BYE and OPTIONS with 200; records what it got. */
class FakeUas {
  readonly received: SipMessage[] = [];
  private readonly socket = dgram.createSocket("udp4");
  silent = false;

  async start(): Promise<number> {
    this.socket.on("message", (data, remote) => this.answer(parseMessage(data), remote));
    await new Promise<void>((resolve) => this.socket.bind(0, "127.0.0.1", () => resolve()));
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(message: SipMessage, remote: dgram.RemoteInfo): void {
    this.received.push(message);
    if (!message.isRequest || this.silent || message.method === "ACK") return;
    const send = (status: number, reason: string): void => {
      const rr = message.getAll("record-route").map((v) => ["Record-Route", v] as const);
      const response = createResponse(message, status, reason, {
        toTag: "uas1",
        headers: [...(status >= 200 ? rr : []), ["Contact", "<sip:uas@127.0.0.1>"]],
      });
      this.socket.send(response, remote.port, remote.address);
    };
    if (message.method === "INVITE") {
      send(100, "Trying");
      send(180, "Ringing");
    }
    send(200, "OK");
  }
}

/** A SIP/TLS client: sends text messages, collects every message the edge sends back. */
class TlsUac {
  readonly received: SipMessage[] = [];
  private readonly framer = new Framer();
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      for (const event of this.framer.push(chunk))
        if (event.type === "message") this.received.push(event.message);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static connect(port: number, pki: Pki, withCert = true): Promise<TlsUac> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: pki.ca.certificatePem,
        ...(withCert ? { cert: pki.client.certificatePem, key: pki.client.privateKeyPem } : {}),
      });
      socket.once("secureConnect", () => resolve(new TlsUac(socket)));
      socket.once("error", reject);
    });
  }

  send(text: string): void {
    this.socket.write(text.replace(/\n/g, "\r\n"));
  }

  /** Waits (bounded) until a message satisfying `match` has arrived. */
  async waitFor(match: (m: SipMessage) => boolean, ms = 3000): Promise<SipMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out; got ${this.received.map((m) => m.status ?? m.method).join(",")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function invite(callId: string, from: string, extra = ""): string {
  return `INVITE sip:bob@localhost SIP/2.0
Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-${callId}
Max-Forwards: 70
From: <${from}>;tag=a1
To: <sip:bob@localhost>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.1:5999;transport=tls>
${extra}Content-Length: 0

`;
}

interface World {
  readonly dir: string;
  readonly pki: Pki;
  readonly uas: FakeUas;
  readonly proxy: EdgeProxy;
  readonly addresses: EdgeProxyAddresses;
  readonly tlsPort: number;
  readonly configFile: string;
}

async function startWorld(
  t: { after: (fn: () => unknown) => void },
  yaml: (innerPort: number) => string = configYaml,
  innerPort?: number,
): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-edge-proxy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  const uas = new FakeUas();
  const udpPort = await uas.start();
  t.after(() => uas.close());
  const configFile = join(dir, "edge.yaml");
  writeFileSync(configFile, yaml(innerPort ?? udpPort));
  const store = new ConfigStore(prepareConfigFile(configFile), () => prepareConfigFile(configFile));
  // Free ports: the file's inside/admin ports must be 1..65535, so the test passes port 0 as overrides,
  // as `siptrust serve --inside/--admin` does.
  const source = proxyConfigSource(store, {
    inside: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
  });
  const proxy = new EdgeProxy(source, { logger: silentEdgeLogger });
  const addresses = await proxy.start();
  t.after(() => proxy.stop(200));
  const tlsPort = (addresses.listeners.get("tls") as { port: number }).port;
  return { dir, pki, uas, proxy, addresses, tlsPort, configFile };
}

async function adminRequest(
  world: World,
  method: "GET" | "POST",
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const admin = world.addresses.admin as { port: number };
  const response = await fetch(`http://127.0.0.1:${admin.port}${path}`, {
    method,
    signal: AbortSignal.timeout(3000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("an INVITE from a verified client reaches the inner UAS with the identity header; 100/180/200 come back", async (t) => {
  const world = await startWorld(t);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-ok", "sip:alice@client.test", `${IDENTITY_HEADER}: forged;by=outside\n`));
  const ok = await uac.waitFor((m) => m.status === 200);
  assert.equal(ok.callId, "call-ok");
  assert.ok(
    uac.received.some((m) => m.status === 180),
    "180 Ringing relayed",
  );
  assert.equal(ok.topVia.branch, "z9hG4bK-call-ok", "the edge's own Via was removed from the response");
  const atInner = world.uas.received.find((m) => m.method === "INVITE");
  assert.ok(atInner, "the INVITE reached the inner server");
  const identities = atInner.values(IDENTITY_HEADER);
  assert.equal(identities.length, 1, "exactly one identity header: the forged copy was removed");
  assert.ok(!identities[0]?.includes("forged"), `identity header is ours: ${identities[0]}`);
  assert.match(identities[0] ?? "", /^<sip:client\.test>;method=pkix\+rfc5922;auth=covered-by-domain/);
  assert.ok(atInner.via.length >= 2, "the edge added its Via");
});

test("a From the client certificate does not cover is answered 403 and never reaches the inner side", async (t) => {
  const world = await startWorld(t);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-forbidden", "sip:mallory@other.test"));
  const denied = await uac.waitFor((m) => (m.status ?? 0) >= 300);
  assert.equal(denied.status, 403);
  assert.ok(denied.reason && denied.reason.length > 0);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(world.uas.received.filter((m) => m.callId === "call-forbidden").length, 0);
});

test("each finished transaction writes one accounting line with the TLS attributes", async (t) => {
  const world = await startWorld(t);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-acct", "sip:alice@client.test"));
  await uac.waitFor((m) => m.status === 200);
  uac.send(invite("call-denied", "sip:eve@other.test"));
  await uac.waitFor((m) => m.status === 403);
  const file = join(world.dir, "accounting.jsonl");
  const lines = await waitForLines(file, 2);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const forwarded = records.find((r) => r.callId === "call-acct");
  const denied = records.find((r) => r.callId === "call-denied");
  assert.ok(forwarded && denied, "both transactions are accounted");
  assert.equal(forwarded.status, 200);
  assert.equal(denied.status, 403);
  assert.equal(denied.rejectCode, "from-not-covered");
  for (const record of [forwarded, denied]) {
    assert.equal(record.method, "INVITE");
    assert.equal(record.direction, "inbound");
    assert.equal(record.listener, "tls");
    assert.equal(record.sni, "localhost");
    assert.match(String(record.tlsVersion), /^TLSv1\.[23]$/);
    assert.deepEqual(record.identities, ["client.test"]);
    assert.equal(record.subject, "CN=client.test");
    assert.match(String(record.fingerprint), /^[0-9a-f]{64}$/);
  }
});

async function waitForLines(file: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("admin: /health is ok, /connections lists the client, POST /reload reloads", async (t) => {
  const world = await startWorld(t);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-admin", "sip:alice@client.test"));
  await uac.waitFor((m) => m.status === 200);
  const health = await adminRequest(world, "GET", "/health");
  assert.equal(health.status, 200);
  assert.equal(health.body.ok, true);
  const connections = await adminRequest(world, "GET", "/connections");
  assert.match(JSON.stringify(connections.body), /client\.test/);
  const reload = await adminRequest(world, "POST", "/reload");
  assert.equal(reload.status, 200, JSON.stringify(reload.body));
  assert.equal(world.proxy.generation, 2);
});

test("a reload with a broken configuration is refused with its problems and the edge keeps serving", async (t) => {
  const world = await startWorld(t);
  const good = readFileSync(world.configFile, "utf8");
  writeFileSync(
    world.configFile,
    good.replace(
      "innerServers:",
      "routing:\n    - { match: { from: { regex: '(' } }, forward: nowhere }\n  innerServers:",
    ),
  );
  const result = world.proxy.reload();
  assert.equal(result.ok, false);
  if (!result.ok) {
    const text = result.problems.map((p) => `${p.line}:${p.key}: ${p.message}`).join("\n");
    assert.match(text, /routing/);
    assert.ok(
      result.problems.every((p) => p.line > 0),
      text,
    );
  }
  assert.equal(world.proxy.generation, 1);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-after-bad-reload", "sip:alice@client.test"));
  assert.equal((await uac.waitFor((m) => (m.status ?? 0) >= 200)).status, 200);
});

test("a reload cannot rename the identity header: refused, naming the key and line", async (t) => {
  const world = await startWorld(t);
  const good = readFileSync(world.configFile, "utf8");
  writeFileSync(
    world.configFile,
    good.replace(`identityHeader: ${IDENTITY_HEADER}`, "identityHeader: X-Other"),
  );
  const result = world.proxy.reload();
  assert.equal(result.ok, false);
  if (!result.ok) {
    const problem = result.problems.find((p) => p.key === "proxy.identityHeader");
    assert.ok(problem, JSON.stringify(result.problems));
    assert.equal(problem.line, 12);
  }
  assert.equal(world.proxy.generation, 1);
});

test("stop() is bounded even with a transaction the inner side never answers", async (t) => {
  const world = await startWorld(t);
  world.uas.silent = true;
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-hanging", "sip:alice@client.test"));
  const deadline = Date.now() + 2000;
  while (!world.uas.received.some((m) => m.callId === "call-hanging") && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await world.proxy.stop(300);
  const took = Date.now() - started;
  assert.ok(took < 300 + 1500, `stop took ${took} ms`);
});

/** A TCP inner server: frames requests, answers INVITE with 180/200 and anything else with 200. */
async function tcpUas(t: {
  after: (fn: () => unknown) => void;
}): Promise<{ port: number; got: SipMessage[]; accepted: () => number }> {
  const got: SipMessage[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    const framer = new Framer();
    socket.on("data", (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.type !== "message" || !event.message.isRequest) continue;
        const request = event.message;
        got.push(request);
        if (request.method === "ACK") continue;
        if (request.method === "INVITE")
          socket.write(createResponse(request, 180, "Ringing", { toTag: "t1" }));
        socket.write(createResponse(request, 200, "OK", { toTag: "t1" }));
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as net.AddressInfo).port, got, accepted: () => accepted };
}

test("an inner server on TCP: one reused connection carries the requests; responses come back", async (t) => {
  const inner = await tcpUas(t);
  const yaml = (port: number): string =>
    configYaml(port)
      .replace("port: 5080, transport: udp }", "port: 5080, transport: tcp }")
      .replace(`port: ${port}, transport: udp }`, `port: ${port}, transport: tcp }`);
  const world = await startWorld(t, yaml, inner.port);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("tcp-1", "sip:alice@client.test"));
  assert.equal((await uac.waitFor((m) => m.callId === "tcp-1" && (m.status ?? 0) >= 200)).status, 200);
  uac.send(invite("tcp-2", "sip:alice@client.test"));
  assert.equal((await uac.waitFor((m) => m.callId === "tcp-2" && (m.status ?? 0) >= 200)).status, 200);
  assert.ok(uac.received.some((m) => m.callId === "tcp-1" && m.status === 180));
  const invites = inner.got.filter((m) => m.method === "INVITE");
  assert.equal(invites.length, 2);
  assert.match(
    invites[0]?.topVia.transport ?? "",
    /^TCP$/i,
    "the edge's Via names TCP towards the inner server",
  );
  assert.equal(inner.accepted(), 1, "both requests used one connection");
});

test("a request from inside to a foreign domain without an outbound section is answered 503 with a reason", async (t) => {
  const world = await startWorld(t);
  const socket = dgram.createSocket("udp4");
  t.after(() => new Promise<void>((r) => socket.close(() => r())));
  const answer = new Promise<SipMessage>((resolve) =>
    socket.on("message", (data) => {
      const m = parseMessage(data);
      if ((m.status ?? 0) >= 200) resolve(m);
    }),
  );
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const request = `MESSAGE sip:bob@foreign.example SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bK-out-1;rport
Max-Forwards: 70
From: <sip:alice@localhost>;tag=i1
To: <sip:bob@foreign.example>
Call-ID: out-1
CSeq: 1 MESSAGE
Content-Length: 0

`.replace(/\n/g, "\r\n");
  socket.send(request, world.addresses.inside.port, "127.0.0.1");
  const response = await Promise.race([
    answer,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer")), 3000)),
  ]);
  assert.equal(response.status, 503);
  assert.match(response.get("reason") ?? "", /no-outbound/);
});

test("a reload reopens the accounting file: after a rotation (mv), new lines go to a new file", async (t) => {
  const world = await startWorld(t);
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  const file = join(world.dir, "accounting.jsonl");
  uac.send(invite("rot-1", "sip:alice@client.test"));
  await uac.waitFor((m) => m.callId === "rot-1" && m.status === 200);
  assert.equal((await waitForLines(file, 1)).length, 1);
  renameSync(file, `${file}.1`);
  const reloaded = world.proxy.reload();
  assert.equal(reloaded.ok, true, JSON.stringify(reloaded));
  uac.send(invite("rot-2", "sip:alice@client.test"));
  await uac.waitFor((m) => m.callId === "rot-2" && m.status === 200);
  const fresh = await waitForLines(file, 1);
  assert.equal(fresh.length, 1);
  assert.equal((JSON.parse(fresh[0] as string) as { callId: string }).callId, "rot-2");
  assert.equal(readFileSync(`${file}.1`, "utf8").split("\n").filter(Boolean).length, 1);
});

test("stopping: the listener refuses new connections; an open one gets 503 + Retry-After for new requests", async (t) => {
  const world = await startWorld(t);
  world.uas.silent = true;
  const uac = await TlsUac.connect(world.tlsPort, world.pki);
  t.after(() => uac.close());
  uac.send(invite("call-running", "sip:alice@client.test"));
  const deadline = Date.now() + 2000;
  while (!world.uas.received.some((m) => m.callId === "call-running") && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const stopping = world.proxy.stop(1500);
  await assert.rejects(TlsUac.connect(world.tlsPort, world.pki), "a new connection during the stop");
  uac.send(invite("call-late", "sip:alice@client.test"));
  const refused = await uac.waitFor((m) => m.callId === "call-late" && m.status === 503);
  assert.equal(refused.get("retry-after"), "5");
  await stopping;
});
