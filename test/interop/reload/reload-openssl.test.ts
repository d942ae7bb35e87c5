/**
 * Reload seen by a real TLS peer, `openssl s_client` (issue 6 §4): after a good reload new handshakes get the
 * new server certificate and the new client CA list; after a bad reload they still get the old ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { World, clients } from "../../unit/transport/edge-world.js";

/** One handshake by s_client (stdin closed, so it leaves after the handshake), bounded in time. */
function sClient(w: World): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      [
        "s_client",
        "-connect",
        `127.0.0.1:${w.port}`,
        "-servername",
        "edge.example",
        "-cert",
        join(w.dir, "alice.pem"),
        "-key",
        join(w.dir, "alice.key"),
      ],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err && !stdout.includes("CONNECTED")) reject(new Error(`s_client: ${err.message} ${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end();
  });
}

const servedCn = (out: string) => /subject=\s*CN\s*=\s*([\w-]+)/.exec(out)?.[1];
const caNames = (out: string) =>
  [...(out.split("Acceptable client certificate CA names")[1] ?? "").matchAll(/CN\s*=\s*([\w ]+CA \w)/g)]
    .map((m) => m[1])
    .sort();

test("s_client sees the certificate and client CA list swap on reload, and not on a bad one", async (t) => {
  const w = new World();
  t.after(() => w.stop());
  await w.start({ onReload: "revalidate" });
  w.write("alice.pem", clients.alice.certificatePem);
  w.write("alice.key", clients.alice.privateKeyPem);

  const before = await sClient(w);
  assert.equal(servedCn(before), "edge-v1");
  assert.deepEqual(caNames(before), ["Edge CA A", "Partner CA B"]);

  const good = w.reconfigure({
    serverCert: "pki/server-v2.pem",
    serverKey: "pki/server-v2.key",
    caFiles: ["pki/ca-a.pem"],
  });
  assert.equal(good.ok, true);
  const after = await sClient(w);
  assert.equal(servedCn(after), "edge-v2");
  assert.deepEqual(caNames(after), ["Edge CA A"]);

  w.write("pki/server-v2.key", "not a key");
  const bad = w.reconfigure({ caFiles: ["pki/ca-a.pem", "pki/ca-b.pem"] });
  assert.equal(bad.ok, false);
  const still = await sClient(w);
  assert.equal(servedCn(still), "edge-v2");
  assert.deepEqual(caNames(still), ["Edge CA A"], "the refused reload changed nothing");
});
