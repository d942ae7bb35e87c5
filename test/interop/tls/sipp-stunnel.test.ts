/**
 * SIPp as a peer (issue 6 §4): Debian's SIPp has no TLS, so it runs over TCP through stunnel4 in client mode,
 * which opens one TLS connection (with the partner's client certificate and SNI) per accepted TCP connection.
 * `-t t1` (all calls on one TCP connection) must therefore reach the listener as one TLS connection, `-t tn`
 * (a TCP connection per call) as many; every OPTIONS must carry stunnel's verified identity, and a stunnel
 * whose certificate the listener does not trust must get no call through.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { startCountingListener, type CountingListener } from "./counting-listener.js";
import { freeTcpPort } from "./free-port.js";
import { startSipp, type SippResult, type SippTransport } from "./sipp.js";
import { startStunnel } from "./stunnel.js";
import { makeTempDir, type TempDir } from "./temp-dir.js";
import { requireTool } from "./tools.js";

requireTool("stunnel4", ["-version"], "stunnel4");
requireTool("sipp", ["-v"], "sip-tester");

const CALLS = 50;
/** Calls per second: 50 calls start within about half a second, well inside the timeout. */
const RATE = 100;
const SIPP_TIMEOUT_SECONDS = 20;
/** Kill SIPp outright if its own -timeout failed to end it. */
const HARD_LIMIT_MS = (SIPP_TIMEOUT_SECONDS + 5) * 1000;
/** Each test: set-up, one SIPp run within its hard limit, clean-up. */
const TEST_OPTIONS = { timeout: 45_000 };

const edgeCa = createCa({ cn: "Edge CA" });
const edge = issueCertificate(edgeCa, {
  cn: "edge",
  san: { uri: ["sip:edge.example"], dns: ["edge.example"] },
});
const partnerCa = createCa({ cn: "Partner CA" });
const partner = issueCertificate(partnerCa, {
  cn: "sipp",
  san: { uri: ["sip:partner.example"] },
  eku: ["clientAuth"],
});
const stranger = issueCertificate(createCa({ cn: "Stranger CA" }), {
  cn: "stranger",
  san: { uri: ["sip:partner.example"] },
  eku: ["clientAuth"],
});

interface Setup {
  readonly dir: TempDir;
  readonly listener: CountingListener;
  readonly stunnelPort: number;
  readonly stunnelLog: () => string;
}

/** Listener trusting only the partner CA, and a stunnel presenting `client` in front of it. */
async function setUp(t: TestContext, client: GeneratedCertificate): Promise<Setup> {
  const dir = makeTempDir("sipp");
  t.after(() => dir.remove());
  const listener = await startCountingListener(edge, [partnerCa]);
  t.after(() => listener.close());
  const credential = dir.writeCredential("client", client);
  const stunnelPort = await freeTcpPort();
  const stunnel = await startStunnel(dir, [
    {
      name: "sipp",
      acceptPort: stunnelPort,
      connectPort: listener.port,
      cert: credential.cert,
      key: credential.key,
      caFile: dir.write("edge-ca.pem", edgeCa.certificatePem),
      serverName: "edge.example",
    },
  ]);
  t.after(() => stunnel.stop());
  return { dir, listener, stunnelPort, stunnelLog: stunnel.log };
}

async function runSipp(t: TestContext, setup: Setup, transport: SippTransport): Promise<SippResult> {
  const run = startSipp(
    {
      dir: setup.dir,
      name: `options-${transport}`,
      transport,
      remotePort: setup.stunnelPort,
      localPort: await freeTcpPort(),
      controlPort: await freeTcpPort(),
      calls: CALLS,
      rate: RATE,
      timeoutSeconds: SIPP_TIMEOUT_SECONDS,
    },
    HARD_LIMIT_MS,
  );
  t.after(() => run.stop());
  return run.result;
}

function describeRun(result: SippResult, setup: Setup): string {
  return [
    `sipp ${result.args.join(" ")}`,
    `exit ${String(result.exitCode)} signal ${String(result.signal)}`,
    `stats ${JSON.stringify(Object.fromEntries(result.stats))}`,
    `sipp output (tail):\n${result.output.slice(-2000)}`,
    `stunnel log (tail):\n${setup.stunnelLog().slice(-2000)}`,
  ].join("\n");
}

