/**
 * The outbound connection manager against real TLS servers on loopback (127.0.0.2–127.0.0.4), with
 * certificates from src/pki/issue.ts and a small in-memory OutboundResolver. The servers record every
 * handshake and the client certificate's CN, so reuse, refusal and re-verification are observed from the
 * peer's side, not just from our own bookkeeping.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { tlsaAssociationData } from "../../../src/pki/tlsa-data.js";
import type { TlsaRecord } from "../../../src/dane/tlsa.js";
import {
  buildClientCredentialTable,
  namedCredentials,
  type NamedClientCredentials,
} from "../../../src/tls/client-credential-table.js";
import type { Location, OutboundResolver, TlsaLookup } from "../../../src/tls/outbound.js";
import {
  OutboundConnections,
  type CloseReason,
  type OutboundConnection,
  type OutboundLimits,
  type OutboundTrust,
} from "../../../src/transport/outbound-connections.js";
import type { SipMessage } from "../../../src/sip/index.js";

const caOne = createCa({ cn: "Federation CA one" });
const caTwo = createCa({ cn: "Partner CA two" });
const clientCa = createCa({ cn: "Client CA" });
const serverAB = issueCertificate(caOne, { cn: "ab", san: { uri: ["sip:a.example", "sip:b.example"] } });
const serverTwo = issueCertificate(caTwo, { cn: "two", san: { uri: ["sip:two.example"] } });
const clientX = issueCertificate(clientCa, { cn: "client-x", eku: ["clientAuth"] });
const clientY = issueCertificate(clientCa, { cn: "client-y", eku: ["clientAuth"] });
const credX = namedCredentials("fed-x", clientX.certificatePem, clientX.privateKeyPem);
const credY = namedCredentials("fed-y", clientY.certificatePem, clientY.privateKeyPem);
const anchor = (c: GeneratedCertificate) => ({ cert: new X509Certificate(c.certificatePem) });

interface Handshake {
  readonly cn: string | undefined;
  readonly socket: tls.TLSSocket;
  closed: boolean;
  received: string;
}

interface TestServer {
  readonly address: string;
  readonly port: number;
  readonly handshakes: Handshake[];
}

async function startServer(t: TestContext, cert: GeneratedCertificate, address: string): Promise<TestServer> {
  const handshakes: Handshake[] = [];
  const server = tls.createServer({
    cert: cert.certificatePem,
    key: cert.privateKeyPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  // Every TCP socket, so that cleanup never waits on a connection whose handshake had not finished.
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket: import("node:net").Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("secureConnection", (socket) => {
    const peer = socket.getPeerCertificate();
    const cn = peer && "subject" in peer ? peer.subject?.CN : undefined;
    const h: Handshake = { cn: typeof cn === "string" ? cn : undefined, socket, closed: false, received: "" };
    handshakes.push(h);
    socket.on("data", (d: Buffer) => (h.received += d.toString("latin1")));
    socket.on("close", () => (h.closed = true));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as { port: number }).port;
  return { address, port, handshakes };
}

interface FakeTarget {
  readonly server: TestServer;
  readonly srvHost?: string;
  readonly delegation?: "secure" | "insecure";
}

/** An OutboundResolver from a table: SIP domain → targets; TLSA by host name (secure). */
function fakeResolver(
  domains: Record<string, FakeTarget[]>,
  tlsa: Record<string, TlsaRecord[]> = {},
): OutboundResolver & { locateCalls: number } {
  const resolver = {
    locateCalls: 0,
    locate(target: { host: string }): Promise<Location> {
      resolver.locateCalls++;
      const targets = domains[target.host] ?? [];
      if (targets.length === 0) {
        return Promise.resolve({
          delegation: "insecure",
          targets: [],
          steps: [],
          code: "no-targets",
          detail: `nothing for ${target.host}`,
        });
      }
      return Promise.resolve({
        delegation: targets[0]?.delegation ?? "insecure",
        steps: [],
        targets: targets.map((x) => ({
          address: x.server.address,
          port: x.server.port,
          transport: "tls",
          srvHost: x.srvHost,
          delegation: x.delegation,
        })),
      });
    },
    lookupTlsa(port: number, host: string): Promise<TlsaLookup> {
      return Promise.resolve({ status: "secure", records: tlsa[host] ?? [], steps: [] });
    },
  };
  return resolver;
}

