import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { loadConfigText } from "../../../src/config/load-config.js";
import { ConfigError } from "../../../src/config/config-error.js";

const schema = z
  .object({
    listeners: z.array(
      z
        .object({
          address: z.string().ip(),
          port: z.number().int().min(1).max(65535),
          mode: z.enum(["ignore", "optional", "required"]),
        })
        .strict(),
    ),
    name: z.string(),
  })
  .strict();

function problemsOf(text: string): ConfigError["problems"] {
  try {
    loadConfigText(text, "edge.yaml", schema);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("a valid document loads as plain data", () => {
  const value = loadConfigText(
    "name: edge\nlisteners:\n  - { address: 127.0.0.1, port: 5061, mode: optional }\n",
    "edge.yaml",
    schema,
  );
  assert.deepEqual(value, {
    name: "edge",
    listeners: [{ address: "127.0.0.1", port: 5061, mode: "optional" }],
  });
});

test("every schema problem is reported at once with file, line and key path", () => {
  const text = [
    "name: edge",
    "listeners:",
    "  - address: 127.0.0.1",
    "    port: 70000",
    "    mode: sometimes",
    "  - address: not-an-ip",
    "    port: 5061",
    "    mode: required",
    "    colour: blue",
  ].join("\n");
  const problems = problemsOf(text);
  const seen = problems.map((p) => `${p.line} ${p.key}`).sort();
  assert.deepEqual(
    seen,
    ["4 listeners[0].port", "5 listeners[0].mode", "6 listeners[1].address", "6 listeners[1]"].sort(),
  );
  assert.ok(problems.every((p) => p.file === "edge.yaml"));
  const unknownKey = problems.find((p) => p.key === "listeners[1]");
  assert.match(unknownKey?.message ?? "", /colour/);
});

test("a missing key is reported at its parent's line", () => {
  const problems = problemsOf("listeners: []\n");
  assert.deepEqual(
    problems.map((p) => [p.key, p.line]),
    [["name", 1]],
  );
});

test("YAML syntax errors and duplicate keys name the line", () => {
  const problems = problemsOf("name: a\nname: b\n");
  assert.equal(problems[0]?.line, 2);
  const syntax = problemsOf("name: [unclosed\nlisteners: []\n");
  assert.ok(syntax.length > 0 && syntax.every((p) => p.line > 0));
});

test("alias bombs are refused instead of expanding", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
  ].join("\n");
  const problems = problemsOf(bomb);
  assert.match(problems[0]?.message ?? "", /alias/i);
});