/** SIPp's own verdict (exit 0: every call succeeded) and what the listener saw of the same 50 calls. */
function assertAllAnswered(result: SippResult, setup: Setup): void {
  const why = describeRun(result, setup);
  assert.equal(result.exitCode, 0, `SIPp exit code 0 means all calls succeeded\n${why}`);
  assert.equal(result.stats.get("SuccessfulCall(C)"), String(CALLS), why);
  assert.equal(result.stats.get("FailedCall(C)"), "0", why);
  const seen = setup.listener.options;
  assert.equal(seen.length, CALLS, "the listener received every OPTIONS");
  assert.equal(new Set(seen.map((o) => o.callId)).size, CALLS, "each call is its own transaction");
  for (const options of seen) {
    assert.equal(options.verification, "client-verified");
    assert.deepEqual(options.identities, ["partner.example"], "stunnel's certificate is the verified peer");
  }
  for (const connection of setup.listener.connections) {
    assert.equal(connection.sni, "edge.example", "stunnel sent the configured SNI");
    assert.deepEqual(connection.identities, ["partner.example"]);
  }
}

test(
  "SIPp -t t1 through stunnel: 50 OPTIONS on one TLS connection with the partner's identity",
  TEST_OPTIONS,
  async (t) => {
    const setup = await setUp(t, partner);
    const result = await runSipp(t, setup, "t1");
    assertAllAnswered(result, setup);
    const { connections, options } = setup.listener;
    assert.equal(connections.length, 1, "one SIPp TCP connection became one TLS connection");
    const only = connections[0]?.id;
    assert.ok(
      options.every((o) => o.connectionId === only),
      "every OPTIONS arrived on that connection",
    );
  },
);

test("SIPp -t tn through stunnel: one verified TLS connection per call", TEST_OPTIONS, async (t) => {
  const setup = await setUp(t, partner);
  const result = await runSipp(t, setup, "tn");
  assertAllAnswered(result, setup);
  const { connections, options } = setup.listener;
  // SIPp opens a TCP connection per call under -t tn, and stunnel a TLS connection per TCP connection.
  assert.equal(connections.length, CALLS, "one TLS connection per SIPp call");
  const perConnection = new Map<number, number>();
  for (const o of options) perConnection.set(o.connectionId, (perConnection.get(o.connectionId) ?? 0) + 1);
  assert.deepEqual(
    [...perConnection.keys()].sort((a, b) => a - b),
    connections.map((c) => c.id).sort((a, b) => a - b),
    "every OPTIONS arrived on a connection the listener accepted, and every connection carried one",
  );
  assert.ok(
    [...perConnection.values()].every((n) => n === 1),
    "one OPTIONS per connection",
  );
});

/**
 * SIPp's exit codes: 0 all calls succeeded, 1 some call failed (also -timeout with -timeout_error), 255 fatal
 * error. SIPp 3.6.1 treats a TCP connection closed by the remote end (stunnel, once the listener refused its
 * certificate) as fatal, so 255 is what it reports here; either is a refusal SIPp noticed by itself.
 */
const SIPP_FAILURE_EXITS = [1, 255];

for (const transport of ["t1", "tn"] as const) {
  test(
    `SIPp -t ${transport} through a stunnel with an untrusted CA's certificate: no call gets through`,
    TEST_OPTIONS,
    async (t) => {
      const setup = await setUp(t, stranger);
      const result = await runSipp(t, setup, transport);
      const why = describeRun(result, setup);
      assert.equal(
        result.signal,
        null,
        `SIPp ended by itself (bounded by -timeout), not by the hard limit\n${why}`,
      );
      assert.ok(SIPP_FAILURE_EXITS.includes(result.exitCode ?? 0), `SIPp reports failure\n${why}`);
      assert.equal(result.stats.get("SuccessfulCall(C)"), "0", why);
      const { listener, options, connections } = setup.listener;
      assert.equal(options.length, 0, "no OPTIONS got through");
      assert.equal(connections.length, 0, "no TLS connection was accepted");
      assert.equal(listener.counters.get("tls.accepted"), 0);
      assert.ok(listener.counters.get("tls.client.unknown-issuer") >= 1, `refused as unknown issuer\n${why}`);
    },
  );
}
