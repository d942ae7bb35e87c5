/**
 * The TLS listener against a real OpenSSL client (`openssl s_client`) on loopback: SNI selection for hosted
 * domains (RFC 6066 §3), each client-certificate mode, protocol versions, and a client CA set per listener
 * (DESIGN.md "hosted" and "bilateral" scenarios; issue 6 §1 and §4).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import type { ClientCertificateMode } from "../../../src/tls/client-verification.js";
import { startHarness, type Harness } from "./listener-harness.js";
import {
  acceptableCaNames,
  killAllSClients,
  runSClient,
  servedSubject,
  type SClientRun,
} from "./openssl-client.js";
import { optionsRequest } from "./sip-text.js";
import { makeTempDir, type TempDir } from "./temp-dir.js";
import { requireTool } from "./tools.js";

requireTool("openssl", ["version"], "openssl");

const serverCa = createCa({ cn: "Hosting CA" });
const alpha = issueCertificate(serverCa, {
  cn: "alpha",
  san: { uri: ["sip:alpha.example"], dns: ["alpha.example"] },
});
const beta = issueCertificate(serverCa, {
  cn: "beta",
  san: { uri: ["sip:beta.example"], dns: ["beta.example"] },
});

const partnerCa = createCa({ cn: "Partner CA" });
const partner = issueCertificate(partnerCa, {
  cn: "partner",
  san: { uri: ["sip:partner.example"] },
  eku: ["clientAuth"],
});
const strangerCa = createCa({ cn: "Stranger CA" });
const stranger = issueCertificate(strangerCa, {
  cn: "stranger",
  san: { uri: ["sip:stranger.example"] },
  eku: ["clientAuth"],
});

let callCounter = 0;

/** One s_client session sending an OPTIONS; ends when the listener saw it or the server closed. */
async function exchange(
  harness: Harness,
  args: readonly string[],
): Promise<{ run: SClientRun; callId: string }> {
  const callId = `call-${++callCounter}`;
  let seenAt: number | undefined;
  const run = await runSClient({
    port: harness.port,
    args,
    input: optionsRequest(callId),
    // Seen by the listener, and its answer printed by s_client (or 2 s passed for listeners that do not
    // answer): s_client closes the connection at end of input, which must not cut the answer off.
    doneWhen: (stdout) => {
      if (!harness.seen.some((s) => s.callId === callId)) return false;
      seenAt ??= Date.now();
      return /SIP\/2\.0 \d{3} /.test(stdout) || Date.now() - seenAt > 2000;
    },
  });
  assert.equal(run.timedOut, false, `s_client ${args.join(" ")} hung:\n${run.stdout}\n${run.stderr}`);
  return { run, callId };
}

function clientArgs(dir: TempDir, client: GeneratedCertificate | undefined, name: string): string[] {
  if (client === undefined) return [];
  const files = dir.writeCredential(name, client);
  return ["-cert", files.cert, "-key", files.key];
}

test("SNI selects each hosted domain's certificate; an unknown or absent name gets the default", async (t) => {
  const dir = makeTempDir("sni");
  const harness = await startHarness({ credentials: [alpha, beta], mode: "ignore" });
  t.after(async () => {
    killAllSClients();
    await harness.close();
    dir.remove();
  });
  const caFile = dir.write("hosting-ca.pem", serverCa.certificatePem);
  const cases: Array<{ sni: string | undefined; served: "alpha" | "beta" }> = [
    { sni: "alpha.example", served: "alpha" },
    { sni: "beta.example", served: "beta" },
    { sni: "BETA.Example", served: "beta" },
    { sni: "gamma.example", served: "alpha" },
    { sni: undefined, served: "alpha" },
  ];
  for (const { sni, served } of cases) {
    // s_client itself checks that the served certificate is valid and names the expected domain.
    const nameArgs = sni === undefined ? ["-noservername"] : ["-servername", sni];
    const { run, callId } = await exchange(harness, [
      ...nameArgs,
      "-verify_hostname",
      `${served}.example`,
      "-CAfile",
      caFile,
      "-verify_return_error",
    ]);
    assert.equal(servedSubject(run), `CN = ${served}`, `SNI ${String(sni)}: ${run.stderr}`);
    const seen = harness.seen.find((s) => s.callId === callId);
    assert.ok(seen, `SNI ${String(sni)}: request delivered`);
    assert.equal(seen.sni, sni, "the listener records the name the client sent");
    assert.match(run.stdout, /SIP\/2\.0 200 OK/, "the answer came back over the same connection");
  }
});

