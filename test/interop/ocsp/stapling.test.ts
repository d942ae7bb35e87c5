// OCSP stapling (ocsp-stapler.ts) on a Node TLS server built from server-profile.ts, seen by
// `openssl s_client -status` and by our own client (client-handshake.ts requestOcsp + ocsp-policy.ts).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { buildServerProfile, serverTlsOptions } from "../../../src/tls/server-profile.js";
import { OcspStapler, type StaplerEvent } from "../../../src/tls/ocsp-stapler.js";
import { openTlsConnection } from "../../../src/tls/client-handshake.js";
import { checkOcsp } from "../../../src/tls/ocsp-policy.js";
import type { OcspFetcher } from "../../../src/tls/ocsp-fetch.js";
import { startOcspLab, type OcspLab } from "./ocsp-lab.js";
import { closedPort } from "./openssl-responder.js";

const S_CLIENT_TIMEOUT_MS = 15_000;

async function startServer(
  t: TestContext,
  lab: OcspLab,
  setup: (server: tls.Server, profile: ReturnType<typeof buildServerProfile>) => Promise<void> | void,
): Promise<number> {
  const chain = (g: { certificatePem: string }) => g.certificatePem + lab.ca.certificatePem;
  const profile = buildServerProfile({
    credentials: [
      { certPem: chain(lab.leaves.serverGood), keyPem: lab.leaves.serverGood.privateKeyPem },
      { certPem: chain(lab.leaves.serverRevoked), keyPem: lab.leaves.serverRevoked.privateKeyPem },
    ],
    clientCertificates: "ignore",
  });
  // Like a SIP server, the connection stays up until the client closes it (a TLS 1.3 server that hangs up
  // right after the handshake is read as refusing the client).
  const server = tls.createServer(serverTlsOptions(profile), (socket) => {
    socket.on("error", () => socket.destroy());
    socket.on("end", () => socket.end());
  });
  await setup(server, profile);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** `openssl s_client -status`, stdin closed so it leaves after the handshake; bounded by a timeout. */
function sClientStatus(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      ["s_client", "-status", "-connect", `127.0.0.1:${port}`, "-servername", servername],
      { timeout: S_CLIENT_TIMEOUT_MS },
      (err, stdout, stderr) => {
        if (err && !stdout.includes("CONNECTED"))
          reject(new Error(`s_client failed: ${err.message} ${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end();
  });
}

async function startStapler(t: TestContext, lab: OcspLab, profile: ReturnType<typeof buildServerProfile>) {
  const events: StaplerEvent[] = [];
  const stapler = new OcspStapler({ onEvent: (e) => events.push(e), timeoutMs: 8000 });
  for (const credential of profile.credentials) stapler.addCredential(credential);
  t.after(() => stapler.stop());
  const states = await stapler.start();
  return { stapler, events, states };
}

test(
  "stapling: s_client -status sees good and revoked per SNI certificate",
  { timeout: 60_000 },
  async (t) => {
    const lab = await startOcspLab();
    t.after(() => lab.stop());
    let states: Awaited<ReturnType<typeof startStapler>>["states"] = [];
    const port = await startServer(t, lab, async (server, profile) => {
      const s = await startStapler(t, lab, profile);
      s.stapler.attach(server);
      states = s.states;
    });
    assert.deepEqual(
      states.map((s) => [s.subject, s.status]),
      [
        ["CN=server-good.example.com", "good"],
        ["CN=server-revoked.example.com", "revoked"],
      ],
    );
    assert.ok(states.every((s) => s.nextRefresh && s.nextUpdate && s.nextRefresh < s.nextUpdate));

    const goodOut = await sClientStatus(port, "server-good.example.com");
    assert.match(goodOut, /OCSP Response Status: successful/);
    assert.match(goodOut, /Cert Status: good/);
    assert.match(goodOut, /Responder Id: CN = siptrust OCSP lab responder/);

    const revokedOut = await sClientStatus(port, "server-revoked.example.com");
    assert.match(revokedOut, /Cert Status: revoked/);
    assert.match(revokedOut, /Revocation Reason: keyCompromise/);
  },
);

test(
  "stapling: our client takes the staple first and does not ask the responder",
  { timeout: 60_000 },
  async (t) => {
    const lab = await startOcspLab();
    t.after(() => lab.stop());
    let ocspRequests = 0;
    const port = await startServer(t, lab, async (server, profile) => {
      const s = await startStapler(t, lab, profile);
      s.stapler.attach(server);
      server.on("OCSPRequest", () => ocspRequests++);
    });
    let fetched = 0;
    const noFetch: OcspFetcher = async (r) => {
      fetched++;
      return { ok: false, code: "ocsp-unreachable", detail: "must not be asked", url: r.url };
    };
    const connect = async (servername: string, requestOcsp: boolean) => {
      const r = await openTlsConnection({
        host: "127.0.0.1",
        port,
        servername,
        requestOcsp,
        timeoutMs: 8000,
      });
      assert.equal(r.ok, true, JSON.stringify(!r.ok && r));
      if (!r.ok) throw new Error("unreachable");
      r.socket.destroy();
      return r;
    };

    const good = await connect("server-good.example.com", true);
    assert.ok(good.ocspResponse, "a staple was received");
    const leaf = good.chain[0];
    assert.ok(leaf);
    const verdict = await checkOcsp({
      cert: leaf,
      issuer: lab.ca.certificate,
      stapled: good.ocspResponse,
      mode: "hard-fail",
      fetch: noFetch,
    });
    assert.deepEqual([verdict.code, verdict.source], ["ocsp-good", "staple"]);

    const revoked = await connect("server-revoked.example.com", true);
    const rv = await checkOcsp({
      cert: revoked.chain[0] as NonNullable<(typeof revoked.chain)[0]>,
      issuer: lab.ca.certificate,
      stapled: revoked.ocspResponse,
      mode: "soft-fail",
      fetch: noFetch,
    });
    assert.deepEqual([rv.ok, rv.code, rv.source], [false, "ocsp-revoked", "staple"]);
    assert.equal(fetched, 0);

    const before = ocspRequests;
    const plain = await connect("server-good.example.com", false);
    assert.equal(plain.ocspResponse, undefined, "no staple unless asked (RFC 6066 §8)");
    assert.equal(ocspRequests, before);
  },
);

test("an invalid staple is not trusted: the responder is asked second", { timeout: 60_000 }, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  const port = await startServer(t, lab, (server) => {
    // a broken staple: responseStatus successful without responseBytes (RFC 6960 §4.2.1 requires them)
    server.on("OCSPRequest", (_cert, _issuer, cb) => cb(null, Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x00])));
  });
  const r = await openTlsConnection({
    host: "127.0.0.1",
    port,
    servername: "server-good.example.com",
    requestOcsp: true,
    timeoutMs: 8000,
  });
  assert.ok(r.ok);
  if (!r.ok) return;
  r.socket.destroy();
  assert.ok(r.ocspResponse);
  const before = lab.main.requests;
  const v = await checkOcsp({
    cert: r.chain[0] as NonNullable<(typeof r.chain)[0]>,
    issuer: lab.ca.certificate,
    stapled: r.ocspResponse,
    mode: "hard-fail",
    timeoutMs: 8000,
  });
  assert.deepEqual([v.code, v.source], ["ocsp-good", "responder"]);
  assert.equal(lab.main.requests, before + 1);
});

test(
  "stapler: nothing stapled while the responder is unreachable; refresh failure keeps the old staple",
  { timeout: 60_000 },
  async (t) => {
    const lab = await startOcspLab();
    t.after(() => lab.stop());
    const deadUrl = `http://127.0.0.1:${await closedPort()}/`;
    const port = await startServer(t, lab, async (server) => {
      const stapler = new OcspStapler({ timeoutMs: 2000 });
      stapler.add(lab.leaves.serverGood.certificate, lab.ca.certificate, deadUrl);
      t.after(() => stapler.stop());
      const [state] = await stapler.start();
      assert.equal(state?.status, undefined);
      assert.equal(state?.lastError?.code, "ocsp-unreachable");
      stapler.attach(server);
    });
    const out = await sClientStatus(port, "server-good.example.com");
    assert.match(out, /OCSP response: no response sent/);

    // refresh loop: refresh almost at once, then the responder fails; the served response stays
    const events: StaplerEvent[] = [];
    const refreshing = new OcspStapler({
      refreshFraction: 0,
      minRefreshMs: 100,
      retryMs: 100,
      timeoutMs: 8000,
      onEvent: (e) => events.push(e),
    });
    t.after(() => refreshing.stop());
    refreshing.add(lab.leaves.serverGood.certificate, lab.ca.certificate);
    await refreshing.start();
    const first = refreshing.responseFor(lab.leaves.serverGood.certificate.raw);
    assert.ok(first);
    lab.main.mode = "http-500";
    const deadline = Date.now() + 20_000;
    while (!events.some((e) => e.type === "refresh-failed") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const failed = events.find((e) => e.type === "refresh-failed");
    assert.equal(failed?.type === "refresh-failed" && failed.code, "ocsp-http-error");
    assert.ok(refreshing.responseFor(lab.leaves.serverGood.certificate.raw)?.equals(first));
    assert.equal(refreshing.states()[0]?.lastError?.code, "ocsp-http-error");
    lab.main.mode = "serve";
    refreshing.stop();
  },
);
