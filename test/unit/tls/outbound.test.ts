/**
 * verifyOutbound end to end over real TLS on loopback, with a hand-made resolver: the rules that decide
 * which name is checked and which SNI is sent must fail a unit test when broken, not only an interop test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { tlsaAssociationData } from "../../../src/pki/tlsa-data.js";
import {
  verifyOutbound,
  type LocatedTarget,
  type Location,
  type OutboundResolver,
  type TlsaLookup,
} from "../../../src/tls/outbound.js";

const ca = createCa({ cn: "Outbound unit CA" });
const anchors = [{ cert: new X509Certificate(ca.certificatePem) }];
const DOMAIN = "example.com";

interface TestServer {
  readonly port: number;
  readonly snis: Array<string | false>;
  close(): Promise<void>;
}

async function serve(cert: GeneratedCertificate, address = "127.0.0.1"): Promise<TestServer> {
  const snis: Array<string | false> = [];
  const open = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: cert.certificatePem, key: cert.privateKeyPem }, (s) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    s.on("error", () => undefined);
  });
  server.on("secureConnection", (s: tls.TLSSocket & { servername?: string | false }) =>
    snis.push(s.servername ?? false),
  );
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    snis,
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function resolver(
  targets: LocatedTarget[],
  delegation: Location["delegation"],
  tlsa: Record<string, TlsaLookup> = {},
): OutboundResolver {
  return {
    locate: async () => ({ delegation, targets, steps: [] }),
    lookupTlsa: async (port, host) => tlsa[`${port} ${host}`] ?? { status: "secure", records: [], steps: [] },
  };
}

test("under an insecure delegation only the SIP domain is a reference identifier, never the SRV host (RFC 5922 §7.2)", async (t) => {
  // An attacker who spoofs the unsigned SRV record points it at a host it has a valid certificate for.
  const attacker = issueCertificate(ca, {
    cn: "srv.attacker.example",
    san: { uri: ["sip:srv.attacker.example"], dns: ["srv.attacker.example"] },
  });
  const server = await serve(attacker);
  t.after(() => server.close());
  const result = await verifyOutbound(
    `sips:alice@${DOMAIN}`,
    { scheme: "sips", host: DOMAIN },
    {
      resolver: resolver(
        [
          {
            address: "127.0.0.1",
            port: server.port,
            transport: "tls",
            srvHost: "srv.attacker.example",
            delegation: "insecure",
          },
        ],
        "insecure",
      ),
      anchors,
    },
  );
  assert.equal(result.ok, false);
  assert.equal(result.code, "rfc5922-no-match");
  assert.deepEqual(server.snis, [DOMAIN], "SNI is the SIP domain under an insecure delegation");
});

test("each target keeps its own delegation: a secure target next to an insecure sibling still uses DANE", async (t) => {
  // The certificate names neither the domain nor the host: only DANE-EE (3 1 1) can accept it.
  const daneOnly = issueCertificate(createCa({ cn: "Unknown CA" }), { cn: "dane-only" });
  const unsignedSibling = issueCertificate(ca, { cn: "wrong", san: { uri: ["sip:wrong.example"] } });
  const first = await serve(unsignedSibling);
  const second = await serve(daneOnly);
  t.after(() => Promise.all([first.close(), second.close()]));
  const record = {
    usage: 3,
    selector: 1,
    matchingType: 1,
    data: tlsaAssociationData(daneOnly.certificate, 1, 1),
  };
  const result = await verifyOutbound(
    `sips:alice@${DOMAIN}`,
    { scheme: "sips", host: DOMAIN },
    {
      resolver: resolver(
        [
          {
            address: "127.0.0.1",
            port: first.port,
            transport: "tls",
            srvHost: "a.unsigned.example",
            delegation: "insecure",
          },
          {
            address: "127.0.0.1",
            port: second.port,
            transport: "tls",
            srvHost: "b.signed.example",
            delegation: "secure",
          },
        ],
        "insecure",
        { [`${second.port} b.signed.example`]: { status: "secure", records: [record], steps: [] } },
      ),
      anchors,
    },
  );
  assert.equal(result.ok, true, result.detail);
  assert.equal(result.method, "dane-ee");
  assert.equal(result.attempts.length, 2, "failed over from the first target");
  assert.equal(result.attempts[0]?.verification.code, "rfc5922-no-match");
  assert.deepEqual(first.snis, [DOMAIN]);
  assert.deepEqual(
    second.snis,
    ["b.signed.example"],
    "SNI is the SRV target under a secure delegation (RFC 7673)",
  );
});

test("an IP-literal destination is contacted without SNI (RFC 6066 §3)", async (t) => {
  const ipCert = issueCertificate(ca, { cn: "ip", san: { ip: ["127.0.0.1"] } });
  const server = await serve(ipCert);
  t.after(() => server.close());
  const result = await verifyOutbound(
    "sips:127.0.0.1",
    { scheme: "sips", host: "127.0.0.1" },
    {
      resolver: resolver(
        [{ address: "127.0.0.1", port: server.port, transport: "tls", delegation: "insecure" }],
        "insecure",
      ),
      anchors,
    },
  );
  assert.deepEqual(server.snis, [false]);
  assert.equal(result.ok, false, "an IP literal never matches a SIP domain identity");
  assert.equal(result.code, "ip-literal");
});
