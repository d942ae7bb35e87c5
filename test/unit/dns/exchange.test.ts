import { test } from "node:test";
import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import { DnsClient } from "../../../src/dns/client.js";
import { FramedReader } from "../../../src/dns/exchange.js";
import { frame, respond, startFakeDns } from "./fake-dns.js";

test("FramedReader completes exactly at the announced length, whatever the chunking", () => {
  const message = Buffer.from("0123456789abcdef");
  const bytes = frame(message);
  for (const size of [1, 2, 3, 7, bytes.length]) {
    const reader = new FramedReader(512);
    const states = [];
    for (let at = 0; at < bytes.length; at += size) states.push(reader.push(bytes.subarray(at, at + size)));
    const last = states[states.length - 1];
    assert.equal(last?.kind, "complete", `chunk size ${size}`);
    assert.deepEqual(last?.kind === "complete" ? last.message : undefined, message);
    assert.ok(states.slice(0, -1).every((s) => s.kind === "need-more"));
  }
});

test("FramedReader refuses an oversize length as soon as the two length octets arrive", () => {
  const reader = new FramedReader(512);
  assert.equal(reader.push(Buffer.from([0x02])).kind, "need-more");
  assert.deepEqual(reader.push(Buffer.from([0x01])), { kind: "too-large", length: 513 });
});

test("a TCP answer with a foreign ID is discarded, counted, and reported as mismatched", async (t) => {
  const server = await startFakeDns(({ query, transport }) =>
    transport === "udp"
      ? { packet: respond(query, { tc: true }) }
      : { raw: dnsPacket.encode(respond(query, { id: ((query.id ?? 0) + 1) & 0xffff })) },
  );
  t.after(() => server.close());
  const c = new DnsClient({ resolver: server.address, timeoutMs: 300, retries: 0, cache: false });
  const answer = await c.query("tcp.example", "A");
  assert.deepEqual([answer.status, answer.code, answer.transport], ["error", "mismatched", "tcp"]);
  assert.deepEqual([c.counters.mismatched, c.counters.tcpFallbacks], [1, 1]);
});

test("a TCP server that accepts and never answers is bounded by the timeout", async (t) => {
  const server = await startFakeDns(({ query, transport }) =>
    transport === "udp" ? { packet: respond(query, { tc: true }) } : "silent",
  );
  t.after(() => server.close());
  const c = new DnsClient({ resolver: server.address, timeoutMs: 150, retries: 1, cache: false });
  const started = Date.now();
  const answer = await c.query("slow.example", "A");
  assert.deepEqual([answer.status, answer.code], ["error", "timeout"]);
  assert.ok(Date.now() - started < 4000);
  assert.equal(c.counters.tcpAttempts, 2);
});