function trustOf(
  resolver: OutboundResolver,
  anchors: GeneratedCertificate[],
  byDomain: Record<string, NamedClientCredentials>,
  generation = 1,
): OutboundTrust {
  const entries = Object.entries(byDomain).map(([domain, credentials]) => ({
    domains: [domain],
    credentials,
  }));
  return {
    resolver,
    anchors: anchors.map(anchor),
    clientCredentials: buildClientCredentialTable(entries),
    generation,
  };
}

interface Harness {
  readonly manager: OutboundConnections;
  readonly messages: Array<{ connection: number; message: SipMessage }>;
  readonly closes: Array<{ connection: number; reason: CloseReason; at: number }>;
}

function startManager(t: TestContext, trust: OutboundTrust, limits: Partial<OutboundLimits> = {}): Harness {
  const messages: Harness["messages"] = [];
  const closes: Harness["closes"] = [];
  const manager = new OutboundConnections({
    trust,
    limits: { sweepIntervalMs: 20, handshakeTimeoutMs: 3000, ...limits },
    onMessage: (c, message) => messages.push({ connection: c.id, message }),
    onClose: (c, reason) => closes.push({ connection: c.id, reason, at: Date.now() }),
  });
  t.after(() => manager.close());
  return { manager, messages, closes };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The server's count of completed handshakes once it is stable. Under TLS 1.3 the client finishes its
 * handshake before the server has processed the client's Finished, so the server's count lags a little.
 */
async function handshakeCount(server: TestServer, expected: number): Promise<number> {
  await until(() => server.handshakes.length >= expected).catch(() => undefined);
  await sleep(50);
  return server.handshakes.length;
}
const A = { scheme: "sips" as const, host: "a.example" };

async function opened(manager: OutboundConnections, host: string): Promise<OutboundConnection> {
  const result = await manager.acquire({ scheme: "sips", host });
  assert.ok(result.ok, `acquire ${host}: ${result.ok ? "" : `${result.code} ${result.detail}`}`);
  return result.connection;
}

test("a connection is reused for the domain verified on it, with one handshake at the server", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], { "a.example": credX }),
  );
  const first = await manager.acquire(A);
  assert.ok(first.ok);
  assert.equal(first.code, "opened");
  assert.equal(first.reuse, "no-verified-connection");
  assert.equal(first.connection.method, "rfc5922");
  assert.deepEqual([...first.connection.verifiedNames], ["a.example"]);
  assert.equal(first.connection.clientCredential?.name, "fed-x");
  const second = await manager.acquire({ scheme: "sips", host: "A.Example." });
  assert.ok(second.ok);
  assert.equal(second.code, "reused");
  assert.equal(second.connection.id, first.connection.id);
  assert.equal(await handshakeCount(server, 1), 1);
  assert.equal(server.handshakes[0]?.cn, "client-x");
});

