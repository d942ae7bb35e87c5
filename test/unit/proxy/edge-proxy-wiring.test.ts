/**
 * The wiring pieces on their own: which names and addresses the core is told are "us", and the registry
 * that maps flow ids to open inbound connections (flow-token routing) without growing with closed ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { localInterfaces } from "../../../src/proxy/wiring/local-interfaces.js";
import { InboundFlows } from "../../../src/proxy/wiring/inbound-flows.js";
import type { InboundConnection } from "../../../src/transport/tls-listener.js";

test("local interfaces: outside from the first listener unless configured, IPv6 in brackets, certificate names", () => {
  const ca = createCa();
  const cert = issueCertificate(ca, {
    cn: "edge",
    san: { uri: ["sip:Edge.Example.COM"], dns: ["*.wild.example"] },
  }).certificate;
  const li = localInterfaces({
    listeners: [
      { address: "::1", port: 5061 },
      { address: "127.0.0.1", port: 5062 },
    ],
    inside: { address: "127.0.0.1", port: 5080, transport: "udp" },
    certificates: [{ chain: [cert] }, { chain: [cert], serverNames: ["sip.hoster.example"] }],
    extraNames: ["LocalHost"],
  });
  assert.deepEqual(li.outside, { host: "[::1]", port: 5061 });
  assert.deepEqual(li.inside, { host: "127.0.0.1", port: 5080, transport: "udp" });
  for (const name of ["[::1]", "127.0.0.1", "edge.example.com", "sip.hoster.example", "localhost"]) {
    assert.ok(li.localNames.includes(name), `${name} in ${li.localNames.join(", ")}`);
  }
  assert.ok(!li.localNames.some((n) => n.includes("*")), "wildcards never name us");
  const configured = localInterfaces({
    outsideHost: "sip.example.net",
    outsidePort: 5071,
    listeners: [{ address: "0.0.0.0", port: 5061 }],
    inside: { address: "10.0.0.2", port: 5080, transport: "tcp" },
    certificates: [],
  });
  assert.deepEqual(configured.outside, { host: "sip.example.net", port: 5071 });
  assert.ok(configured.localNames.includes("sip.example.net"));
  const wildcard = localInterfaces({
    listeners: [{ address: "0.0.0.0", port: 5061 }],
    inside: { address: "10.0.0.2", port: 5080, transport: "udp" },
    certificates: [{ chain: [cert] }],
  });
  assert.equal(
    wildcard.outside.host,
    "edge.example.com",
    "an unspecified listener address is never advertised",
  );
});

function connection(id: number): InboundConnection {
  return {
    id,
    remoteAddress: "127.0.0.1",
    remotePort: 40000 + id,
    sni: undefined,
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_128_GCM_SHA256",
    chain: [],
    peer: undefined,
    verification: { ok: true, code: "no-client-cert" } as unknown as InboundConnection["verification"],
    generation: 1,
    send: () => true,
    close: () => undefined,
  };
}

test("inbound flows: one flow per connection, found by id while open, forgotten once closed", () => {
  const open = new Set<InboundConnection>();
  const flows = new InboundFlows({
    names: () => ["a", "b"],
    connectionsOf: (name) => (name === "b" ? open : new Set()),
    caSetOf: () => "dev",
  });
  const c1 = connection(1);
  open.add(c1);
  const flow = flows.flowFor(c1);
  assert.equal(flow.id, "in:b:1");
  assert.equal(flow.side, "outside");
  assert.equal(flows.flowFor(c1), flow, "the same Flow object for every message of a connection");
  assert.equal(flows.flowById("in:b:1"), flow);
  open.delete(c1);
  assert.equal(flows.flowById("in:b:1"), undefined, "a closed connection is not a route");
  // Many short-lived connections: the registry is pruned as it grows, never holding all of them.
  for (let i = 2; i < 2000; i++) {
    const c = connection(i);
    open.add(c);
    flows.flowFor(c);
    open.delete(c);
  }
  assert.ok(flows.size < 200, `registry holds ${flows.size} flows`);
});
