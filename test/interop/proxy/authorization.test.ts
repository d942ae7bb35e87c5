/**
 * Per-message authorization and client-certificate enforcement through the daemon (issue 7 §2, §4): a partner
 * whose certificate (b.example) does not cover its From (sip:alice@a.example) gets 403 with our reason phrase on
 * every INVITE and nothing reaches the inside; a client without a certificate on a `required` listener does
 * not complete a TLS connection at all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type ConnectionOptions } from "node:tls";
import { reasonPhrase } from "../../../src/auth/authorize.js";
import { ProxyLab, requireProxyTools, udpTarget } from "./proxy-lab.js";
import { EDGE_NAME } from "./proxy-pki.js";
import { uacRejectedScenario } from "./scenarios.js";
import { successfulCalls } from "./sipp-process.js";
import { startUdpUas } from "./udp-uas.js";
import { optionsRequest } from "../tls/sip-text.js";
import { delay } from "../tls/wait.js";

requireProxyTools();

const FROM_NOT_COVERED = reasonPhrase({ ok: false, code: "from-not-covered", detail: "", dropped: [] });

test(
  "a certificate that does not cover From: every INVITE gets 403 with our reason, none goes inside",
  { timeout: 60_000 },
  async (t) => {
    const calls = 20;
    const lab = ProxyLab.create(t, "forbidden");
    const inner = await startUdpUas("silent");
    t.after(() => inner.close());
    await lab.startEdge({ innerServers: [udpTarget(inner.port)] });
    const uac = await lab.startSippUac({
      name: "uac-b-as-a",
      scenario: uacRejectedScenario({
        fromUser: "alice",
        fromDomain: "a.example",
        status: 403,
        reason: FROM_NOT_COVERED,
      }),
      partner: "b",
      calls,
      rate: 50,
      timeoutSeconds: 20,
    });
    const result = await uac.result;
    const why = lab.describe(result);
    // The scenario fails a call on any other final status or on another reason phrase.
    assert.equal(result.exitCode, 0, why);
    assert.equal(successfulCalls(result), calls, why);
    assert.equal(result.logLines.length, calls, why);
    for (const line of result.logLines) assert.ok(line.includes(`403 ${FROM_NOT_COVERED}`), line);
    assert.deepEqual(
      inner.received.map((r) => `${r.method} ${r.callId}`),
      [],
      "no request of an unauthorized peer reached the inner server",
    );
    const invites = lab.accounting().filter((r) => r["method"] === "INVITE");
    assert.equal(invites.length, calls, `one accounting line per rejected INVITE\n${why}`);
    for (const r of invites) {
      const text = JSON.stringify(r);
      assert.equal(r["status"], 403, text);
      assert.equal(r["action"], "reject", text);
      assert.equal(r["rejectCode"], "from-not-covered", `the rejection code is recorded\n${text}`);
      assert.equal(r["auth"], "from-not-covered", text);
      assert.deepEqual(r["identities"], ["b.example"], `the identity the certificate did prove\n${text}`);
      assert.equal(r["verification"], "pkix+rfc5922", text);
    }
  },
);

interface HandshakeOutcome {
  readonly secureConnect: boolean;
  readonly error?: string;
  readonly received: string;
  readonly closed: boolean;
}

/**
 * Connects, sends `request` once (if ever) connected, and waits for the end of the connection or for a
 * final response (whichever comes first; bounded).
 */
function tlsExchange(
  request: string,
  port: number,
  ca: string,
  options: Partial<ConnectionOptions>,
): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    let secureConnect = false;
    let received = "";
    let error: string | undefined;
    const socket = connect({ host: "127.0.0.1", port, ca, servername: EDGE_NAME, ...options });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ secureConnect, error: error ?? "no end within 5 s", received, closed: false });
    }, 5000);
    socket.on("secureConnect", () => {
      secureConnect = true;
      socket.write(request);
    });
    socket.on("data", (d: Buffer) => {
      received += d.toString("latin1");
      // Stop at the first final response (an INVITE may get 100 Trying first).
      if (/^SIP\/2\.0 [2-6]\d\d [^\r]*\r\n[\s\S]*?\r\n\r\n/m.test(received)) socket.end();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ secureConnect, error, received, closed: true });
    });
  });
}

