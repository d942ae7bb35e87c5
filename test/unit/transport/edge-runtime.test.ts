/**
 * The TLS edge across reloads (issue 6 §3, §4): a real listener on loopback, configuration files in a temp
 * folder rewritten between reloads. A good reload swaps certificates and trust for new handshakes at once;
 * a bad one (each kind of broken file) is refused with every problem listed while the old configuration
 * keeps serving; `revalidate`, `drop` and `keep` treat existing connections as documented.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { installReloadSignal } from "../../../src/transport/edge-runtime.js";
import { makeCrl } from "../pki/chain-fixtures.js";
import {
  caA,
  caB,
  closed,
  clients,
  crlOf,
  servedCn,
  tlsConnect,
  until,
  World,
  yamlOf,
} from "./edge-world.js";

async function world(t: { after: (fn: () => Promise<void>) => void }, overrides = {}): Promise<World> {
  const w = new World();
  t.after(() => w.stop());
  await w.start(overrides);
  return w;
}

test("a good reload swaps the server certificate for new handshakes; `keep` leaves old connections", async (t) => {
  const w = await world(t, { onReload: "keep" });
  const old = await w.connect("alice");
  assert.equal(old.served, "edge-v1");
  assert.equal(w.edge.generation, 1);

  const result = w.reconfigure({ serverCert: "pki/server-v2.pem", serverKey: "pki/server-v2.key" });
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.generation, 2);
  assert.equal(w.edge.generation, 2);
  assert.equal(await servedCn(w.port, "edge.example"), "edge-v2", "SNI handshake");
  assert.equal(await servedCn(w.port, undefined), "edge-v2", "handshake without SNI (default context)");
  const fresh = await w.connect("alice");
  assert.equal(w.generationOf(fresh.id), 2);

  assert.equal(old.socket.destroyed, false, "keep: the old connection stays");
  assert.equal(w.generationOf(old.id), 1, "and remembers the generation it was verified under");
  assert.equal(w.edge.counters.get("reload.ok"), 1);
  old.socket.destroy();
  fresh.socket.destroy();
});

/** Each kind of broken configuration, applied on top of the good world. */
const BROKEN: Array<{
  name: string;
  breakIt: (w: World) => ReturnType<World["reconfigure"]>;
  expect: Array<{ key?: RegExp; message: RegExp }>;
}> = [
  {
    name: "missing certificate file",
    breakIt: (w) => w.reconfigure({ serverCert: "pki/nowhere.pem" }),
    expect: [
      { key: /^listeners\[0\]\.certificates\[0\]\.cert$/, message: /cannot read .*nowhere\.pem: ENOENT/ },
    ],
  },
  {
    name: "garbage certificate",
    breakIt: (w) => {
      w.write(
        "pki/server-v1.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
      );
      return w.edge.reload();
    },
    expect: [{ key: /^listeners\[0\]\.certificates\[0\]\.cert$/, message: /server-v1\.pem/ }],
  },
  {
    name: "key that does not match the certificate",
    breakIt: (w) => w.reconfigure({ serverKey: "pki/server-v2.key" }),
    expect: [{ key: /^listeners\[0\]\.certificates\[0\]\.key$/, message: /does not match/ }],
  },
  {
    name: "bad CRL",
    breakIt: (w) => {
      w.write("pki/ca-a.crl", Buffer.from("30030201", "hex"));
      return w.edge.reload();
    },
    expect: [{ key: /^caSets\.clients\.crls\[0\]$/, message: /ca-a\.crl/ }],
  },
  {
    name: "CRL that is not signed by the CA it names",
    breakIt: (w) => {
      w.write("pki/ca-a.crl", makeCrl(caA, { signer: caB.privateKey }));
      return w.edge.reload();
    },
    expect: [{ key: /^caSets\.clients\.crls\[0\]$/, message: /not signed by the CA it names/ }],
  },
  {
    name: "bad CN mapping line",
    breakIt: (w) => {
      w.write("devices.map", "phone-0011223344\tphone1@devices.example\nno tab on this line\n");
      return w.edge.reload();
    },
    expect: [{ message: /TAB/ }],
  },
  {
    name: "schema error",
    breakIt: (w) => w.reconfigure({ onReload: "sometimes" as "keep" }),
    expect: [{ key: /^connections\.onReload$/, message: /keep|drop|revalidate|Invalid enum/ }],
  },
  {
    name: "several broken files at once: every problem is listed",
    breakIt: (w) => {
      w.write("devices.map", "only-a-cn\n");
      return w.reconfigure({ serverKey: "pki/server-v2.key", crls: ["pki/ca-a.crl", "pki/missing.crl"] });
    },
    expect: [{ message: /does not match/ }, { message: /missing\.crl/ }, { message: /TAB/ }],
  },
  {
    name: "a changed listener port (a reload does not re-bind)",
    breakIt: (w) => w.reconfigure({ port: w.port === 65535 ? 65534 : w.port + 1 }),
    expect: [{ key: /^listeners\[0\]\.port$/, message: /cannot re-bind .*restart/ }],
  },
];

