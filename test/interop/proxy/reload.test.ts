/**
 * Reload under load (issue 7 §4): 200 calls, each held for a moment, run through the daemon while it reloads its
 * configuration twice — by SIGHUP and by POST /reload on the admin API. A reload swaps the generation; running
 * transactions, dialogs (Record-Route flow tokens) and the partner's TLS connection must survive it: no call lost.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProxyLab, requireProxyTools, udpTarget } from "./proxy-lab.js";
import { uacCallScenario, uasAnswerScenario } from "./scenarios.js";
import { failedCalls, successfulCalls } from "./sipp-process.js";
import { delay } from "../tls/wait.js";

requireProxyTools();

test(
  "reload by SIGHUP and by POST /reload during a 200-call load loses no call",
  { timeout: 90_000 },
  async (t) => {
    const calls = 200;
    const lab = ProxyLab.create(t, "reload");
    const uas = await lab.startSippUas({
      name: "uas",
      scenario: uasAnswerScenario(),
      calls,
      timeoutSeconds: 45,
    });
    const edge = await lab.startEdge({ innerServers: [udpTarget(uas.port)] });
    const before = (await edge.health()).generation;
    const uac = await lab.startSippUac({
      name: "uac",
      scenario: uacCallScenario({ fromUser: "alice", fromDomain: "a.example", holdMs: 400 }),
      partner: "a",
      calls,
      rate: 50,
      timeoutSeconds: 40,
    });
    let uacDone = false;
    void uac.result.then(() => (uacDone = true));
    // 200 calls at 50/s take about 4 s: reload at about 1 s and again 0.7 s after the first one is done,
    // with calls in every state.
    await delay(1000);
    assert.equal(uacDone, false, "the load is still running at the first reload");
    edge.hangUp();
    let generation = before;
    const deadline = Date.now() + 10_000;
    while (generation < before + 1 && Date.now() < deadline && edge.running) {
      await delay(100);
      generation = (await edge.health()).generation;
    }
    const afterHangUp = generation;
    await delay(700);
    const reload = await edge.request("POST", "/reload");
    generation = (await edge.health()).generation;
    const midRun = uacDone;
    const [uacResult, uasResult] = await Promise.all([uac.result, uas.run.result]);
    const why = `${JSON.stringify(reload.body)}\n${lab.describe(uacResult, uasResult)}`;
    assert.equal(midRun, false, `the second reload happened while calls were running\n${why}`);
    assert.equal(reload.status, 200, `POST /reload accepted\n${why}`);
    assert.equal((reload.body as { ok?: unknown }).ok, true, why);
    assert.equal(afterHangUp, before + 1, `SIGHUP made a new generation\n${why}`);
    assert.equal(generation, before + 2, `POST /reload made another\n${why}`);
    for (const r of [uacResult, uasResult]) {
      assert.equal(r.exitCode, 0, `${r.name}: every call succeeded\n${why}`);
      assert.equal(successfulCalls(r), calls, why);
      assert.equal(failedCalls(r), 0, why);
    }
    assert.ok(edge.running, `the edge still runs\n${why}`);
    // The accounting file is reopened on every reload (issue 7 §3): no line lost across the two reopenings.
    const invites = lab.accounting().filter((r) => r["method"] === "INVITE");
    assert.equal(invites.length, calls, `one INVITE line per call across the reloads\n${why}`);
    assert.ok(
      invites.every((r) => r["status"] === 200),
      JSON.stringify(invites.find((r) => r["status"] !== 200)),
    );
  },
);
