// verifyOutbound (DESIGN.md "Outbound", issue 5 §3/§5) end to end: the real stub client asks a real
// validating Unbound in front of a real Knot serving signed zones, and connects to real TLS servers that record
// the SNI they received. Each scenario has its own zone (world.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DnsClient } from "../../../src/dns/client.js";
import { DnsOutboundResolver } from "../../../src/tls/resolver-adapter.js";
import { verifyOutbound, type OutboundResult } from "../../../src/tls/outbound.js";
import type { ClientCredentials } from "../../../src/tls/client-handshake.js";
import { startWorld, type ServerName, type World } from "./world.js";

const TEST_TIMEOUT_MS = 120_000;

function runner(world: World) {
  return async (
    domain: string,
    scheme: "sip" | "sips" = "sips",
    clientCredentials?: ClientCredentials,
  ): Promise<OutboundResult> => {
    // A fresh client per scenario: its cache would otherwise hide steps from the report.
    const client = new DnsClient({ resolver: world.resolverAddress, timeoutMs: 1500, retries: 1 });
    return verifyOutbound(
      `${scheme}:alice@${domain}`,
      { scheme, host: domain },
      {
        resolver: new DnsOutboundResolver(client),
        anchors: [{ cert: world.caLab }],
        handshakeTimeoutMs: 3000,
        clientCredentials,
      },
    );
  };
}

/** SNI each server received, in order, since `marks` was taken. */
function sniSince(world: World, marks: Record<string, number>, name: ServerName): string[] {
  return world.servers[name].sniReceived.slice(marks[name] ?? 0);
}

function mark(world: World): Record<string, number> {
  return Object.fromEntries(Object.entries(world.servers).map(([k, s]) => [k, s.sniReceived.length]));
}

function connectionsOf(world: World): Record<string, number> {
  return Object.fromEntries(Object.entries(world.servers).map(([k, s]) => [k, s.connections()]));
}