for (const c of BROKEN) {
  test(`a reload with a ${c.name} is refused and the old configuration keeps serving`, async (t) => {
    const w = await world(t);
    const before = await w.connect("alice");
    const result = c.breakIt(w);
    assert.equal(result.ok, false, "refused");
    if (result.ok) return;
    assert.equal(result.code, "bad-config");
    assert.equal(result.generation, 1);
    for (const e of c.expect) {
      assert.ok(
        result.problems.some((p) => (!e.key || e.key.test(p.key)) && e.message.test(p.message)),
        `expected a problem ${e.key ?? ""} ${e.message} in ${JSON.stringify(result.problems, null, 1)}`,
      );
    }
    assert.ok(result.problems.every((p) => p.file.length > 0 && p.line >= 0));
    assert.equal(w.edge.generation, 1);
    assert.equal(w.store.failedReloads, 1);
    assert.equal(w.edge.counters.get("reload.refused"), 1);
    // The old generation still serves: old certificate, old trust (bob's CA B is still accepted).
    assert.equal(await servedCn(w.port, "edge.example"), "edge-v1");
    assert.equal(await servedCn(w.port, undefined), "edge-v1");
    const bob = await w.connect("bob");
    assert.equal(w.generationOf(bob.id), 1);
    assert.equal(before.socket.destroyed, false, "existing connections untouched");
    before.socket.destroy();
    bob.socket.destroy();
  });
}

test("a reload whose certificates claim one SNI name twice is refused by the edge with the key", async (t) => {
  const w = await world(t);
  w.write(
    "edge.yaml",
    yamlOf(w.config).replace(
      "      - { cert: pki/server-v1.pem, key: pki/server-v1.key }",
      "      - { cert: pki/server-v1.pem, key: pki/server-v1.key }\n      - { cert: pki/server-v2.pem, key: pki/server-v2.key }",
    ),
  );
  const result = w.edge.reload();
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.match(result.problems[0]?.message ?? "", /served by two certificates/);
  assert.equal(result.problems[0]?.key, "listeners[0].certificates");
  assert.ok((result.problems[0]?.line ?? 0) > 0, "with the line of the key");
  assert.equal(await servedCn(w.port, "edge.example"), "edge-v1");
});

test("`revalidate` closes exactly the connections whose peers lost trust", async (t) => {
  const w = await world(t);
  const alice = await w.connect("alice");
  const carol = await w.connect("carol");
  const bob = await w.connect("bob");
  const phone = await w.connect("phone");
  const anonymous = await w.connect();
  const phoneIds = w.edge.connections().find((c) => c.connection.id === phone.id)?.connection
    .peer?.identities;
  // RFC 5922 §7.1: with no SAN at all the CN is a domain identity; the mapping adds the device's SIP URI.
  assert.deepEqual(
    phoneIds?.map((i) => (i.kind === "uri" ? `${i.uri.user}@${i.uri.host}` : i.domain)),
    ["phone-0011223344", "phone1@devices.example"],
  );

  // New trust: CA B removed, carol revoked by a new CRL, the phone's mapping line gone.
  w.write("pki/ca-a.crl", crlOf(caA, [clients.carol]));
  w.write("devices.map", "# no devices any more\n");
  const result = w.reconfigure({ caFiles: ["pki/ca-a.pem"] });
  assert.equal(result.ok, true, JSON.stringify(result));
  if (!result.ok) return;
  const closedById = new Map(result.connections.closed.map((c) => [c.id, c.code]));
  assert.deepEqual(
    new Map([
      [carol.id, "revoked"],
      [bob.id, "unknown-issuer"],
      [phone.id, "identities-lost"],
    ]),
    closedById,
  );
  assert.equal(result.connections.kept, 2);
  await Promise.all([closed(carol.socket), closed(bob.socket), closed(phone.socket)]);
  await until(() => w.edge.connections().length === 2);
  assert.equal(alice.socket.destroyed, false);
  assert.equal(anonymous.socket.destroyed, false);
  assert.equal(w.generationOf(alice.id), 2, "survivors were re-verified under the new generation");
  assert.equal(w.edge.counters.get("reload.revalidate.revoked"), 1);
  // New handshakes see the new trust too.
  const again = await tlsConnect(w.port, "carol", "edge.example");
  await closed(again);
  assert.ok(w.edge.counters.get("tls.client.revoked") >= 1);
  alice.socket.destroy();
  anonymous.socket.destroy();
});

