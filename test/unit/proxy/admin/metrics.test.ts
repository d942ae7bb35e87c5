import { test } from "node:test";
import assert from "node:assert/strict";
import { register as globalRegistry } from "prom-client";
import { Counters } from "../../../../src/transport/counters.js";
import { AdminMetrics } from "../../../../src/proxy/admin/metrics.js";
import { COUNTER_FAMILIES } from "../../../../src/proxy/admin/counter-families.js";

function source(counters: Counters, gauges: Record<string, number> = {}) {
  return { counters, gauges: () => gauges };
}

test("a scrape maps the counters to labelled families, read at scrape time", async () => {
  const counters = new Counters();
  const metrics = new AdminMetrics(
    source(counters, {
      "connections.inbound.open": 4,
      "connections.outbound.draining": 1,
      "transactions.active": 9,
      generation: 5,
      "accounting.queue": 2,
    }),
    { defaultMetrics: false },
  );
  // Incremented after the exporter exists: nothing is copied at construction.
  counters.increment("proxy.requests.INVITE.forwarded", 10);
  counters.increment("proxy.requests.INVITE.rejected", 2);
  counters.increment("proxy.responses.2xx", 10);
  counters.increment("proxy.auth.denied.from-not-covered", 2);
  counters.increment("proxy.transactions.server", 12);
  counters.increment("tls.client.client-verified", 3);
  counters.increment("tls.handshake-timeout");
  counters.increment("outbound.failed.dane-no-match");
  counters.increment("reload.ok", 4);
  counters.increment("reload.refused");
  counters.increment("tls.socket-error", 6);
  const text = await metrics.render();
  const expected = [
    'siptrust_requests_total{method="INVITE",outcome="forwarded"} 10',
    'siptrust_requests_total{method="INVITE",outcome="rejected"} 2',
    'siptrust_responses_total{class="2xx"} 10',
    'siptrust_authorization_failures_total{code="from-not-covered"} 2',
    'siptrust_transactions_total{kind="server"} 12',
    'siptrust_tls_handshakes_total{result="ok",code="client-verified"} 3',
    'siptrust_tls_handshakes_total{result="failed",code="handshake-timeout"} 1',
    'siptrust_outbound_connections_total{result="failed",stage="dane",code="dane-no-match"} 1',
    'siptrust_reloads_total{result="ok"} 4',
    'siptrust_reloads_total{result="refused"} 1',
    'siptrust_events_total{name="tls.socket-error"} 6',
    'siptrust_connections{direction="inbound",state="open"} 4',
    'siptrust_connections{direction="outbound",state="draining"} 1',
    "siptrust_transactions_active 9",
    "siptrust_reload_generation 5",
    'siptrust_gauge{name="accounting.queue"} 2',
  ];
  const lines = new Set(text.split("\n"));
  for (const line of expected) assert.ok(lines.has(line), `missing: ${line}\n${text}`);
  // Every family is announced even before its first event, so dashboards and alerts can be written up front.
  for (const family of COUNTER_FAMILIES) assert.ok(lines.has(`# TYPE ${family.name} counter`), family.name);

  counters.increment("proxy.requests.INVITE.forwarded", 5);
  assert.match(
    await metrics.render(),
    /^siptrust_requests_total\{method="INVITE",outcome="forwarded"\} 15$/m,
  );
});

test("each exporter has a private registry; the global default registry stays untouched", async () => {
  const a = new Counters();
  const b = new Counters();
  a.increment("reload.ok");
  b.increment("reload.ok", 7);
  const ma = new AdminMetrics(source(a), { defaultMetrics: false });
  const mb = new AdminMetrics(source(b), { defaultMetrics: false });
  assert.match(await ma.render(), /^siptrust_reloads_total\{result="ok"\} 1$/m);
  assert.match(await mb.render(), /^siptrust_reloads_total\{result="ok"\} 7$/m);
  assert.doesNotMatch(await globalRegistry.metrics(), /siptrust_/);
});

test("process metrics are on the same registry unless disabled", async () => {
  const withDefaults = await new AdminMetrics(source(new Counters())).render();
  assert.match(withDefaults, /^# TYPE process_cpu_user_seconds_total counter$/m);
  assert.match(withDefaults, /^# TYPE nodejs_heap_size_used_bytes gauge$/m);
  const without = await new AdminMetrics(source(new Counters()), { defaultMetrics: false }).render();
  assert.doesNotMatch(without, /process_cpu_user_seconds_total/);
});

test("hostile label values are escaped and bad values skipped; a throwing gauge source empties only the gauges", async () => {
  const counters = new Counters();
  counters.increment('proxy.requests.IN"V\\ITE.forwarded');
  counters.increment("proxy.responses.5xx", Number.NaN);
  let broken = false;
  const metrics = new AdminMetrics(
    {
      counters,
      gauges: () => {
        if (broken) throw new Error("no gauges");
        return { "transactions.active": Number.POSITIVE_INFINITY, generation: 2 };
      },
    },
    { defaultMetrics: false },
  );
  const text = await metrics.render();
  assert.ok(text.includes('siptrust_requests_total{method="IN\\"V\\\\ITE",outcome="forwarded"} 1'), text);
  assert.doesNotMatch(text, /siptrust_responses_total\{/);
  assert.doesNotMatch(text, /siptrust_transactions_active (Inf|\+Inf)/);
  assert.match(text, /^siptrust_reload_generation 2$/m);
  broken = true;
  const after = await metrics.render();
  assert.match(after, /^siptrust_requests_total\{method="IN\\"V\\\\ITE",outcome="forwarded"\} 1$/m);
  assert.doesNotMatch(after, /^siptrust_reload_generation 2$/m);
});

test("without connections.* gauges, siptrust_connections is counted from the connection list", async () => {
  const list = [
    { direction: "inbound", state: "open" },
    { direction: "inbound", state: "open" },
    { direction: "outbound", state: "draining" },
  ];
  let failing = false;
  const metrics = new AdminMetrics(
    {
      counters: new Counters(),
      gauges: () => ({ generation: 1 }),
      connections: () => {
        if (failing) throw new Error("table gone");
        return list;
      },
    },
    { defaultMetrics: false },
  );
  const text = await metrics.render();
  assert.match(text, /^siptrust_connections\{direction="inbound",state="open"\} 2$/m);
  assert.match(text, /^siptrust_connections\{direction="outbound",state="draining"\} 1$/m);
  failing = true;
  const after = await metrics.render();
  assert.doesNotMatch(after, /^siptrust_connections\{/m);
  assert.match(after, /^siptrust_reload_generation 1$/m);
});
