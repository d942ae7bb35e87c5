import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountingRecord } from "../../../../src/proxy/accounting/accounting-record.js";
import { AccountingWriter } from "../../../../src/proxy/accounting/accounting-writer.js";
import type { TransactionSummary } from "../../../../src/proxy/core/summary.js";
import type { Flow } from "../../../../src/proxy/core/flow.js";
import { createRequestPolicy } from "../../../../src/proxy/policy/request-policy.js";
import { Counters } from "../../../../src/transport/counters.js";
import {
  chainOf,
  fakeInbound,
  fakeOutbound,
  inboundFlow,
  INNER_FLOW,
  outboundFlow,
  request,
  testPki,
} from "../policy/fixtures.js";

const START = Date.UTC(2026, 10, 25, 17, 0, 0, 250);

function inboundSummary(over: Partial<TransactionSummary> = {}): TransactionSummary {
  const { leafA, fedA } = testPki();
  const flow = inboundFlow(fakeInbound(chainOf(leafA, fedA), { sni: "edge.example" }), "public", "fed");
  const policy = createRequestPolicy({
    rules: [
      {
        name: "fed-a",
        match: { peer: { issuer: { regex: "Federation A" } } },
        forward: "default",
        tags: ["fed-a"],
      },
    ],
  });
  const req = request();
  return {
    startedAt: START,
    endedAt: START + 1234,
    direction: "inbound",
    method: "INVITE",
    callId: req.callId,
    from: "<sip:alice@a.example>;tag=f1",
    to: "<sip:bob@inner.example>;tag=t1",
    requestUri: "sip:bob@inner.example",
    status: 200,
    source: flow,
    outsideFlow: flow,
    decision: policy.decide(flow, req),
    ...over,
  };
}

test("inbound record: request fields, duration, peer and every TLS attribute routing saw", () => {
  const { leafA } = testPki();
  const record = accountingRecord(inboundSummary());
  assert.deepEqual(record, {
    time: "2026-11-25T17:00:00.250Z",
    direction: "inbound",
    method: "INVITE",
    callId: "call-1@a.example",
    from: "<sip:alice@a.example>;tag=f1",
    to: "<sip:bob@inner.example>;tag=t1",
    requestUri: "sip:bob@inner.example",
    status: 200,
    durationMs: 1234,
    peer: "127.0.0.1:40000",
    transport: "tls",
    flow: "in:public:1",
    listener: "public",
    sni: "edge.example",
    caSet: "fed",
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    subject: "O=A Telecom, CN=sip.a.example",
    issuer: "C=DE, O=Federation A, CN=Federation A Root",
    serial: "a1b2c3d4",
    fingerprint: createHash("sha256").update(leafA.certificate.raw).digest("hex"),
    sanUri: ["sip:a.example"],
    sanDns: ["a.example"],
    sanEmail: ["ops@a.example"],
    sanIp: ["192.0.2.7"],
    identities: ["a.example"],
    verification: "pkix+rfc5922",
    auth: "covered-by-domain",
    action: "forward",
    target: "inner:default",
    rule: "fed-a",
    tags: ["fed-a"],
  });
});

test("rejected request: rejection code and auth code; failures carry their code and detail", () => {
  const flow = inboundFlow(fakeInbound([]), "public", undefined);
  const decision = createRequestPolicy().decide(flow, request());
  const record = accountingRecord(inboundSummary({ source: flow, outsideFlow: flow, decision, status: 403 }));
  assert.equal(record.action, "reject");
  assert.equal(record.rejectCode, "no-client-cert");
  assert.equal(record.auth, "no-client-cert");
  assert.equal(record.status, 403);
  assert.equal(record.verification, "none");
  assert.equal(record.subject, undefined);
  assert.equal(record.target, undefined);
  const failed = accountingRecord(
    inboundSummary({ status: 408, failure: { code: "timeout", detail: "Timer B fired" } }),
  );
  assert.equal(failed.failure, "timeout");
  assert.equal(failed.failureDetail, "Timer B fired");
});

test("outbound record: TLS attributes of the chosen outside hop; IPv6 peer in brackets", () => {
  const { leafB, fedB } = testPki();
  const conn = fakeOutbound(chainOf(leafB, fedB), "dane-ta", {
    domain: "b.example",
    srvHost: "sip.b.example",
  });
  const hop: Flow = { ...outboundFlow(conn), remoteAddress: "2001:db8::5", tls: outboundFlow(conn).tls };
  const decision = createRequestPolicy().decide(INNER_FLOW, request({ uri: "sip:carol@b.example" }));
  const record = accountingRecord({
    ...inboundSummary(),
    direction: "outbound",
    source: INNER_FLOW,
    outsideFlow: hop,
    decision,
  });
  assert.equal(record.direction, "outbound");
  assert.equal(record.flow, "inner:udp:127.0.0.1:5060");
  assert.equal(record.peer, "[2001:db8::5]:5061");
  assert.equal(record.verification, "dane-ta");
  assert.deepEqual(record.identities, ["b.example", "sip.b.example"]);
  assert.equal(record.target, "outside");
  assert.equal(record.auth, undefined);
  assert.equal(record.listener, undefined);
});