test("`revalidate` keeps a mapped peer whose mapping only grew, with the new identities", async (t) => {
  const w = await world(t);
  const phone = await w.connect("phone");
  const identitiesOf = () =>
    w.edge.connections().find((c) => c.connection.id === phone.id)?.connection.peer?.identities ?? [];
  const before = identitiesOf().length;
  w.write("devices.map", "phone-0011223344\tphone1@devices.example,devices.example\n");
  const result = w.edge.reload();
  assert.equal(result.ok, true);
  assert.equal(identitiesOf().length, before + 1);
  assert.equal(w.generationOf(phone.id), 2);
  assert.equal(phone.socket.destroyed, false);
  phone.socket.destroy();
});

test("`drop` closes every connection, `keep` none, whatever the new trust", async () => {
  for (const policy of ["drop", "keep"] as const) {
    const w = new World();
    try {
      await w.start({ onReload: policy });
      const alice = await w.connect("alice");
      const bob = await w.connect("bob");
      const result = w.reconfigure({ caFiles: ["pki/ca-a.pem"] });
      assert.equal(result.ok, true);
      if (!result.ok) return;
      assert.equal(result.connections.policy, policy);
      if (policy === "drop") {
        assert.equal(result.connections.closed.length, 2);
        await Promise.all([closed(alice.socket), closed(bob.socket)]);
        await until(() => w.edge.connections().length === 0);
      } else {
        assert.deepEqual(result.connections.closed, []);
        assert.equal(result.connections.kept, 2);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(w.edge.connections().length, 2);
        assert.equal(w.generationOf(bob.id), 1, "kept under the generation that verified it");
      }
      alice.socket.destroy();
      bob.socket.destroy();
    } finally {
      await w.stop();
    }
  }
});

test("crlPolicy: `require` rejects a client whose issuer has no CRL; `when-present` accepts it", async (t) => {
  const w = await world(t, { crlPolicy: "require" });
  const bob = await tlsConnect(w.port, "bob", "edge.example");
  await closed(bob);
  assert.equal(w.edge.counters.get("tls.client.crl-missing"), 1);
  (await w.connect("alice")).socket.destroy();
  const result = w.reconfigure({ crlPolicy: "when-present" });
  assert.equal(result.ok, true);
  (await w.connect("bob")).socket.destroy();
});

test("a client certificate mode change applies to new handshakes: `required` refuses anonymous clients", async (t) => {
  const w = await world(t, { onReload: "keep" });
  const result = w.reconfigure({ clientCertificates: "required" });
  assert.equal(result.ok, true);
  const anonymous = await tlsConnect(w.port, undefined, "edge.example").catch(() => undefined);
  if (anonymous) await closed(anonymous);
  await until(() => w.edge.counters.get("tls.client.client-cert-required") === 1);
  (await w.connect("alice")).socket.destroy();
});

test("installReloadSignal: SIGHUP reloads the edge; a refused reload is reported, not thrown", async (t) => {
  const w = await world(t);
  const results: Array<{ ok: boolean; generation: number }> = [];
  const remove = installReloadSignal(w.edge, { onResult: (r) => results.push(r) });
  t.after(() => remove());
  w.writeConfig({ ...w.config, serverCert: "pki/server-v2.pem", serverKey: "pki/server-v2.key" });
  process.kill(process.pid, "SIGHUP");
  await until(() => results.length === 1);
  assert.deepEqual(results[0] && { ok: results[0].ok, generation: results[0].generation }, {
    ok: true,
    generation: 2,
  });
  assert.equal(await servedCn(w.port, "edge.example"), "edge-v2");
  w.write("pki/server-v2.key", "garbage");
  process.kill(process.pid, "SIGHUP");
  await until(() => results.length === 2);
  assert.equal(results[1]?.ok, false);
  assert.equal(await servedCn(w.port, "edge.example"), "edge-v2");
  remove();
  assert.equal(process.listenerCount("SIGHUP"), 0, "the handler is removed");
});

test("without installReloadSignal a SIGHUP is not swallowed (child process dies of it)", async () => {
  // Guards the test above: the handler, not some default, is what kept this process alive.
  const child = spawn(process.execPath, [
    "-e",
    "setTimeout(() => {}, 5000); process.kill(process.pid, 'SIGHUP')",
  ]);
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_c, s) => resolve(s)),
  );
  assert.equal(signal, "SIGHUP");
});