test("reuse is refused for a different client certificate: the server sees a second connection with it", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const resolver = fakeResolver({ "a.example": [{ server }], "b.example": [{ server }] });
  const { manager } = startManager(t, trustOf(resolver, [caOne], { "a.example": credX, "b.example": credY }));
  const a = await opened(manager, "a.example");
  // b.example is covered by the same certificate, but needs Y and was never verified on a's connection.
  const b = await manager.acquire({ scheme: "sips", host: "b.example" });
  assert.ok(b.ok && b.code === "opened");
  assert.notEqual(b.connection.id, a.id);
  // Reload with policy keep: a.example now needs Y. a's connection (opened with X) must not be handed out.
  manager.reload(trustOf(resolver, [caOne], { "a.example": credY, "b.example": credY }, 2), "keep");
  const again = await manager.acquire(A);
  assert.ok(again.ok);
  assert.equal(again.code, "opened");
  assert.equal(again.reuse, "client-credential-differs");
  assert.notEqual(again.connection.id, a.id);
  assert.equal(again.connection.clientCredential?.name, "fed-y");
  await handshakeCount(server, 3);
  assert.deepEqual(
    server.handshakes.map((h) => h.cn),
    ["client-x", "client-y", "client-y"],
  );
});

test("a name learned only from a Via alias is never an alias: the next request re-verifies and fails", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }], "evil.example": [{ server }] }), [caOne], {}),
  );
  const a = await opened(manager, "a.example");
  const verdict = manager.noteViaAlias({ connectionId: a.id, host: "evil.example", port: 5061 });
  assert.equal(verdict.code, "via-alias-ignored");
  assert.equal(manager.counters.get("reuse.via-alias-ignored"), 1);
  assert.deepEqual([...a.verifiedNames], ["a.example"]);
  const evil = await manager.acquire({ scheme: "sips", host: "evil.example" });
  assert.equal(evil.ok, false);
  assert.ok(!evil.ok);
  assert.equal(evil.code, "rfc5922-no-match");
  assert.equal(evil.status, 503);
  assert.equal(
    await handshakeCount(server, 2),
    2,
    "a fresh handshake was made for evil.example, not a reuse",
  );
  assert.equal(manager.connections().length, 1);
});

test("concurrent acquires for one (domain, credential) share one handshake", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const resolver = fakeResolver({ "a.example": [{ server }], "b.example": [{ server }] });
  const { manager } = startManager(t, trustOf(resolver, [caOne], { "a.example": credX }));
  const results = await Promise.all([
    ...Array.from({ length: 8 }, () => manager.acquire(A)),
    manager.acquire({ scheme: "sips", host: "b.example" }),
  ]);
  const forA = results.slice(0, 8);
  assert.ok(forA.every((r) => r.ok && r.code === "opened"));
  const ids = new Set(forA.map((r) => (r.ok ? r.connection.id : -1)));
  assert.equal(ids.size, 1, "all share one connection");
  assert.equal(forA.filter((r) => r.shared === true).length, 7);
  assert.equal(await handshakeCount(server, 2), 2, "one for a.example, one for b.example");
  assert.equal(resolver.locateCalls, 2);
  assert.equal(manager.counters.get("outbound.shared-attempt"), 7);
});

test("concurrent acquires share a failure too, and it is a 503 with verifyOutbound's code", async (t) => {
  const resolver = fakeResolver({});
  const { manager } = startManager(t, trustOf(resolver, [caOne], {}));
  const results = await Promise.all(Array.from({ length: 4 }, () => manager.acquire(A)));
  for (const r of results) {
    assert.ok(!r.ok);
    assert.equal(r.code, "no-targets");
    assert.equal(r.status, 503);
  }
  assert.equal(resolver.locateCalls, 1);
});

