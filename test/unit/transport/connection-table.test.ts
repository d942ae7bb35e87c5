import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionTable } from "../../../src/transport/connection-table.js";

function table(start = 0) {
  let now = start;
  const t = new ConnectionTable({ idleTimeoutMs: 1000, maxAgeMs: 10_000 }, () => now);
  return { t, advance: (ms: number) => (now += ms) };
}

const out = { direction: "outbound" as const, remoteAddress: "127.0.0.2", remotePort: 5061, generation: 1 };

test("a connection is not reusable for a name until that name was verified on it", () => {
  const { t } = table();
  const c = t.add({ ...out, clientCredential: "X" });
  assert.equal(t.findReusable("a.example", "X").code, "no-verified-connection");
  t.recordVerified(c.id, "A.Example.");
  const d = t.findReusable("a.example", "X");
  assert.ok(d.ok);
  assert.equal(d.entry.id, c.id);
  assert.equal(
    t.findReusable("b.example", "X").code,
    "no-verified-connection",
    "verified names do not spread",
  );
});

test("reuse needs the client certificate the destination requires", () => {
  const { t } = table();
  const c = t.add({ ...out, clientCredential: "X" });
  t.recordVerified(c.id, "a.example");
  assert.equal(t.findReusable("a.example", "Y").code, "client-credential-differs");
  assert.equal(t.findReusable("a.example", undefined).code, "client-credential-differs");
  const plain = t.add({ ...out });
  t.recordVerified(plain.id, "a.example");
  const d = t.findReusable("a.example", undefined);
  assert.ok(d.ok && d.entry.id === plain.id);
});

test("idle and aged connections take no new transactions, drain, and close when idle of transactions", () => {
  const { t, advance } = table();
  const c = t.add({ ...out });
  t.recordVerified(c.id, "a.example");
  c.activeTransactions = 1;
  advance(999);
  assert.ok(t.findReusable("a.example", undefined).ok);
  advance(2);
  assert.equal(t.findReusable("a.example", undefined).code, "expiring");
  assert.deepEqual(t.sweep(), [], "a transaction in flight keeps it open");
  assert.equal(c.state, "draining");
  c.activeTransactions = 0;
  assert.deepEqual(
    t.sweep().map((e) => e.id),
    [c.id],
  );
  t.remove(c.id);
  assert.equal(t.size, 0);
  assert.equal(t.findReusable("a.example", undefined).code, "no-verified-connection");
});

test("maximum age applies even to a busy connection", () => {
  const { t, advance } = table();
  const c = t.add({ ...out });
  t.recordVerified(c.id, "a.example");
  for (let i = 0; i < 20; i++) {
    advance(500);
    t.touch(c.id);
  }
  assert.equal(t.findReusable("a.example", undefined).code, "expiring");
});

test("a draining connection is skipped in favour of an open one", () => {
  const { t } = table();
  const old = t.add({ ...out });
  const fresh = t.add({ ...out });
  t.recordVerified(old.id, "a.example");
  t.recordVerified(fresh.id, "a.example");
  t.drain(old.id);
  const d = t.findReusable("a.example", undefined);
  assert.ok(d.ok && d.entry.id === fresh.id);
});

test("aliases of a removed connection are forgotten, and recordVerified on it is ignored", () => {
  const { t } = table();
  const c = t.add({ ...out });
  t.remove(c.id);
  t.recordVerified(c.id, "a.example");
  assert.equal(t.findReusable("a.example", undefined).code, "no-verified-connection");
});
