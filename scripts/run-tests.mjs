#!/usr/bin/env node
// Runs every *.test.ts below the given folders with Node's own test runner (tsx compiles on the fly).
// Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const dirs = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = dirs.flatMap((d) => collect(d, []));
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${dirs.join(", ")}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", ...passThrough, ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