test("client-certificate modes: ignore, optional and required against no, good and wrong-CA certificates", async (t) => {
  const dir = makeTempDir("modes");
  const harnesses = new Map<ClientCertificateMode, Harness>();
  t.after(async () => {
    killAllSClients();
    for (const h of harnesses.values()) await h.close();
    dir.remove();
  });
  for (const mode of ["ignore", "optional", "required"] as const) {
    harnesses.set(mode, await startHarness({ credentials: [alpha], mode, clientCas: [partnerCa] }));
  }
  type Outcome =
    { accepted: true; verification: string; identities: string[] } | { accepted: false; code: string };
  const table: Array<[ClientCertificateMode, "none" | "good" | "wrong-ca", Outcome]> = [
    ["ignore", "none", { accepted: true, verification: "client-cert-ignored", identities: [] }],
    ["ignore", "good", { accepted: true, verification: "client-cert-ignored", identities: [] }],
    ["ignore", "wrong-ca", { accepted: true, verification: "client-cert-ignored", identities: [] }],
    ["optional", "none", { accepted: true, verification: "no-client-cert", identities: [] }],
    [
      "optional",
      "good",
      { accepted: true, verification: "client-verified", identities: ["partner.example"] },
    ],
    ["optional", "wrong-ca", { accepted: false, code: "unknown-issuer" }],
    ["required", "none", { accepted: false, code: "client-cert-required" }],
    [
      "required",
      "good",
      { accepted: true, verification: "client-verified", identities: ["partner.example"] },
    ],
    ["required", "wrong-ca", { accepted: false, code: "unknown-issuer" }],
  ];
  const certs = { none: undefined, good: partner, "wrong-ca": stranger };
  for (const [mode, offered, outcome] of table) {
    const harness = harnesses.get(mode);
    assert.ok(harness);
    const label = `${mode}/${offered}`;
    const refusedBefore = outcome.accepted ? 0 : harness.listener.counters.get(`tls.client.${outcome.code}`);
    const { run, callId } = await exchange(harness, [
      "-servername",
      "alpha.example",
      ...clientArgs(dir, certs[offered], offered),
    ]);
    const seen = harness.seen.find((s) => s.callId === callId);
    if (outcome.accepted) {
      assert.ok(seen, `${label}: accepted and the request delivered (${run.stderr})`);
      assert.equal(seen.verification, outcome.verification, label);
      assert.deepEqual(seen.identities, outcome.identities, `${label}: identities from the certificate`);
    } else {
      assert.equal(seen, undefined, `${label}: nothing delivered from a refused peer`);
      assert.equal(harness.listener.counters.get(`tls.client.${outcome.code}`), refusedBefore + 1, label);
      assert.doesNotMatch(run.stdout, /SIP\/2\.0 200 OK/, `${label}: no answer`);
    }
    // RFC 5246 §7.4.4 / RFC 8446 §4.3.2: a listener that verifies clients names its CA set in the request.
    const expectedNames = mode === "ignore" ? [] : ["CN = Partner CA"];
    assert.deepEqual(acceptableCaNames(run), expectedNames, `${label}: CertificateRequest CA names`);
  }
});

test("TLS 1.1 is refused with a protocol_version alert; TLS 1.2 and TLS 1.3 are accepted", async (t) => {
  const harness = await startHarness({ credentials: [alpha], mode: "optional", clientCas: [partnerCa] });
  t.after(async () => {
    killAllSClients();
    await harness.close();
  });
  // SECLEVEL=0 lets this OpenSSL client offer TLS 1.1 at all: the refusal must come from the listener.
  const old = await exchange(harness, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
  assert.match(old.run.stderr, /alert protocol version/, "the server answered with alert 70");
  assert.equal(harness.listener.counters.get("tls.handshake-failed"), 1);
  assert.equal(harness.seen.length, 0);
  for (const [flag, version] of [
    ["-tls1_2", "TLSv1.2"],
    ["-tls1_3", "TLSv1.3"],
  ] as const) {
    const { run, callId } = await exchange(harness, [flag, "-servername", "alpha.example"]);
    const seen = harness.seen.find((s) => s.callId === callId);
    assert.equal(seen?.tlsVersion, version, `${flag}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`Protocol\\s*: ${version.replace(".", "\\.")}`));
  }
});

test("each listener verifies clients against its own CA set: good for A is refused by B", async (t) => {
  const dir = makeTempDir("ca-sets");
  const caA = createCa({ cn: "Federation A CA" });
  const caB = createCa({ cn: "Federation B CA" });
  const peerA = issueCertificate(caA, { cn: "a", san: { uri: ["sip:a.example"] }, eku: ["clientAuth"] });
  const peerB = issueCertificate(caB, { cn: "b", san: { uri: ["sip:b.example"] }, eku: ["clientAuth"] });
  const listenerA = await startHarness({ credentials: [alpha], mode: "required", clientCas: [caA] });
  const listenerB = await startHarness({ credentials: [alpha], mode: "required", clientCas: [caB] });
  t.after(async () => {
    killAllSClients();
    await listenerA.close();
    await listenerB.close();
    dir.remove();
  });
  const matrix: Array<[Harness, string, GeneratedCertificate, string, string | undefined]> = [
    [listenerA, "A", peerA, "peerA", "a.example"],
    [listenerA, "A", peerB, "peerB", undefined],
    [listenerB, "B", peerB, "peerB", "b.example"],
    [listenerB, "B", peerA, "peerA", undefined],
  ];
  for (const [harness, name, client, clientName, identity] of matrix) {
    const label = `${clientName} → listener ${name}`;
    const refusedBefore = harness.listener.counters.get("tls.client.unknown-issuer");
    const { run, callId } = await exchange(harness, clientArgs(dir, client, clientName));
    assert.deepEqual(acceptableCaNames(run), [`CN = Federation ${name} CA`], `${label}: CA names sent`);
    const seen = harness.seen.find((s) => s.callId === callId);
    if (identity === undefined) {
      assert.equal(seen, undefined, `${label}: refused`);
      assert.equal(harness.listener.counters.get("tls.client.unknown-issuer"), refusedBefore + 1, label);
    } else {
      assert.deepEqual(seen?.identities, [identity], `${label}: accepted with its identity`);
    }
  }
});