test("outbound request that never reached the outside: no peer, no TLS fields", () => {
  const decision = createRequestPolicy().decide(INNER_FLOW, request());
  const record = accountingRecord({
    ...inboundSummary(),
    direction: "outbound",
    source: INNER_FLOW,
    outsideFlow: undefined,
    decision,
    status: 503,
    failure: { code: "outbound-failed:rfc5922-no-match", detail: "no target verified" },
  });
  assert.equal(record.peer, undefined);
  assert.equal(record.tlsVersion, undefined);
  assert.equal(record.failure, "outbound-failed:rfc5922-no-match");
});

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "siptrust-acct-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("writer: one JSON line per summary, appended to an existing file", async (t) => {
  const file = join(tempDir(t), "acct.jsonl");
  const first = new AccountingWriter({ file });
  first.write(inboundSummary());
  await first.close();
  const counters = new Counters();
  const writer = new AccountingWriter({ file, counters });
  writer.write(inboundSummary({ method: "BYE" }));
  writer.write(inboundSummary({ method: "MESSAGE", from: 'evil\r\n"quoted"' }));
  await writer.close();
  const records = lines(file);
  assert.deepEqual(
    records.map((r) => r.method),
    ["INVITE", "BYE", "MESSAGE"],
  );
  assert.equal(records[2]?.from, 'evil\r\n"quoted"', "JSON escapes control characters: one record per line");
  assert.equal(counters.get("accounting.written"), 2);
  // After close, records are dropped and counted, never written.
  writer.write(inboundSummary());
  assert.equal(counters.get("accounting.dropped"), 1);
  assert.equal(lines(file).length, 3);
});

test("writer: reopen after rename (log rotation) continues in a new file", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "acct.jsonl");
  const counters = new Counters();
  const writer = new AccountingWriter({ file, counters });
  await writer.ready();
  writer.write(inboundSummary({ method: "INVITE" }));
  renameSync(file, join(dir, "acct.jsonl.1"));
  writer.write(inboundSummary({ method: "ACK" }));
  await writer.reopen();
  writer.write(inboundSummary({ method: "BYE" }));
  await writer.close();
  // Lines written before the reopen follow the renamed file; later ones go to the new one.
  assert.deepEqual(
    lines(join(dir, "acct.jsonl.1")).map((r) => r.method),
    ["INVITE", "ACK"],
  );
  assert.deepEqual(
    lines(file).map((r) => r.method),
    ["BYE"],
  );
  assert.equal(counters.get("accounting.reopened"), 1);
});

test("writer: the backlog is bounded; records beyond it are dropped, counted and logged", async (t) => {
  const file = join(tempDir(t), "acct.jsonl");
  const counters = new Counters();
  const warnings: Array<{ obj: object; msg: string }> = [];
  const logger = {
    info: () => undefined,
    warn: (obj: object, msg: string) => void warnings.push({ obj, msg }),
  };
  const oneLine = Buffer.byteLength(`${JSON.stringify(accountingRecord(inboundSummary()))}\n`);
  const writer = new AccountingWriter({ file, counters, logger, maxBacklogBytes: oneLine * 3 });
  // Synchronous burst: nothing reaches the disk before the loop ends, so the stream's buffer is the backlog.
  for (let i = 0; i < 10; i++) writer.write(inboundSummary());
  assert.ok(writer.backlogBytes <= oneLine * 3, `backlog ${writer.backlogBytes} within the bound`);
  assert.equal(counters.get("accounting.written"), 3);
  assert.equal(counters.get("accounting.dropped"), 7);
  assert.equal(warnings.length, 1, "drops are logged once per interval, not per record");
  assert.equal(warnings[0]?.msg, "accounting records dropped");
  await writer.close();
  assert.equal(lines(file).length, 3);
});

test("writer: a file that cannot be opened drops and counts; reopen() reports it and recovers later", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "missing-dir", "acct.jsonl");
  const counters = new Counters();
  const writer = new AccountingWriter({ file, counters });
  await assert.rejects(writer.ready(), /ENOENT/);
  assert.equal(counters.get("accounting.error"), 1);
  writer.write(inboundSummary());
  assert.equal(counters.get("accounting.dropped"), 1);
  await assert.rejects(writer.reopen(), /ENOENT/);
  mkdirSync(join(dir, "missing-dir"));
  await writer.reopen();
  writer.write(inboundSummary());
  await writer.close();
  assert.ok(existsSync(file));
  assert.equal(lines(file).length, 1);
});