test("DANE: the SRV target host is verified too; under RFC 5922 it is not", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const leaf = new X509Certificate(serverAB.certificatePem);
  const record: TlsaRecord = {
    usage: 3,
    selector: 1,
    matchingType: 1,
    data: tlsaAssociationData(leaf, 1, 1),
  };
  const resolver = fakeResolver(
    {
      "a.example": [{ server, srvHost: "sip.provider.example", delegation: "secure" }],
      "b.example": [{ server, srvHost: "sip.other.example", delegation: "insecure" }],
    },
    { "sip.provider.example": [record] },
  );
  const { manager } = startManager(t, trustOf(resolver, [caOne], {}));
  const a = await opened(manager, "a.example");
  assert.equal(a.method, "dane-ee");
  assert.equal(a.sni, "sip.provider.example");
  assert.deepEqual([...a.verifiedNames].sort(), ["a.example", "sip.provider.example"]);
  const viaSrv = await manager.acquire({ scheme: "sips", host: "sip.provider.example" });
  assert.ok(viaSrv.ok && viaSrv.code === "reused" && viaSrv.connection.id === a.id);
  const b = await opened(manager, "b.example");
  assert.equal(b.method, "rfc5922");
  assert.deepEqual([...b.verifiedNames], ["b.example"]);
  assert.equal(await handshakeCount(server, 2), 2);
  // Revalidation re-checks each connection by how it was verified: with no CA left, the DANE-EE connection
  // (which never depended on a CA) stays and the RFC 5922 one is drained.
  const outcomes = manager.revalidate({ ...trustOf(resolver, [], {}), generation: 2 });
  assert.deepEqual(
    outcomes.map((o) => [o.domain, o.ok]),
    [
      ["a.example", true],
      ["b.example", false],
    ],
  );
  assert.equal(a.state, "open");
  assert.equal(b.state, "closed");
});

test("peer messages are framed and delivered; a CRLFCRLF ping gets a CRLF pong", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, messages } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
  );
  const a = await opened(manager, "a.example");
  const response =
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKq\r\nFrom: <sip:x@edge.example>;tag=1\r\n" +
    "To: <sip:a.example>;tag=2\r\nCall-ID: c9\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  await until(() => server.handshakes.length === 1);
  const peer = server.handshakes[0]!;
  peer.socket.write("\r\n\r\n" + response.slice(0, 30));
  peer.socket.write(response.slice(30));
  await until(() => messages.length === 1 && peer.received === "\r\n");
  assert.equal(messages[0]?.connection, a.id);
  assert.equal(messages[0]?.message.status, 200);
  assert.ok(a.send("OPTIONS sip:a.example SIP/2.0\r\n"));
  await until(() => peer.received.endsWith("OPTIONS sip:a.example SIP/2.0\r\n"));
});

test("a framing error from the peer closes the connection and it is not reused", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
  );
  const a = await opened(manager, "a.example");
  await until(() => server.handshakes.length === 1);
  server.handshakes[0]!.socket.write("NOT SIP AT ALL\r\n\r\n");
  await until(() => closes.length === 1);
  assert.equal(closes[0]?.reason, "framing-error");
  assert.equal(a.state, "closed");
  const next = await manager.acquire(A);
  assert.ok(next.ok && next.code === "opened");
  assert.equal(await handshakeCount(server, 2), 2);
});

test("max age with a transaction in flight: no new transactions, close after endTransaction, then re-verify", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { maxAgeMs: 300, idleTimeoutMs: 60_000, drainGraceMs: 10_000 },
  );
  const old = await opened(manager, "a.example");
  assert.deepEqual(old.beginTransaction(), { ok: true, code: "begun" });
  await until(() => old.state === "draining", 2000);
  assert.equal(old.beginTransaction().code, "draining");
  const fresh = await manager.acquire(A);
  assert.ok(fresh.ok && fresh.code === "opened", "the next acquire opens a new connection");
  assert.equal(fresh.reuse, "expiring");
  assert.equal(await handshakeCount(server, 2), 2, "and re-verifies it with a new handshake");
  await sleep(150);
  assert.equal(server.handshakes[0]?.closed, false, "the running transaction keeps the old one open");
  old.endTransaction();
  await until(() => server.handshakes[0]?.closed === true, 3000);
  assert.deepEqual(
    closes.map((c) => [c.connection, c.reason]),
    [[old.id, "drained"]],
  );
  assert.equal(server.handshakes[1]?.closed, false);
});

