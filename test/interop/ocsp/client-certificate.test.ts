// Inbound: a TLS server checks the client certificate it was shown by asking the real openssl responder
// (client certificates carry no staple), under hard-fail and soft-fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { checkOcsp, type OcspCheckResult, type OcspPolicyMode } from "../../../src/tls/ocsp-policy.js";
import { startOcspLab, type LeafName } from "./ocsp-lab.js";

test("client certificates are checked against the responder by policy", { timeout: 60_000 }, async (t) => {
  const lab = await startOcspLab();
  t.after(() => lab.stop());
  let mode: OcspPolicyMode = "hard-fail";
  const verdicts: OcspCheckResult[] = [];
  const server = tls.createServer(
    {
      cert: lab.leaves.serverGood.certificatePem,
      key: lab.leaves.serverGood.privateKeyPem,
      ca: [lab.ca.certificatePem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      if (!peer) {
        socket.destroy();
        return;
      }
      void checkOcsp({ cert: peer, issuer: lab.ca.certificate, mode, timeoutMs: 8000 }).then((v) => {
        verdicts.push(v);
        // what an edge does with the verdict: keep the connection only when accepted
        if (v.ok) socket.end("accepted\n");
        else socket.destroy();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const connectAs = (leaf: LeafName) =>
    new Promise<string>((resolve) => {
      const g = lab.leaves[leaf];
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        cert: g.certificatePem,
        key: g.privateKeyPem,
        rejectUnauthorized: false,
        servername: "server-good.example.com",
      });
      let data = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => (data += d));
      socket.on("close", () => resolve(data));
      socket.on("error", () => undefined);
      socket.setTimeout(15_000, () => socket.destroy());
    });

  const cases: Array<[OcspPolicyMode, LeafName, string, string]> = [
    ["hard-fail", "good", "ocsp-good", "accepted\n"],
    ["hard-fail", "revoked", "ocsp-revoked", ""],
    ["hard-fail", "unreachable", "ocsp-unreachable", ""],
    ["soft-fail", "unreachable", "ocsp-soft-fail", "accepted\n"],
    ["soft-fail", "unknown", "ocsp-unknown", ""],
  ];
  for (const [m, leaf, code, received] of cases) {
    mode = m;
    const count = verdicts.length;
    const got = await connectAs(leaf);
    assert.equal(verdicts.length, count + 1, `${m}/${leaf}: one check per connection`);
    assert.equal(verdicts[count]?.code, code, `${m}/${leaf}: ${JSON.stringify(verdicts[count])}`);
    assert.equal(got, received, `${m}/${leaf}: connection kept only when accepted`);
  }
});
