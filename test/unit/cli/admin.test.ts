import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AdminServer } from "../../../src/proxy/admin/admin-server.js";
import { UsageError } from "../../../src/cli/exit.js";
import { DEFAULT_ADMIN_URL } from "../../../src/proxy/admin/admin-client.js";
import {
  adminConnections,
  adminReload,
  adminStatus,
  type AdminOptions,
} from "../../../src/cli/commands/admin.js";
import { FakeTarget, REFUSED } from "../proxy/admin/fake-target.js";

const BIN = resolve(import.meta.dirname, "../../../bin/siptrust.js");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const VERBS = { status: adminStatus, connections: adminConnections, reload: adminReload } as const;

/**
 * Runs a verb in this process (the child-process start-up of the real binary costs seconds on a loaded
 * machine; one test below still goes through bin/siptrust.js). Exit 2 is a thrown UsageError, which
 * runCli turns into "siptrust: <message>" on stderr and exit code 2.
 */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [verb, ...rest] = args;
  const opts: Record<string, string | boolean> = {
    admin: env["SIPTRUST_ADMIN"] || DEFAULT_ADMIN_URL,
    timeout: "5000",
    json: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (flag === "--json") opts["json"] = true;
    else
      opts[flag.replace(/^--/, "").replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())] = rest[
        ++i
      ] as string;
  }
  try {
    const outcome = await VERBS[verb as keyof typeof VERBS](opts as unknown as AdminOptions);
    return { code: outcome.exitCode, stdout: outcome.stdout, stderr: "" };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { code: 2, stdout: "", stderr: `siptrust: ${err.message}\n` };
  }
}

/** Runs the calls one after the other (never concurrently: they share the process) → one Run each. */
async function seq<T extends Array<() => Promise<Run>>>(...calls: T): Promise<{ [K in keyof T]: Run }> {
  const results: Run[] = [];
  for (const call of calls) results.push(await call());
  return results as { [K in keyof T]: Run };
}

// Asynchronous on purpose: the admin server answering the child runs in this very process.
function runBinary(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { encoding: "utf8", timeout: 120_000, env: { ...process.env, SIPTRUST_ADMIN: "", ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

async function serve(t: TestContext, token?: string) {
  const target = new FakeTarget();
  const server = new AdminServer({ port: 0, target, defaultMetrics: false, ...(token ? { token } : {}) });
  const { port } = await server.listen();
  t.after(() => server.close());
  return { target, url: `http://127.0.0.1:${port}` };
}

test("siptrust status: 0 when healthy, 1 when not, --json prints the report", async (t) => {
  const { target, url } = await serve(t);
  const [healthy, json] = await seq(
    () => run(["status", "--admin", url]),
    () => run(["status", "--admin", url, "--json"]),
  );
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^healthy: generation 3, up 1h2m$/m);
  assert.match(healthy.stdout, /listeners: \{"public":"127\.0\.0\.1:5061"\}/);
  assert.equal(json.code, 0);
  assert.equal(JSON.parse(json.stdout).uptimeSeconds, 3725);
  target.healthy = false;
  const sick = await run(["status", "--admin", url]);
  assert.equal(sick.code, 1);
  assert.match(sick.stdout, /^UNHEALTHY: generation 3/m);
});

test("siptrust connections: a table with identities, aliases and client certificate; --json raw", async (t) => {
  const { url } = await serve(t);
  const [table, json] = await seq(
    () => run(["connections", "--admin", url]),
    () => run(["connections", "--admin", url, "--json"]),
  );
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? "", /^DIR\s+ID\s+PEER\s+AGE\s+GEN\s+STATE\s+SNI\s+TLS/);
  assert.match(
    lines[1] ?? "",
    /^in\s+in:public:7\s+127\.0\.0\.1:40001\s+1m15s\s+3\s+open\s+edge\.example\.com/,
  );
  assert.match(lines[1] ?? "", /client-verified\s+peer-a\.example\s+-\s+-\s+2$/);
  assert.match(lines[2] ?? "", /^out\s+out:4\s+\[::1\]:5061\s+1h1m\s+2\s+draining/);
  assert.match(
    lines[2] ?? "",
    /dane-ee-match\/dane-ee\s+federation\.example\s+federation\.example,sip\.federation\.example\s+federation-client\s+1$/,
  );
  assert.equal(json.code, 0);
  assert.equal(JSON.parse(json.stdout).count, 2);
});

test("siptrust reload: 0 with the new generation; 1 with every problem as file:line: key", async (t) => {
  const { target, url } = await serve(t);
  const applied = await run(["reload", "--admin", url]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(
    applied.stdout,
    "reload applied: generation 4 (reloaded); connections: revalidate, kept 5, closed 1\n",
  );
  target.nextReload = REFUSED;
  const [refused, json] = await seq(
    () => run(["reload", "--admin", url]),
    () => run(["reload", "--admin", url, "--json"]),
  );
  assert.equal(refused.code, 1);
  assert.deepEqual(refused.stdout.trimEnd().split("\n"), [
    "reload refused (bad-config): generation 3 keeps serving; 2 problem(s)",
    "  /etc/siptrust/edge.yaml:12: listeners[0].certificates[0].key: does not match the certificate",
    "  /etc/siptrust/ca.pem: no certificate found",
  ]);
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), REFUSED);
  target.failing.add("reload");
  const failed = await run(["reload", "--admin", url]);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^reload failed: reload exploded$/m);
  assert.equal(target.reloads, 4);
});