test("idle timeout with a transaction that never ends: closed when the drain grace runs out", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { idleTimeoutMs: 200, maxAgeMs: 60_000, drainGraceMs: 400 },
  );
  const c = await opened(manager, "a.example");
  assert.ok(c.beginTransaction().ok);
  const started = Date.now();
  await until(() => c.state === "draining", 2000);
  const drainingAt = Date.now();
  assert.ok(drainingAt - started >= 190, "not before the idle timeout");
  await until(() => closes.length === 1, 3000);
  assert.equal(closes[0]?.reason, "drain-grace-expired");
  assert.ok(closes[0]!.at - drainingAt >= 350, "the running transaction got its grace period");
  await until(() => server.handshakes[0]?.closed === true, 3000);
  const next = await manager.acquire(A);
  assert.ok(next.ok && next.code === "opened");
  assert.equal(await handshakeCount(server, 2), 2);
});

test("an idle connection without transactions closes at the idle timeout", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { idleTimeoutMs: 150, maxAgeMs: 60_000 },
  );
  const c = await opened(manager, "a.example");
  assert.ok(c.beginTransaction().ok);
  c.endTransaction();
  await until(() => closes.length === 1, 3000);
  assert.equal(closes[0]?.reason, "idle");
  await until(() => server.handshakes[0]?.closed === true, 3000);
  assert.equal(manager.connections().length, 0);
});

test("an expired connection refuses a transaction even before the sweep has run", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  let now = 1_000_000;
  const manager = new OutboundConnections({
    trust: trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    limits: { sweepIntervalMs: 60_000, idleTimeoutMs: 1000, maxAgeMs: 5000 },
    now: () => now,
    onMessage: () => undefined,
  });
  t.after(() => manager.close());
  const c = await opened(manager, "a.example");
  now += 1500;
  assert.deepEqual(c.beginTransaction().code, "expiring");
  await until(() => c.state === "closed");
});

test("revalidate drains exactly the connections that lost trust", async (t) => {
  const serverOne = await startServer(t, serverAB, "127.0.0.2");
  const serverPartner = await startServer(t, serverTwo, "127.0.0.3");
  const resolver = fakeResolver({
    "a.example": [{ server: serverOne }],
    "b.example": [{ server: serverOne }],
    "two.example": [{ server: serverPartner }],
  });
  const { manager, closes } = startManager(
    t,
    trustOf(resolver, [caOne, caTwo], { "a.example": credX, "b.example": credX, "two.example": credX }),
    { drainGraceMs: 10_000 },
  );
  const a = await opened(manager, "a.example");
  const b = await opened(manager, "b.example");
  const two = await opened(manager, "two.example");
  assert.ok(two.beginTransaction().ok, "a transaction in flight on a connection that will lose trust");
  // New trust: partner CA two removed; b.example now needs client certificate Y.
  const outcomes = manager.revalidate(
    trustOf(resolver, [caOne], { "a.example": credX, "b.example": credY, "two.example": credX }, 7),
  );
  const byDomain = Object.fromEntries(outcomes.map((o) => [o.domain, o.ok ? "ok" : o.code]));
  assert.equal(byDomain["a.example"], "ok");
  assert.equal(byDomain["b.example"], "client-credential-changed");
  assert.notEqual(byDomain["two.example"], "ok");
  assert.equal(a.state, "open");
  assert.equal(a.generation, 7);
  assert.equal(b.state, "closed");
  assert.equal(two.state, "draining");
  await until(() => serverOne.handshakes[1]?.closed === true);
  await sleep(100);
  assert.equal(serverOne.handshakes[0]?.closed, false, "a.example's connection kept");
  assert.equal(serverPartner.handshakes[0]?.closed, false, "two.example finishes its transaction first");
  two.endTransaction();
  await until(() => serverPartner.handshakes[0]?.closed === true);
  assert.deepEqual(closes.map((c) => c.reason).sort(), ["drained", "revalidate:client-credential-changed"]);
  const reusedA = await manager.acquire(A);
  assert.ok(reusedA.ok && reusedA.code === "reused" && reusedA.connection.id === a.id);
  const twoAgain = await manager.acquire({ scheme: "sips", host: "two.example" });
  assert.ok(!twoAgain.ok, "the partner is no longer trusted on a new handshake either");
});

