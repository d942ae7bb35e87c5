import { test } from "node:test";
import assert from "node:assert/strict";
import { peerIdentitiesFromParts } from "../../../../src/auth/peer.js";
import type { InboundConnection } from "../../../../src/transport/tls-listener.js";
import type { OutboundConnection } from "../../../../src/transport/outbound-connections.js";
import {
  formatPeer,
  inboundConnectionView,
  outboundConnectionView,
} from "../../../../src/proxy/admin/connection-view.js";

const notUsed = (): never => {
  throw new Error("the view must not touch the socket");
};

test("inbound view: flow id, peer, age, verified identities, listener", () => {
  const peer = peerIdentitiesFromParts({
    certificateIdentities: [
      { kind: "domain", value: "peer-a.example", source: "san-dns" },
      { kind: "uri", value: "sip:alice@peer-a.example", source: "san-uri" },
    ],
    subjectCns: ["peer-a"],
    issuers: [],
  });
  const connection = {
    id: 7,
    remoteAddress: "::1",
    remotePort: 40001,
    sni: "edge.example.com",
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_256_GCM_SHA384",
    chain: [],
    peer,
    verification: { ok: true, code: "client-verified", peer, chain: [] },
    generation: 3,
    send: notUsed,
    close: notUsed,
  } as unknown as InboundConnection;
  const view = inboundConnectionView("public", connection, {
    openedAt: 1_000,
    now: 76_900,
    activeTransactions: 2,
  });
  assert.deepEqual(view, {
    direction: "inbound",
    id: "in:public:7",
    listener: "public",
    peer: "[::1]:40001",
    ageSeconds: 75,
    generation: 3,
    state: "open",
    sni: "edge.example.com",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
    verification: { code: "client-verified" },
    identities: ["peer-a.example", "sip:alice@peer-a.example"],
    aliases: [],
    activeTransactions: 2,
  });
  const anonymous = inboundConnectionView(
    "public",
    { ...connection, peer: undefined, sni: undefined, verification: { ok: true, code: "no-client-cert" } },
    { openedAt: 5_000, now: 1_000 },
  );
  assert.deepEqual(anonymous.identities, []);
  assert.equal(anonymous.sni, undefined);
  assert.equal(anonymous.ageSeconds, 0, "a clock step backwards never shows a negative age");
});

test("outbound view: domain, trust method, aliases (verified names only) and the client certificate", () => {
  const connection = {
    id: 4,
    domain: "federation.example",
    remoteAddress: "127.0.0.5",
    remotePort: 5061,
    sni: "sip.federation.example",
    delegation: "secure",
    method: "dane-ee",
    verificationCode: "dane-ee-match",
    tlsVersion: "TLSv1.3",
    cipher: "TLS_AES_128_GCM_SHA256",
    chain: [],
    identities: [{ kind: "domain", value: "federation.example", source: "san-dns" }],
    clientCredential: { name: "federation-client", fingerprint: "ab".repeat(32) },
    state: "draining",
    generation: 2,
    verifiedNames: new Set(["sip.federation.example", "federation.example"]),
    activeTransactions: 1,
    send: notUsed,
    beginTransaction: notUsed,
    endTransaction: notUsed,
  } as unknown as OutboundConnection;
  assert.deepEqual(outboundConnectionView(connection, { openedAt: 0, now: 3_700_000 }), {
    direction: "outbound",
    id: "out:4",
    domain: "federation.example",
    peer: "127.0.0.5:5061",
    ageSeconds: 3700,
    generation: 2,
    state: "draining",
    sni: "sip.federation.example",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" },
    verification: { code: "dane-ee-match", method: "dane-ee" },
    identities: ["federation.example"],
    aliases: ["federation.example", "sip.federation.example"],
    clientCertificate: { name: "federation-client", fingerprint: "ab".repeat(32) },
    activeTransactions: 1,
  });
  const bare = outboundConnectionView(
    { ...connection, sni: null, clientCredential: undefined } as unknown as OutboundConnection,
    { openedAt: 0, now: 0 },
  );
  assert.equal(bare.sni, undefined);
  assert.equal("clientCertificate" in bare, false);
});

test("formatPeer brackets IPv6 only", () => {
  assert.equal(formatPeer("192.0.2.1", 5061), "192.0.2.1:5061");
  assert.equal(formatPeer("2001:db8::1", 5061), "[2001:db8::1]:5061");
});
