import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { InnerTcpTransport, InnerUdpTransport } from "../../../src/transport/inner-transports.js";
import type { SipMessage } from "../../../src/sip/index.js";

const OPTIONS =
  "OPTIONS sip:inner.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:a@b.example>;tag=1\r\n" +
  "To: <sip:inner.example>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

async function until(condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 5000) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("UDP: each datagram is one message; garbage is counted, not fatal; replies go back to the sender", async (t) => {
  const received: SipMessage[] = [];
  const inner = new InnerUdpTransport({
    host: "127.0.0.1",
    port: 0,
    onMessage: (peer, message) => {
      received.push(message);
      peer.send("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    },
  });
  const { port } = await inner.bind();
  const client = dgram.createSocket("udp4");
  t.after(async () => {
    client.close();
    await inner.close();
  });
  const reply = new Promise<string>((resolve) => client.once("message", (m) => resolve(m.toString())));
  client.send("this is not SIP\r\n\r\n", port, "127.0.0.1");
  client.send(OPTIONS + "trailing octets are ignored on UDP", port, "127.0.0.1");
  assert.match(await reply, /^SIP\/2\.0 200 OK/);
  await until(() => received.length === 1);
  assert.equal(received[0]?.method, "OPTIONS");
  await until(() => inner.counters.get("inner.udp.malformed.bad-start-line") === 1);
});

test("TCP: messages are framed across chunks; a ping gets a pong; a framing error closes the connection", async (t) => {
  const received: string[] = [];
  const inner = new InnerTcpTransport({
    host: "127.0.0.1",
    port: 0,
    onMessage: (_p, m) => received.push(m.callId ?? ""),
  });
  const { port } = await inner.listen();
  t.after(() => inner.close());
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const pong = new Promise<string>((resolve) => socket.once("data", (d) => resolve(d.toString())));
  socket.write("\r\n\r\n");
  assert.equal(await pong, "\r\n");
  socket.write(OPTIONS.slice(0, 30));
  socket.write(OPTIONS.slice(30) + OPTIONS.replace("Call-ID: c1", "Call-ID: c2"));
  await until(() => received.length === 2);
  assert.deepEqual(received, ["c1", "c2"]);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write("OPTIONS sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n");
  await closed;
  assert.equal(
    Object.keys(inner.counters.snapshot()).filter((k) => k.startsWith("inner.tcp.framing.")).length,
    1,
  );
});
