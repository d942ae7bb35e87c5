/**
 * Calls through the daemon (issue 7 §4): SIPp UAC over TCP → stunnel (TLS, client certificate for a.example) →
 * `siptrust serve` → SIPp UAS on UDP. 500 complete INVITE/ACK/BYE calls; the verified identity header added
 * inside and every copy sent from outside removed (DESIGN.md "Routing and accounting"); one accounting line per
 * transaction carrying the TLS attributes of the connection the request came on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { IDENTITY_HEADER, LISTENER_NAME, ProxyLab, requireProxyTools, udpTarget } from "./proxy-lab.js";
import { EDGE_NAME } from "./proxy-pki.js";
import { RETRANSMITTED_INVITE, uacCallScenario, uasAnswerScenario } from "./scenarios.js";
import { failedCalls, successfulCalls, udpDrops, type SippResult } from "./sipp-process.js";

requireProxyTools();

const ALICE = { fromUser: "alice", fromDomain: "a.example" } as const;

function assertAllSucceeded(lab: ProxyLab, calls: number, ...results: SippResult[]): void {
  const why = lab.describe(...results);
  for (const r of results) {
    assert.equal(r.signal, null, `SIPp ${r.name} ended by itself, not by the hard limit\n${why}`);
    assert.equal(r.exitCode, 0, `SIPp ${r.name} exit 0 = every call succeeded\n${why}`);
    assert.equal(successfulCalls(r), calls, `SIPp ${r.name}: successful calls\n${why}`);
    assert.equal(failedCalls(r), 0, `SIPp ${r.name}: failed calls\n${why}`);
  }
}

test(
  "500 calls (INVITE/ACK/BYE) from a verified partner reach the inner UAS and all complete",
  { timeout: 90_000 },
  async (t) => {
    const calls = 500;
    const lab = ProxyLab.create(t, "calls");
    const uas = await lab.startSippUas({
      name: "uas",
      scenario: uasAnswerScenario(),
      calls,
      timeoutSeconds: 45,
    });
    await lab.startEdge({ innerServers: [udpTarget(uas.port)] });
    const started = Date.now();
    const uac = await lab.startSippUac({
      name: "uac",
      scenario: uacCallScenario(ALICE),
      partner: "a",
      calls,
      rate: 250,
      limit: 100,
      timeoutSeconds: 40,
    });
    const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
    t.diagnostic(`${calls} calls in ${Date.now() - started} ms`);
    // Not asserted (load-dependent, recovered by retransmissions), but worth seeing: kernel drops on the
    // edge's inside UDP socket mean its receive buffer overflowed during the burst.
    t.diagnostic(`UDP drops: edge inside socket ${String(udpDrops(lab.insidePort))}`);
    const retransmitted = uasResult.logLines.filter((l) => l.includes(RETRANSMITTED_INVITE)).length;
    t.diagnostic(`INVITEs the edge retransmitted (Timer A) after the UAS had answered: ${retransmitted}`);
    assertAllSucceeded(lab, calls, uacResult, uasResult);
  },
);

test(
  "50 calls with one TLS connection per call (SIPp -t tn): responses and in-dialog requests find their connection",
  { timeout: 60_000 },
  async (t) => {
    const calls = 50;
    const lab = ProxyLab.create(t, "per-call");
    const uas = await lab.startSippUas({
      name: "uas",
      scenario: uasAnswerScenario(),
      calls,
      timeoutSeconds: 30,
    });
    await lab.startEdge({ innerServers: [udpTarget(uas.port)] });
    const uac = await lab.startSippUac({
      name: "uac-tn",
      scenario: uacCallScenario(ALICE),
      partner: "a",
      transport: "tn",
      calls,
      rate: 50,
      timeoutSeconds: 25,
    });
    const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
    assertAllSucceeded(lab, calls, uacResult, uasResult);
    // stunnel opens one TLS connection per SIPp TCP connection: the accounting shows one peer port per call.
    const invites = lab.accounting().filter((r) => r["method"] === "INVITE");
    assert.equal(new Set(invites.map((r) => r["peer"])).size, calls, "one TLS connection per call");
  },
);

test(
  "identity header added inside (verified identity), every outside copy removed; Max-Forwards, Via, double Record-Route",
  { timeout: 60_000 },
  async (t) => {
    const calls = 20;
    const lab = ProxyLab.create(t, "identity");
    const uas = await lab.startSippUas({
      name: "uas-identity",
      scenario: uasAnswerScenario({
        header: IDENTITY_HEADER,
        expect: "<sip:a\\.example>",
        forbidden: "forged",
      }),
      calls,
      timeoutSeconds: 30,
    });
    await lab.startEdge({ innerServers: [udpTarget(uas.port)] });
    // Two forged copies: the configured spelling and another case (RFC 3261 §7.3.1: names are case-insensitive).
    const forged = [
      `${IDENTITY_HEADER}: sip:forged-ceo@a.example;method=dane-ee`,
      `${IDENTITY_HEADER.toLowerCase()}: forged-lowercase.example`,
    ];
    const uac = await lab.startSippUac({
      name: "uac-forging",
      scenario: uacCallScenario({ ...ALICE, extraHeaders: forged }),
      partner: "a",
      calls,
      rate: 50,
      timeoutSeconds: 25,
    });
    const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
    assertAllSucceeded(lab, calls, uacResult, uasResult);
    // The UAS scenario fails a call on a missing header, a surviving forged text or a second copy; its log
    // has the value each INVITE carried.
    const seen = uasResult.logLines
      .filter((line) => line.includes("identity="))
      .map((line) => ({
        line,
        value: /identity=\s*(.*?) checks=/.exec(line)?.[1] ?? "",
        maxForwards: /mf=\s*(.*?) via=/.exec(line)?.[1] ?? "",
        via: /via=\s*(.*?) rr=/.exec(line)?.[1] ?? "",
        recordRoute: /rr=\s*(.*)$/.exec(line)?.[1] ?? "",
      }));
    assert.equal(seen.length, calls, lab.describe(uasResult));
    for (const { line, maxForwards, via, recordRoute } of seen) {
      // RFC 3261 §16.6 step 3, 8, 4: Max-Forwards decremented, our Via on top (UDP, magic cookie branch),
      // RFC 5658 double Record-Route: the inside entry first, then the outside (TLS) one.
      assert.equal(maxForwards.trim(), "69", line);
      assert.match(via, /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK/, line);
      const routes = recordRoute.split(/,\s*(?=<)/);
      assert.equal(routes.length, 2, `two Record-Route entries (inside, outside)\n${line}`);
      assert.match(routes[0] ?? "", /^<sip:127\.0\.0\.1:\d+;transport=udp;lr>$/, line);
      assert.match(routes[1] ?? "", /;transport=tls;lr>$/, line);
    }
    const values = seen.map((s) => s.value);
    const fingerprint = createHash("sha256").update(lab.pki.partnerA.certificate.raw).digest("hex");
    for (const value of values) {
      // src/proxy/policy/identity-header.ts: <identity URI>;method=…;auth=…;listener=…;sni=…;…;fp=<16 hex>
      const [uri, ...params] = value.split(";");
      assert.equal(uri, "<sip:a.example>", `the domain identity that covered From\n${value}`);
      assert.ok(params.includes("method=pkix+rfc5922"), `how the peer was verified\n${value}`);
      assert.ok(params.includes("auth=covered-by-domain"), `why the request was authorized\n${value}`);
      assert.ok(params.includes(`listener=${LISTENER_NAME}`), value);
      assert.ok(params.includes(`sni=${EDGE_NAME}`), value);
      assert.ok(params.includes(`fp=${fingerprint.slice(0, 16)}`), `partner a's certificate\n${value}`);
    }
  },
);

test(
  "accounting: one JSON line per transaction with the TLS attributes and the final status",
  { timeout: 60_000 },
  async (t) => {
    const calls = 10;
    const lab = ProxyLab.create(t, "accounting");
    const uas = await lab.startSippUas({
      name: "uas",
      scenario: uasAnswerScenario(),
      calls,
      timeoutSeconds: 30,
    });
    await lab.startEdge({ innerServers: [udpTarget(uas.port)] });
    const uac = await lab.startSippUac({
      name: "uac",
      scenario: uacCallScenario(ALICE),
      partner: "a",
      calls,
      rate: 20,
      timeoutSeconds: 25,
    });
    const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
    assertAllSucceeded(lab, calls, uacResult, uasResult);
    // Lines are written when transactions end; the BYE's ends with its 200 (RFC 3261 Timer K is 0 on TLS).
    const deadline = Date.now() + 5000;
    let records = lab.accounting();
    while (records.filter((r) => r["method"] === "BYE").length < calls && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      records = lab.accounting();
    }
    const why = `${JSON.stringify(records.slice(0, 3), null, 2)}\n${lab.describe(uacResult)}`;
    const partner = lab.pki.partnerA.certificate;
    const fingerprint = createHash("sha256").update(partner.raw).digest("hex");
    const byCall = new Map<string, Array<Record<string, unknown>>>();
    for (const r of records) {
      const callId = String(r["callId"]);
      byCall.set(callId, [...(byCall.get(callId) ?? []), r]);
    }
    assert.equal(byCall.size, calls, `one Call-ID per SIPp call\n${why}`);
    for (const [callId, lines] of byCall) {
      const methods = lines.map((r) => String(r["method"])).sort();
      // ACK for a 2xx is no transaction of the proxy (RFC 3261 §17.1.1.1); INVITE and BYE each are one.
      assert.deepEqual(
        methods.filter((m) => m !== "ACK"),
        ["BYE", "INVITE"],
        `${callId}: one line per transaction\n${why}`,
      );
      for (const r of lines.filter((line) => line["method"] !== "ACK")) {
        assert.equal(r["status"], 200, `${callId} ${String(r["method"])}: final status\n${why}`);
        assert.equal(r["direction"], "inbound", why);
        // src/proxy/accounting/accounting-record.ts: flat fields.
        assert.match(String(r["time"]), /^\d{4}-\d\d-\d\dT/, why);
        assert.ok(typeof r["durationMs"] === "number" && r["durationMs"] >= 0, why);
        assert.match(String(r["from"]), /sip:alice@a\.example/, why);
        assert.match(String(r["peer"]), /^127\.0\.0\.1:\d+$/, `stunnel's end of the TLS connection\n${why}`);
        assert.equal(r["listener"], LISTENER_NAME, why);
        assert.equal(r["sni"], EDGE_NAME, "stunnel sent SNI edge.example");
        assert.equal(r["caSet"], "lab", why);
        assert.match(String(r["tlsVersion"]), /^TLSv1\.[23]$/, why);
        assert.ok(String(r["cipher"]).length > 0, `cipher recorded\n${why}`);
        assert.match(String(r["subject"]), /CN=a\.example/, why);
        assert.match(String(r["issuer"]), /CN=siptrust proxy interop CA/, why);
        assert.equal(
          String(r["serial"]).replace(/^0+/, "").toLowerCase(),
          partner.serialNumber.replace(/^0+/, "").toLowerCase(),
          why,
        );
        assert.equal(r["fingerprint"], fingerprint, why);
        assert.deepEqual(r["sanUri"], ["sip:a.example"], why);
        assert.deepEqual(r["identities"], ["a.example"], why);
        assert.equal(r["verification"], "pkix+rfc5922", why);
        assert.equal(r["auth"], "covered-by-domain", why);
        assert.equal(r["action"], "forward", why);
        assert.equal(r["target"], "inner:default", why);
      }
    }
  },
);
