/**
 * ConfigStore's two-phase reload: every participant stages the new configuration before anything is
 * swapped; one refusal refuses the reload with the problems of all participants, and nobody commits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigStore, type StagedReload } from "../../../src/config/config-store.js";
import { ConfigError, type ConfigProblem } from "../../../src/config/config-error.js";
import type { PreparedConfig } from "../../../src/config/prepare-config.js";

const config = (name: string) => ({ file: name }) as unknown as PreparedConfig;
const problem = (message: string): ConfigProblem => ({ file: "edge.yaml", line: 3, key: "k", message });

function store(next: () => PreparedConfig) {
  const s = new ConfigStore(config("v1"), next);
  const log: string[] = [];
  const participant = (name: string, verdict: () => readonly ConfigProblem[]) =>
    s.addParticipant({
      stage: (n, current): StagedReload => {
        log.push(`${name} stage ${n.file} over ${current.file}`);
        const problems = verdict();
        return problems.length > 0
          ? { ok: false, problems }
          : { ok: true, commit: (g) => log.push(`${name} commit ${g}`) };
      },
    });
  return { s, log, participant };
}

test("all participants accept: swap, then every commit gets the new generation", () => {
  const { s, log, participant } = store(() => config("v2"));
  participant("a", () => []);
  participant("b", () => []);
  assert.deepEqual(s.reload(), { ok: true, code: "reloaded", generation: 2 });
  assert.equal(s.current.file, "v2");
  assert.deepEqual(log, ["a stage v2 over v1", "b stage v2 over v1", "a commit 2", "b commit 2"]);
});

test("one participant refuses: nothing swaps, nobody commits, every problem is returned", () => {
  let refuse = true;
  const { s, log, participant } = store(() => config("v2"));
  participant("a", () => (refuse ? [problem("a says no")] : []));
  participant("b", () => (refuse ? [problem("b says no too")] : []));
  participant("c", () => []);
  const result = s.reload();
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.problems.map((p) => p.message), ["a says no", "b says no too"]);
  assert.equal(s.current.file, "v1");
  assert.equal(s.generation, 1);
  assert.equal(s.failedReloads, 1);
  assert.ok(log.every((l) => !l.includes("commit")));
  refuse = false;
  assert.equal(s.reload().generation, 2);
});

test("a configuration that fails to prepare never reaches the participants", () => {
  const { s, log, participant } = store(() => {
    throw new ConfigError([problem("bad file")]);
  });
  participant("a", () => []);
  const result = s.reload();
  assert.equal(result.ok, false);
  assert.deepEqual(log, []);
});
