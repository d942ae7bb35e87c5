/**
 * presentedChain returns the certificates in the order the peer sent them, adds nothing from our own CA
 * store, and gives the same answer when asked twice (Node 20 hands the chain out only once).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { presentedChain } from "../../../src/tls/peer-chain.js";

const root = createCa({ cn: "Root" });
const intermediate = issueCertificate(root, {
  cn: "Intermediate",
  basicConstraints: { ca: true, critical: true },
  keyUsage: ["keyCertSign", "cRLSign"],
});
const leaf = issueCertificate(intermediate, { cn: "leaf", san: { dns: ["leaf.example"] } });

async function chainSeenByClient(certPem: string, clientCa: string[]): Promise<string[][]> {
  const server = tls.createServer({ cert: certPem, key: leaf.privateKeyPem }, (s) =>
    s.on("error", () => undefined),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
      servername: "leaf.example",
      rejectUnauthorized: false,
      ca: clientCa,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
    const subjects = [presentedChain(socket), presentedChain(socket)].map((c) => c.map((x) => x.subject));
    socket.destroy();
    return subjects;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test("only what the peer sent, in its order, even when our store holds the issuers", async () => {
  const [first, second] = await chainSeenByClient(leaf.certificatePem, [
    root.certificatePem,
    intermediate.certificatePem,
  ]);
  assert.deepEqual(first, ["CN=leaf"]);
  assert.deepEqual(second, first, "a second call gives the same chain");
});

test("a leaf sent with its intermediate gives both, leaf first, and no root", async () => {
  const [chain] = await chainSeenByClient(leaf.certificatePem + intermediate.certificatePem, [
    root.certificatePem,
  ]);
  assert.deepEqual(chain, ["CN=leaf", "CN=Intermediate"]);
});
