import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { peerIdentitiesFromChain } from "../../../../src/auth/peer.js";
import {
  inboundTlsAttributes,
  outboundMethod,
  outboundTlsAttributes,
  tlsPeer,
} from "../../../../src/proxy/policy/tls-attributes.js";
import { chainOf, DEVICE_MAPPING, fakeInbound, fakeOutbound, testPki } from "./fixtures.js";

test("inbound: leaf subject, issuer, serial, SHA-256 fingerprint, SAN lists, identities, method", () => {
  const { leafA, fedA } = testPki();
  const c = fakeInbound(chainOf(leafA, fedA), { sni: "edge.example" });
  const tls = inboundTlsAttributes("public", "fed", c);
  assert.equal(tls.listener, "public");
  assert.equal(tls.caSet, "fed");
  assert.equal(tls.sni, "edge.example");
  assert.equal(tls.version, "TLSv1.3");
  assert.equal(tls.cipher, "TLS_AES_256_GCM_SHA384");
  assert.equal(tls.subject, "O=A Telecom, CN=sip.a.example");
  assert.equal(tls.issuer, "C=DE, O=Federation A, CN=Federation A Root");
  // Leading zero octets are not part of the number (RFC 5280 §4.1.2.2 INTEGER).
  assert.equal(tls.serial, "a1b2c3d4");
  assert.equal(tls.fingerprint, createHash("sha256").update(leafA.certificate.raw).digest("hex"));
  assert.deepEqual(tls.san, {
    uri: ["sip:a.example"],
    dns: ["a.example"],
    email: ["ops@a.example"],
    ip: ["192.0.2.7"],
  });
  // RFC 5922 §7.1: the SAN URI gives the domain identity; the DNS SAN does not count next to it.
  assert.deepEqual(tls.identities, ["a.example"]);
  assert.equal(tls.method, "pkix+rfc5922");
});

test("inbound without a client certificate: method none, nothing about a certificate", () => {
  const tls = inboundTlsAttributes("public", undefined, fakeInbound([]));
  assert.equal(tls.method, "none");
  assert.deepEqual(tls.identities, []);
  assert.equal(tls.subject, undefined);
  assert.equal(tls.fingerprint, undefined);
  assert.equal(tls.caSet, undefined);
  assert.deepEqual(tls.san, { uri: [], dns: [], email: [], ip: [] });
  assert.equal(tlsPeer(tls), undefined);
});

test("inbound: a presented but unverified certificate (listener ignores certificates) is not reported", () => {
  const { leafA, fedA } = testPki();
  const c = fakeInbound(chainOf(leafA, fedA));
  c.peer = undefined;
  const tls = inboundTlsAttributes("public", "fed", c);
  assert.equal(tls.method, "none");
  assert.equal(tls.subject, undefined);
});

test("inbound: identities only from the CN mapping → method mapping", () => {
  const { device, fedA } = testPki();
  const tls = inboundTlsAttributes(
    "devices",
    "fed",
    fakeInbound(chainOf(device, fedA), { mapping: DEVICE_MAPPING }),
  );
  assert.equal(tls.method, "mapping");
  assert.deepEqual(tls.identities, ["sip:phone1@devices.example"]);
  assert.equal(tls.subject, "CN=00:11:22:33:44:55");
});

test("inbound: a URI identity keeps its sip: form next to domain identities", () => {
  const { leafB, fedB } = testPki();
  const tls = inboundTlsAttributes("public", "fed", fakeInbound(chainOf(leafB, fedB)));
  assert.deepEqual([...tls.identities].sort(), ["b.example", "sip:bob@b.example"]);
});

test("inbound: computed once per connection, recomputed after a revalidate changed the generation", () => {
  const { leafA, leafB, fedA, fedB } = testPki();
  const c = fakeInbound(chainOf(leafA, fedA));
  const first = inboundTlsAttributes("public", "fed", c);
  assert.equal(inboundTlsAttributes("public", "fed", c), first, "same object while nothing changed");
  assert.ok(Object.isFrozen(first));
  assert.equal(tlsPeer(first), c.peer);
  // A reload re-verified the connection and the peer lost/gained identities.
  c.peer = peerIdentitiesFromChain(chainOf(leafB, fedB));
  c.generation = 2;
  const second = inboundTlsAttributes("public", "fed", c);
  assert.notEqual(second, first);
  assert.deepEqual([...second.identities].sort(), ["b.example", "sip:bob@b.example"]);
  assert.equal(tlsPeer(second), c.peer);
  // A different listener/CA set name (a reload renamed it) is not served from the cache either.
  assert.equal(inboundTlsAttributes("public", "fed-2", c).caSet, "fed-2");
});

test("outbound PKIX + RFC 5922: the certificate's identities; the peer for authorization carries the CAs", () => {
  const { leafB, fedB } = testPki();
  const c = fakeOutbound(chainOf(leafB, fedB), "rfc5922", { domain: "b.example" });
  const tls = outboundTlsAttributes(c);
  assert.equal(tls.method, "pkix+rfc5922");
  assert.equal(tls.listener, undefined);
  assert.equal(tls.sni, "b.example");
  assert.deepEqual([...tls.identities].sort(), ["b.example", "sip:bob@b.example"]);
  assert.equal(tls.issuer, "C=FR, O=Federation B, CN=Federation B Root");
  const peer = tlsPeer(tls);
  assert.ok(peer);
  assert.deepEqual(
    peer.issuers.map((i) => i.fingerprint),
    [createHash("sha256").update(fedB.certificate.raw).digest("hex")],
  );
  assert.equal(outboundTlsAttributes(c), tls, "cached");
  c.generation = 5;
  assert.notEqual(outboundTlsAttributes(c), tls, "a revalidation invalidates the cache");
});

test("outbound DANE: the names verified on the connection, not the certificate's names", () => {
  const { leafB, fedB } = testPki();
  const c = fakeOutbound(chainOf(leafB, fedB), "dane-ee", {
    domain: "b.example",
    srvHost: "sip1.b-hosting.example",
  });
  const tls = outboundTlsAttributes(c);
  assert.equal(tls.method, "dane-ee");
  assert.deepEqual(tls.identities, ["b.example", "sip1.b-hosting.example"]);
  assert.equal(tls.sni, "sip1.b-hosting.example");
  const peer = tlsPeer(tls);
  assert.deepEqual(
    peer?.identities.map((i) => (i.kind === "domain" ? i.domain : i.value)),
    ["b.example", "sip1.b-hosting.example"],
  );
});

test("outbound method mapping: PKIX-TA/EE are PKIX + RFC 5922 (RFC 7671 §4)", () => {
  assert.equal(outboundMethod("dane-ee"), "dane-ee");
  assert.equal(outboundMethod("dane-ta"), "dane-ta");
  assert.equal(outboundMethod("pkix-ta"), "pkix+rfc5922");
  assert.equal(outboundMethod("pkix-ee"), "pkix+rfc5922");
  assert.equal(outboundMethod("rfc5922"), "pkix+rfc5922");
});