test("token: --token-file is sent; missing or wrong token → 2, unreadable file → 2", async (t) => {
  const token = "cli-test-token-0123456789";
  const { target, url } = await serve(t, token);
  const dir = mkdtempSync(join(tmpdir(), "siptrust-admin-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "right"), `${token}\n# rotated 2026-11-25\n`);
  writeFileSync(join(dir, "wrong"), "not-the-token\n");
  writeFileSync(join(dir, "empty"), "\n");
  const [right, none, wrong, missing, empty] = await seq(
    () => run(["reload", "--admin", url, "--token-file", join(dir, "right")]),
    () => run(["reload", "--admin", url]),
    () => run(["reload", "--admin", url, "--token-file", join(dir, "wrong")]),
    () => run(["status", "--admin", url, "--token-file", join(dir, "absent")]),
    () => run(["status", "--admin", url, "--token-file", join(dir, "empty")]),
  );
  assert.equal(right.code, 0, right.stderr);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /unauthorized \(the admin API needs --token-file\)/);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /unauthorized \(the token was not accepted\)/);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the token file \(ENOENT\)/);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /token file is empty/);
  assert.equal(target.reloads, 1, "only the authorized reload reached the edge");
  assert.ok(!right.stdout.includes(token) && !right.stderr.includes(token));
});

test("unreachable admin API, bad URL or bad timeout → 2; (exit 2)", async (t) => {
  const { url } = await serve(t);
  const closedPort = await freePort();
  const [unreachable, badUrl, badScheme, badTimeout] = await seq(
    () => run(["status", "--admin", `http://127.0.0.1:${closedPort}`]),
    () => run(["status", "--admin", "not a url"]),
    () => run(["reload", "--admin", "ftp://127.0.0.1/"]),
    () => run(["status", "--admin", url, "--timeout", "soon"]),
  );
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /cannot reach the admin API: .*ECONNREFUSED/);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /not a URL/);
  assert.equal(badScheme.code, 2);
  assert.match(badScheme.stderr, /only http: and https:/);
  assert.equal(badTimeout.code, 2);
});

test("an admin API that never answers → 2 after --timeout", async (t) => {
  // Reads and discards, never answers.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined).resume();
  });
  t.after(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise<void>((done) => silent.close(() => done()));
  });
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", () => done()));
  const { port } = silent.address() as net.AddressInfo;
  const started = Date.now();
  const res = await run(["status", "--admin", `http://127.0.0.1:${port}`, "--timeout", "300"]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /no answer within 300 ms/);
  assert.ok(Date.now() - started < 15_000);
});

test("the installed binary: exit codes 0, 1 and 2 reach the shell; SIPTRUST_ADMIN is the default URL", async (t) => {
  const { target, url } = await serve(t);
  target.nextReload = REFUSED;
  // No --admin: SIPTRUST_ADMIN names the edge.
  const healthy = await runBinary(["status"], { SIPTRUST_ADMIN: url });
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^healthy: generation 3/m);
  const refused = await runBinary(["reload", "--admin", url]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stdout, /edge\.yaml:12: listeners\[0\]\.certificates\[0\]\.key: does not match/);
  const unreachable = await runBinary(["connections", "--admin", `http://127.0.0.1:${await freePort()}`]);
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /cannot reach the admin API/);
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = net.createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => done(port));
    });
  });
}
