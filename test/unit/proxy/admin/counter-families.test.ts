import { test } from "node:test";
import assert from "node:assert/strict";
import {
  COUNTER_FAMILIES,
  classifyCounter,
  groupCounters,
  outboundStage,
} from "../../../../src/proxy/admin/counter-families.js";

test("dotted counter names map to a family and labels (table)", () => {
  const table: Array<[string, string, Record<string, string>]> = [
    [
      "proxy.requests.INVITE.forwarded",
      "siptrust_requests_total",
      { method: "INVITE", outcome: "forwarded" },
    ],
    // A method token may contain dots (RFC 3261 §25.1): the outcome is the last segment.
    ["proxy.requests.X.Y.rejected", "siptrust_requests_total", { method: "X.Y", outcome: "rejected" }],
    ["proxy.responses.4xx", "siptrust_responses_total", { class: "4xx" }],
    [
      "proxy.auth.denied.from-not-covered",
      "siptrust_authorization_failures_total",
      { code: "from-not-covered" },
    ],
    [
      "proxy.auth.ok.covered-by-domain",
      "siptrust_authorization_successes_total",
      { code: "covered-by-domain" },
    ],
    ["proxy.transactions.server", "siptrust_transactions_total", { kind: "server" }],
    ["proxy.dropped.stray-response", "siptrust_dropped_total", { reason: "stray-response" }],
    ["tls.handshake-failed", "siptrust_tls_handshakes_total", { result: "failed", code: "handshake-failed" }],
    [
      "tls.handshake-timeout",
      "siptrust_tls_handshakes_total",
      { result: "failed", code: "handshake-timeout" },
    ],
    [
      "tls.client.client-verified",
      "siptrust_tls_handshakes_total",
      { result: "ok", code: "client-verified" },
    ],
    ["tls.client.no-client-cert", "siptrust_tls_handshakes_total", { result: "ok", code: "no-client-cert" }],
    ["tls.client.expired", "siptrust_tls_handshakes_total", { result: "failed", code: "expired" }],
    [
      "tls.client.client-cert-required",
      "siptrust_tls_handshakes_total",
      { result: "failed", code: "client-cert-required" },
    ],
    ["tls.client.ocsp.ocsp-good", "siptrust_tls_client_ocsp_total", { result: "ok", code: "ocsp-good" }],
    [
      "tls.client.ocsp.ocsp-revoked",
      "siptrust_tls_client_ocsp_total",
      { result: "failed", code: "ocsp-revoked" },
    ],
    ["tls.accepted", "siptrust_connections_accepted_total", {}],
    ["outbound.opened", "siptrust_outbound_connections_total", { result: "opened", stage: "", code: "" }],
    ["outbound.reused", "siptrust_outbound_connections_total", { result: "reused", stage: "", code: "" }],
    [
      "outbound.shared-attempt",
      "siptrust_outbound_connections_total",
      { result: "shared", stage: "", code: "" },
    ],
    [
      "outbound.failed.dns-bogus",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "dns", code: "dns-bogus" },
    ],
    [
      "outbound.failed.no-targets",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "dns", code: "no-targets" },
    ],
    [
      "outbound.failed.tlsa-bogus",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "dane", code: "tlsa-bogus" },
    ],
    [
      "outbound.failed.dane-no-match",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "dane", code: "dane-no-match" },
    ],
    [
      "outbound.failed.connect-failed",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "tls", code: "connect-failed" },
    ],
    [
      "outbound.failed.rfc5922-no-match",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "certificate", code: "rfc5922-no-match" },
    ],
    [
      "outbound.failed.ocsp-revoked",
      "siptrust_outbound_connections_total",
      { result: "failed", stage: "ocsp", code: "ocsp-revoked" },
    ],
    ["outbound.closed.idle", "siptrust_outbound_closed_total", { reason: "idle" }],
    ["reload.ok", "siptrust_reloads_total", { result: "ok" }],
    ["reload.refused", "siptrust_reloads_total", { result: "refused" }],
    ["reload.failed", "siptrust_reloads_total", { result: "failed" }],
    ["reload.revalidate.revoked", "siptrust_reload_revalidation_failures_total", { code: "revoked" }],
    ["limit.max-connections-per-ip", "siptrust_limits_hit_total", { limit: "max-connections-per-ip" }],
    ["sip.messages", "siptrust_sip_messages_total", { transport: "tls" }],
    ["inner.udp.messages", "siptrust_sip_messages_total", { transport: "udp" }],
    ["inner.tcp.messages", "siptrust_sip_messages_total", { transport: "tcp" }],
    [
      "sip.framing.message-too-large",
      "siptrust_sip_malformed_total",
      { transport: "tls", code: "message-too-large" },
    ],
    [
      "inner.udp.malformed.bad-start-line",
      "siptrust_sip_malformed_total",
      { transport: "udp", code: "bad-start-line" },
    ],
    [
      "inner.tcp.framing.bad-content-length",
      "siptrust_sip_malformed_total",
      { transport: "tcp", code: "bad-content-length" },
    ],
    ["ocsp.staple.refresh-failed", "siptrust_ocsp_staple_events_total", { event: "refresh-failed" }],
  ];
  for (const [name, family, labels] of table) {
    const got = classifyCounter(name);
    assert.equal(got.family.name, family, name);
    assert.deepEqual(got.labels, labels, name);
    assert.deepEqual(
      Object.keys(labels).sort(),
      [...got.family.labelNames].sort(),
      `${name}: every label set`,
    );
  }
});

test("names no rule claims (or that are truncated) become siptrust_events_total{name}", () => {
  for (const name of [
    "tls.socket-error",
    "reload.dropped",
    "reload.connections.closed",
    "outbound.handshake-attempts",
    "proxy.requests.INVITE",
    "proxy.responses",
    "proxy.auth.denied",
    "tls.accepted.extra",
    "accounting.write-failed",
    "",
  ]) {
    const got = classifyCounter(name);
    assert.equal(got.family.name, "siptrust_events_total", name);
    assert.deepEqual(got.labels, { name }, name);
  }
});

test("groupCounters puts every counter in exactly one registered family", () => {
  const snapshot = {
    "proxy.requests.INVITE.forwarded": 3,
    "proxy.requests.BYE.forwarded": 1,
    "reload.ok": 2,
    "something.else": 4,
  };
  const groups = groupCounters(snapshot);
  const total = [...groups.values()].flat().reduce((sum, s) => sum + s.value, 0);
  assert.equal(total, 10);
  assert.equal(groups.get("siptrust_requests_total")?.length, 2);
  const names = new Set(COUNTER_FAMILIES.map((f) => f.name));
  for (const family of groups.keys()) assert.ok(names.has(family), family);
});

test("outboundStage names the step of the outbound procedure that failed", () => {
  assert.equal(outboundStage("transport-not-allowed"), "dns");
  assert.equal(outboundStage("tlsa-lookup-failed"), "dane");
  assert.equal(outboundStage("handshake-timeout"), "tls");
  assert.equal(outboundStage("ocsp-unknown"), "ocsp");
  assert.equal(outboundStage("expired"), "certificate");
});