test(
  "outbound verification against a DNSSEC lab and real TLS servers",
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    const world = await startWorld();
    t.after(() => world.stop());
    const check = runner(world);

    await t.test("secure NAPTR → SRV → TLSA 3 1 1: DANE-EE decides, SNI is the SRV target", async () => {
      const before = mark(world);
      const r = await check("ee.test");
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.delegation, "secure");
      assert.equal(r.method, "dane-ee");
      assert.equal(r.code, "dane-ee-match");
      assert.equal(r.target?.srvHost, "a.ee.test");
      assert.equal(r.target?.sni, "a.ee.test");
      assert.equal(r.target?.tlsa?.status, "secure");
      assert.equal(r.target?.verification.matchedTlsa?.index, 0);
      assert.deepEqual(sniSince(world, before, "ee"), ["a.ee.test"]);
      // Every query on the path is recorded with its DNSSEC status.
      const kinds = r.steps.map((s) => `${s.type} ${s.name} ${s.status}`);
      assert.ok(kinds.includes("NAPTR ee.test secure"), kinds.join("\n"));
      assert.ok(kinds.includes("SRV _sips._tcp.ee.test secure"), kinds.join("\n"));
      assert.ok(kinds.includes("A a.ee.test secure"), kinds.join("\n"));
      assert.ok(kinds.includes(`TLSA _${world.servers.ee.port}._tcp.a.ee.test secure`), kinds.join("\n"));
      assert.ok(r.steps.every((s) => s.ttl > 0 || s.answers.length === 0));
    });

    await t.test(
      "DANE-EE mismatch on the first SRV target → failover to the second, which matches",
      async () => {
        const before = mark(world);
        const r = await check("fo.test");
        assert.equal(r.ok, true, r.detail);
        assert.equal(r.attempts.length, 2);
        const [first, second] = r.attempts;
        // The first server's certificate would pass RFC 5922 (configured CA, sip:fo.test), yet the failed DANE
        // match is final for that target: no fallback to PKIX.
        assert.equal(first?.verification.ok, false);
        assert.equal(first?.verification.code, "dane-no-match");
        assert.notEqual(first?.verification.method, "rfc5922");
        assert.equal(second?.verification.ok, true);
        assert.equal(second?.verification.method, "dane-ee");
        assert.equal(r.target?.host, world.servers.foB.host);
        assert.deepEqual(sniSince(world, before, "foA"), ["a.fo.test"]);
        assert.deepEqual(sniSince(world, before, "foB"), ["b.fo.test"]);
      },
    );

    await t.test(
      "DANE-TA 2 0 1 (root in the chain) and 2 1 1 (intermediate key), not in the CA set",
      async () => {
        for (const [domain, srvHost] of [
          ["ta201.test", "s.ta201.test"],
          ["ta211.test", "s.ta211.test"],
        ] as const) {
          const r = await check(domain);
          assert.equal(r.ok, true, `${domain}: ${r.detail}`);
          assert.equal(r.method, "dane-ta", domain);
          assert.equal(r.code, "dane-ta-match", domain);
          assert.equal(r.target?.sni, srvHost);
          // no NAPTR in these zones: RFC 3263 §4.1 went straight to _sips._tcp SRV, securely denied NAPTR first
          const naptr = r.steps.find((s) => s.type === "NAPTR");
          assert.equal(naptr?.status, "secure");
          assert.equal(naptr?.answers.length, 0);
        }
      },
    );

    await t.test("DANE-TA match with a leaf that names neither SRV host nor SIP domain fails", async () => {
      const r = await check("tabad.test");
      assert.equal(r.ok, false);
      assert.equal(r.code, "hostname-mismatch");
      assert.equal(r.attempts[0]?.verification.method, "dane-ta");
    });

    await t.test(
      "PKIX-EE 1 1 1 and PKIX-TA 0 0 1 constrain validation to the configured CA set",
      async () => {
        for (const [domain, method] of [
          ["pkixee.test", "pkix-ee"],
          ["pkixta.test", "pkix-ta"],
        ] as const) {
          const r = await check(domain);
          assert.equal(r.ok, true, `${domain}: ${r.detail}`);
          assert.equal(r.method, method, domain);
          assert.equal(r.code, `${method}-match`, domain);
        }
      },
    );

    await t.test("secure sideways jumps (NAPTR and SRV into another signed zone) keep DANE", async () => {
      const before = mark(world);
      const r = await check("side.test");
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.delegation, "secure");
      assert.equal(r.method, "dane-ee");
      assert.equal(r.target?.srvHost, "sip.hosting.test");
      assert.deepEqual(sniSince(world, before, "side"), ["sip.hosting.test"]);
      assert.ok(r.steps.some((s) => s.type === "SRV" && s.name === "_sips._tcp.side.hosting.test"));
    });

    await t.test(
      "a jump into an unsigned zone → insecure → RFC 5922 against the SIP domain, TLSA ignored",
      async () => {
        const before = mark(world);
        const r = await check("jump.test");
        assert.equal(r.ok, true, r.detail);
        assert.equal(r.delegation, "insecure");
        assert.equal(r.method, "rfc5922");
        assert.equal(r.code, "rfc5922-match");
        assert.equal(r.target?.tlsa, undefined, "the decoy TLSA in the unsigned zone is not looked up");
        assert.ok(!r.steps.some((s) => s.type === "TLSA"));
        assert.equal(
          r.steps.find((s) => s.type === "A" && s.name === "sip.unsigned.test")?.status,
          "insecure",
        );
        assert.deepEqual(
          sniSince(world, before, "jump"),
          ["jump.test"],
          "SNI is the SIP domain when insecure",
        );
      },
    );

    await t.test("securely absent TLSA → RFC 5922, SNI still the SRV target", async () => {
      const before = mark(world);
      const r = await check("notlsa.test");
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.delegation, "secure");
      assert.equal(r.method, "rfc5922");
      assert.equal(r.target?.tlsa?.status, "secure");
      assert.equal(r.target?.tlsa?.records.length, 0);
      assert.deepEqual(sniSince(world, before, "notlsa"), ["sip.notlsa.test"]);
    });

    await t.test("a bogus zone is a hard failure: no connection, no fallback", async () => {
      const before = connectionsOf(world);
      for (const domain of ["bogus.test", "badtarget.test"]) {
        const r = await check(domain);
        assert.equal(r.ok, false, domain);
        assert.equal(r.delegation, "bogus", domain);
        assert.equal(r.code, "dns-bogus", domain);
        assert.equal(r.attempts.length, 0, `${domain}: no target is tried`);
        assert.ok(
          r.steps.some((s) => s.status === "bogus"),
          `${domain}: the bogus step is reported`,
        );
      }
      // badtarget.test's second SRV target would verify by RFC 5922; it must not even be contacted.
      assert.deepEqual(connectionsOf(world), before);
    });

    await t.test(
      "an unsigned domain: RFC 5922 passes with the right certificate and fails with another",
      async () => {
        const before = mark(world);
        const pass = await check("plain.test");
        assert.equal(pass.ok, true, pass.detail);
        assert.equal(pass.delegation, "insecure");
        assert.equal(pass.method, "rfc5922");
        assert.deepEqual(sniSince(world, before, "plain"), ["plain.test"]);
        const fail = await check("plainfail.test");
        assert.equal(fail.ok, false);
        assert.equal(fail.code, "rfc5922-no-match");
        assert.equal(fail.attempts[0]?.verification.method, "rfc5922");
        assert.deepEqual(
          fail.attempts[0]?.identities.map((i) => i.value),
          ["elsewhere.test"],
        );
        assert.deepEqual(sniSince(world, before, "plainfail"), ["plainfail.test"]);
      },
    );

    await t.test("a sip: URI reaches the same TLS targets through SIPS NAPTR records", async () => {
      const r = await check("ee.test", "sip");
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.method, "dane-ee");
    });

    await t.test(
      "the client certificate chosen for the destination is presented, and only then",
      async () => {
        const server = world.servers.notlsa;
        const seen = server.clientCertificates.length;
        const credentials = { cert: world.client.certPem, key: world.client.keyPem };
        const withCert = await check("notlsa.test", "sips", credentials);
        assert.equal(withCert.ok, true, withCert.detail);
        const without = await check("notlsa.test");
        assert.equal(without.ok, true, without.detail);
        // The server records a handshake once it completes, which may be just after the client is done.
        await waitFor(() => server.clientCertificates.length >= seen + 2);
        assert.deepEqual(server.clientCertificates.slice(seen), ["edge.client.test", ""]);
      },
    );
  },
);

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