test("reload policy drop drains every connection", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const resolver = fakeResolver({ "a.example": [{ server }] });
  const { manager, closes } = startManager(t, trustOf(resolver, [caOne], {}));
  await opened(manager, "a.example");
  const outcomes = manager.reload(trustOf(resolver, [caOne], {}, 2), "drop");
  assert.deepEqual(
    outcomes.map((o) => o.code),
    ["reload-drop"],
  );
  await until(() => closes.length === 1);
  assert.equal(closes[0]?.reason, "reload-drop");
  assert.equal(manager.generation, 2);
});

test("a server that is not reachable gives a 503 result with the connect failure", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.4");
  const resolver = fakeResolver({ "a.example": [{ server: { ...server, port: 1 } }] });
  const { manager } = startManager(t, trustOf(resolver, [caOne], {}));
  const r = await manager.acquire(A);
  assert.ok(!r.ok);
  assert.equal(r.code, "connect-failed");
  assert.equal(r.status, 503);
  assert.equal(manager.counters.get("outbound.failed.connect-failed"), 1);
});

test("a peer that does not read is disconnected once the write buffer bound is exceeded", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { maxWriteBufferBytes: 64 * 1024 },
  );
  const a = await opened(manager, "a.example");
  await until(() => server.handshakes.length === 1);
  server.handshakes[0]!.socket.pause();
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let accepted = 0;
  // Bounded: loopback socket buffers hold a few MiB at most; 1,000 × 64 KiB is far beyond them.
  while (accepted < 1000 && a.send(chunk)) {
    accepted++;
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(accepted < 1000, "send refused once the peer stopped reading");
  await until(() => closes.length === 1);
  assert.equal(closes[0]?.reason, "write-buffer");
  assert.equal(manager.counters.get("limit.write-buffer"), 1);
  assert.equal(a.send("x"), false);
});

test("a message the peer starts but never finishes closes the connection after the partial-message timeout", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { partialMessageTimeoutMs: 200 },
  );
  await opened(manager, "a.example");
  await until(() => server.handshakes.length === 1);
  const started = Date.now();
  server.handshakes[0]!.socket.write("SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1");
  await until(() => closes.length === 1);
  assert.equal(closes[0]?.reason, "partial-message-timeout");
  assert.ok(closes[0]!.at - started >= 180);
  assert.equal(manager.counters.get("limit.partial-message-timeout"), 1);
});

test("the partial-message bound is per message: steady traffic whose writes straddle messages is not cut", async (t) => {
  const server = await startServer(t, serverAB, "127.0.0.2");
  const { manager, closes } = startManager(
    t,
    trustOf(fakeResolver({ "a.example": [{ server }] }), [caOne], {}),
    { partialMessageTimeoutMs: 200 },
  );
  await opened(manager, "a.example");
  await until(() => server.handshakes.length === 1);
  const socket = server.handshakes[0]!.socket;
  const message = (i: number): string =>
    `OPTIONS sip:edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.2;branch=z9hG4bK${i}\r\n` +
    `From: <sip:a.example>;tag=${i}\r\nTo: <sip:edge.example>\r\nCall-ID: c${i}\r\nCSeq: 1 OPTIONS\r\n` +
    `Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  // Every write completes one message and starts the next, for well over the 200 ms bound in total; each
  // message itself completes within 60 ms.
  let pending = "";
  for (let i = 0; i < 10; i++) {
    const next = message(i);
    socket.write(pending + next.slice(0, 40));
    pending = next.slice(40);
    await new Promise((r) => setTimeout(r, 60));
  }
  socket.write(pending);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(closes, []);
  assert.equal(manager.counters.get("limit.partial-message-timeout"), 0);
});
