/**
 * The TLS listener against misbehaving peers on loopback: each defence fires, is counted, and the
 * listener keeps serving. Small limits keep every case well under a second or two.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { buildServerProfile } from "../../../src/tls/server-profile.js";
import {
  TlsListener,
  type InboundConnection,
  type ListenerLimits,
} from "../../../src/transport/tls-listener.js";
import type { SipMessage } from "../../../src/sip/index.js";

const ca = createCa({ cn: "Edge CA" });
const server = issueCertificate(ca, { cn: "edge", san: { uri: ["sip:edge.example"] } });
const client = issueCertificate(ca, { cn: "peer", san: { uri: ["sip:peer.example"] }, eku: ["clientAuth"] });

const OPTIONS =
  "OPTIONS sip:edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@peer.example>;tag=1\r\n" +
  "To: <sip:edge.example>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

async function startListener(
  limits: Partial<ListenerLimits>,
  onMessage: (c: InboundConnection, m: SipMessage) => void = () => undefined,
): Promise<{ listener: TlsListener; port: number }> {
  const profile = buildServerProfile({
    credentials: [{ certPem: server.certificatePem, keyPem: server.privateKeyPem }],
    clientCertificates: "optional",
    clientCaPems: [ca.certificatePem],
  });
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "optional", anchors: [{ cert: new X509Certificate(ca.certificatePem) }] }),
    limits,
    onMessage,
  });
  const address = await listener.listen();
  return { listener, port: address.port };
}

function tlsConnect(port: number, withCert = true): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "edge.example",
      rejectUnauthorized: false,
      cert: withCert ? client.certificatePem : undefined,
      key: withCert ? client.privateKeyPem : undefined,
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("messages are framed and delivered with the verified peer; CRLFCRLF pings get a CRLF pong", async (t) => {
  const received: Array<{ method: string; peer: string[] }> = [];
  const { listener, port } = await startListener({}, (c, m) =>
    received.push({
      method: m.method ?? "",
      peer: (c.peer?.identities ?? []).map((i) => (i.kind === "domain" ? i.domain : "uri")),
    }),
  );
  t.after(() => listener.close());
  const socket = await tlsConnect(port);
  const pong = new Promise<string>((resolve) => socket.once("data", (d: Buffer) => resolve(d.toString())));
  socket.write("\r\n\r\n");
  assert.equal(await pong, "\r\n");
  socket.write(OPTIONS.slice(0, 50));
  socket.write(OPTIONS.slice(50) + OPTIONS);
  await until(() => received.length === 2);
  assert.deepEqual(received[0], { method: "OPTIONS", peer: ["peer.example"] });
  socket.destroy();
});

test("connections that never finish the TLS handshake are closed by the handshake timeout", async (t) => {
  const { listener, port } = await startListener({ handshakeTimeoutMs: 300 });
  t.after(() => listener.close());
  const sockets = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, "127.0.0.1", () => resolve(s));
          s.on("error", () => undefined);
        }),
    ),
  );
  await Promise.all(sockets.map(closed));
  await until(() => listener.counters.get("tls.handshake-timeout") === 200);
  const socket = await tlsConnect(port);
  assert.match(socket.getProtocol() ?? "", /^TLSv1\.[23]$/, "still serving");
  socket.destroy();
});

test("per-address connection limit refuses the excess at TCP accept", async (t) => {
  const { listener, port } = await startListener({ maxConnectionsPerIp: 3 });
  t.after(() => listener.close());
  const ok = await Promise.all([tlsConnect(port), tlsConnect(port), tlsConnect(port)]);
  await assert.rejects(tlsConnect(port));
  assert.equal(listener.counters.get("limit.max-connections-per-ip"), 1);
  ok.forEach((s) => s.destroy());
  await Promise.all(ok.map(closed));
  await until(() => listener.connections.size === 0);
  (await tlsConnect(port)).destroy();
});

test("a message that is never completed (slowloris) is cut off by the partial-message timeout", async (t) => {
  const { listener, port } = await startListener({ partialMessageTimeoutMs: 200 });
  t.after(() => listener.close());
  const socket = await tlsConnect(port);
  socket.write("OPTIONS sip:edge.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1");
  const drip = setInterval(() => socket.write("x"), 50);
  await closed(socket);
  clearInterval(drip);
  assert.equal(listener.counters.get("limit.partial-message-timeout"), 1);
});

test("an oversize header section closes the connection with a counted framing error", async (t) => {
  const { listener, port } = await startListener({ sip: { maxHeaderBytes: 2048 } });
  t.after(() => listener.close());
  const socket = await tlsConnect(port);
  socket.on("error", () => undefined);
  socket.write(
    "OPTIONS sip:edge.example SIP/2.0\r\n" +
      "X-Pad: " +
      "a".repeat(100) +
      "\r\n".repeat(1) +
      ("X-Pad: " + "a".repeat(100) + "\r\n").repeat(40),
  );
  await closed(socket);
  assert.equal(listener.counters.get("sip.framing.too-large"), 1);
});

test("a peer that does not read is disconnected when its output exceeds the bound", async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let sends = 0;
  const { listener, port } = await startListener({ maxWriteBufferBytes: 256 * 1024 }, (c) => {
    // Answer one message with far more than the peer will read; stop on the first refused write.
    while (sends < 2000 && c.send(chunk)) sends++;
  });
  t.after(() => listener.close());
  const socket = await tlsConnect(port);
  socket.on("error", () => undefined);
  socket.pause();
  socket.write(OPTIONS);
  // A paused client never sees the close; watch the server side instead.
  await until(() => listener.counters.get("limit.write-buffer") === 1 && listener.connections.size === 0);
  socket.destroy();
  assert.ok(sends < 2000, "writes stopped at the bound");
});

test("an offered client certificate from an unknown CA is rejected even in optional mode", async (t) => {
  const stranger = issueCertificate(createCa({ cn: "Other" }), { cn: "x", eku: ["clientAuth"] });
  const { listener, port } = await startListener({});
  t.after(() => listener.close());
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    rejectUnauthorized: false,
    cert: stranger.certificatePem,
    key: stranger.privateKeyPem,
  });
  socket.on("error", () => undefined);
  await closed(socket);
  assert.equal(listener.counters.get("tls.client.unknown-issuer"), 1);
  assert.equal(listener.connections.size, 0);
});

test("revalidate closes exactly the connections whose peers lost trust", async (t) => {
  const otherCa = createCa({ cn: "Second CA" });
  const second = issueCertificate(otherCa, {
    cn: "second",
    san: { uri: ["sip:second.example"] },
    eku: ["clientAuth"],
  });
  let anchors = [
    { cert: new X509Certificate(ca.certificatePem) },
    { cert: new X509Certificate(otherCa.certificatePem) },
  ];
  const profile = buildServerProfile({
    credentials: [{ certPem: server.certificatePem, keyPem: server.privateKeyPem }],
    clientCertificates: "optional",
  });
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "optional", anchors }),
    onMessage: () => undefined,
  });
  const { port } = await listener.listen();
  t.after(() => listener.close());
  const keep = await tlsConnect(port);
  const lose = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      host: "127.0.0.1",
      port,
      rejectUnauthorized: false,
      cert: second.certificatePem,
      key: second.privateKeyPem,
    });
    s.once("secureConnect", () => resolve(s));
    s.once("error", reject);
  });
  await until(() => listener.connections.size === 2);
  // The reload removes the second CA from the client CA set.
  anchors = [{ cert: new X509Certificate(ca.certificatePem) }];
  const closedNow = listener.revalidate();
  assert.deepEqual(
    closedNow.map((c) => c.verification.code),
    ["unknown-issuer"],
  );
  await closed(lose);
  await until(() => listener.connections.size === 1);
  assert.equal(keep.destroyed, false);
  keep.destroy();
});