test(
  "no client certificate on a `required` listener: the handshake is refused (TLS 1.3 and 1.2)",
  { timeout: 30_000 },
  async (t) => {
    const lab = ProxyLab.create(t, "no-cert");
    const inner = await startUdpUas("silent");
    t.after(() => inner.close());
    await lab.startEdge({ innerServers: [udpTarget(inner.port)], clientCertificates: "required" });
    const ca = lab.pki.ca.certificatePem;
    // Control: with partner a's certificate the same exchange works (OPTIONS to the edge is answered locally).
    const partner = lab.pki.partnerA;
    const control = await tlsExchange(optionsRequest("control", "a.example"), lab.listenerPort, ca, {
      cert: partner.certificatePem,
      key: partner.privateKeyPem,
    });
    assert.ok(control.secureConnect, `control handshake: ${JSON.stringify(control)}\n${lab.edge.describe()}`);
    assert.match(control.received, /^SIP\/2\.0 200 /, `control OPTIONS answered\n${lab.edge.describe()}`);
    // TLS 1.3: the client's handshake completes before the server has seen the (empty) client Certificate
    // (RFC 8446 §4.4.2.4); the listener then closes the connection before reading anything from it.
    const v13 = await tlsExchange(optionsRequest("no-cert-13", "a.example"), lab.listenerPort, ca, {
      minVersion: "TLSv1.3",
    });
    assert.ok(v13.closed, `connection ended by the edge: ${JSON.stringify(v13)}`);
    assert.equal(v13.received, "", "no SIP response over a connection without a client certificate");
    // TLS 1.2: the server's Finished is the last flight; the client never gets a secure connection.
    const v12 = await tlsExchange(optionsRequest("no-cert-12", "a.example"), lab.listenerPort, ca, {
      maxVersion: "TLSv1.2",
    });
    assert.equal(v12.secureConnect, false, `TLS 1.2 handshake must not complete: ${JSON.stringify(v12)}`);
    assert.equal(v12.received, "");
    assert.ok(v12.closed && v12.error !== undefined, JSON.stringify(v12));
    // The edge says why: both refusals counted and logged with the code.
    const metrics = await lab.edge.request("GET", "/metrics");
    assert.match(
      String(metrics.body),
      /siptrust_tls_handshakes_total\{result="failed",code="client-cert-required"\} 2\b/,
      lab.edge.describe(),
    );
    const refusals = lab.edge.logRecords().filter((r) => r["code"] === "client-cert-required");
    assert.equal(refusals.length, 2, lab.edge.describe());
    assert.deepEqual(inner.received, [], "nothing reached the inner server");
    assert.deepEqual(
      lab.accounting().filter((r) => r["callId"] !== "control"),
      [],
      "no transaction from the clients without a certificate",
    );
    // The control closed its connection; the refused ones never became connections. Bounded wait for the close.
    let open: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await lab.edge.request("GET", "/connections");
      assert.equal(answer.status, 200, lab.edge.describe());
      const body = answer.body as { connections?: unknown[] } | unknown[];
      open = Array.isArray(body) ? body : (body.connections ?? []);
      if (open.length === 0) break;
      await delay(100);
    }
    assert.deepEqual(open, [], "the edge holds no connection from the refused clients");
  },
);

function invite(callId: string, fromHeader: string, maxForwards: number): string {
  return (
    `INVITE sip:bob@inside.example SIP/2.0\r\n` +
    `Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-${callId}\r\n` +
    `From: ${fromHeader};tag=${callId}\r\n` +
    `To: <sip:bob@inside.example>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 1 INVITE\r\n` +
    `Contact: <sip:alice@127.0.0.1:5061;transport=tls>\r\n` +
    `Max-Forwards: ${maxForwards}\r\n` +
    `Content-Length: 0\r\n\r\n`
  );
}

/** The final response's status line (the last status line received). */
function finalStatusLine(received: string): string {
  const lines = received.match(/^SIP\/2\.0 \d{3} [^\r\n]*/gm) ?? [];
  return lines.filter((l) => !/^SIP\/2\.0 1/.test(l)).at(-1) ?? `(none in ${JSON.stringify(received)})`;
}

test(
  "requests the edge answers itself over TLS: Max-Forwards 0 → 483 (RFC 3261 §16.3), malformed From → 400",
  { timeout: 30_000 },
  async (t) => {
    const lab = ProxyLab.create(t, "checks");
    const inner = await startUdpUas("silent");
    t.after(() => inner.close());
    await lab.startEdge({ innerServers: [udpTarget(inner.port)] });
    const ca = lab.pki.ca.certificatePem;
    const cert = { cert: lab.pki.partnerA.certificatePem, key: lab.pki.partnerA.privateKeyPem };
    const cases = [
      {
        callId: "max-forwards-0",
        request: invite("max-forwards-0", "<sip:alice@a.example>", 0),
        status: 483,
      },
      // From without a closing bracket: not a name-addr (RFC 3261 §20.20, §25.1).
      { callId: "bad-from", request: invite("bad-from", "<sip:alice@a.example", 70), status: 400 },
    ];
    for (const c of cases) {
      const outcome = await tlsExchange(c.request, lab.listenerPort, ca, cert);
      const status = finalStatusLine(outcome.received);
      assert.match(status, new RegExp(`^SIP/2\\.0 ${c.status} `), `${c.callId}\n${lab.edge.describe()}`);
      t.diagnostic(`${c.callId}: ${status}`);
    }
    assert.deepEqual(inner.received, [], "none of them was forwarded");
  },
);
