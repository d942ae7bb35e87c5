import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  AdminServer,
  AdminServerError,
  type AdminServerOptions,
} from "../../../../src/proxy/admin/admin-server.js";
import { APPLIED, FakeTarget, INBOUND, OUTBOUND, REFUSED, call } from "./fake-target.js";

interface LogLine {
  readonly level: "info" | "warn";
  readonly obj: object;
  readonly msg: string;
}

async function start(t: TestContext, options: Partial<AdminServerOptions> = {}) {
  const target = new FakeTarget();
  const logs: LogLine[] = [];
  const logger = {
    info: (obj: object, msg: string) => logs.push({ level: "info", obj, msg }),
    warn: (obj: object, msg: string) => logs.push({ level: "warn", obj, msg }),
  };
  const server = new AdminServer({
    host: "127.0.0.1",
    port: 0,
    target,
    logger,
    defaultMetrics: false,
    ...options,
  });
  const { port } = await server.listen();
  t.after(() => server.close());
  return { server, target, port, logs };
}

test("GET /health: 200 with the report when ok, 503 when not", async (t) => {
  const { target, port } = await start(t);
  const ok = await call(port, "GET", "/health");
  assert.equal(ok.status, 200);
  assert.match(String(ok.headers["content-type"]), /^application\/json/);
  assert.deepEqual(JSON.parse(ok.text), {
    ok: true,
    generation: 3,
    uptimeSeconds: 3725,
    listeners: { public: "127.0.0.1:5061" },
  });
  target.healthy = false;
  const bad = await call(port, "GET", "/health?verbose=1");
  assert.equal(bad.status, 503);
  assert.equal(JSON.parse(bad.text).ok, false);
});

test("GET /connections lists every connection view with its count", async (t) => {
  const { port } = await start(t);
  const res = await call(port, "GET", "/connections");
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.text), { count: 2, connections: [INBOUND, OUTBOUND] });
});

test("POST /reload: 200 with the result when applied, 409 with every problem when refused", async (t) => {
  const { target, port, logs } = await start(t);
  const ok = await call(port, "POST", "/reload");
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.text), APPLIED);
  target.nextReload = REFUSED;
  const refused = await call(port, "POST", "/reload");
  assert.equal(refused.status, 409);
  assert.deepEqual(JSON.parse(refused.text), REFUSED);
  assert.equal(target.reloads, 2);
  assert.ok(logs.some((l) => l.level === "warn" && l.msg.includes("refused")));
});

test("GET /metrics serves the Prometheus text format with the mapped families", async (t) => {
  const { target, port } = await start(t);
  target.counters.increment("proxy.requests.INVITE.forwarded", 5);
  target.counters.increment("proxy.auth.denied.from-not-covered", 2);
  target.counters.increment("something.new");
  const res = await call(port, "GET", "/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  assert.match(res.text, /^siptrust_requests_total\{method="INVITE",outcome="forwarded"\} 5$/m);
  assert.match(res.text, /^siptrust_authorization_failures_total\{code="from-not-covered"\} 2$/m);
  assert.match(res.text, /^siptrust_events_total\{name="something.new"\} 1$/m);
  assert.match(res.text, /^siptrust_reload_generation 3$/m);
  // The admin API counts itself too (the scrape before this one is visible now).
  await call(port, "GET", "/nope");
  const again = await call(port, "GET", "/metrics");
  assert.match(again.text, /^siptrust_admin_requests_total\{endpoint="\/metrics",status="200"\} 1$/m);
  assert.match(again.text, /^siptrust_admin_requests_total\{endpoint="other",status="404"\} 1$/m);
});

test("bearer token: every endpoint needs it; missing or wrong → 401, right → served; never logged", async (t) => {
  const token = "s3cret-token-value_0123456789";
  const { port, logs } = await start(t, { token });
  for (const path of ["/health", "/connections", "/metrics"]) {
    const missing = await call(port, "GET", path);
    assert.equal(missing.status, 401, path);
    assert.equal(missing.headers["www-authenticate"], 'Bearer realm="siptrust"');
    assert.equal(JSON.parse(missing.text).code, "token-missing");
  }
  const cases: Array<[string, number, string?]> = [
    [`Bearer ${token}x`, 401, "token-wrong"],
    [`Bearer ${token.slice(0, -1)}`, 401, "token-wrong"],
    [`Basic ${Buffer.from(`admin:${token}`).toString("base64")}`, 401, "token-missing"],
    [token, 401, "token-missing"],
    [`Bearer ${token}`, 200],
    [`bearer   ${token}`, 200],
  ];
  for (const [authorization, status, code] of cases) {
    const res = await call(port, "GET", "/health", { headers: { Authorization: authorization } });
    assert.equal(res.status, status, authorization);
    if (code) assert.equal(JSON.parse(res.text).code, code);
  }
  const reload = await call(port, "POST", "/reload", { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(reload.status, 200);
  assert.ok(logs.some((l) => l.msg.includes("unauthorized")));
  assert.ok(!JSON.stringify(logs).includes(token.slice(0, 10)), "the token never appears in the log");
});

test("unknown path → 404, wrong method → 405 with Allow", async (t) => {
  const { target, port } = await start(t);
  const cases: Array<[string, string, number, string?]> = [
    ["GET", "/", 404],
    ["GET", "/health/", 404],
    ["GET", "/admin/health", 404],
    ["POST", "/health", 405, "GET"],
    ["DELETE", "/connections", 405, "GET"],
    ["GET", "/reload", 405, "POST"],
    ["PUT", "/reload", 405, "POST"],
    ["POST", "/metrics", 405, "GET"],
  ];
  for (const [method, path, status, allow] of cases) {
    const res = await call(port, method, path);
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(res.headers["allow"], allow, `${method} ${path}`);
  }
  assert.equal(target.reloads, 0, "a GET never reloads");
});

test("a throwing target answers 500, is logged, and the server keeps serving", async (t) => {
  const { target, port, logs } = await start(t);
  for (const [method, path, part] of [
    ["GET", "/health", "health"],
    ["GET", "/connections", "connections"],
    ["POST", "/reload", "reload"],
  ] as const) {
    target.failing.add(part);
    const res = await call(port, method, path);
    assert.equal(res.status, 500, path);
    assert.equal(JSON.parse(res.text).code, "internal-error");
    assert.match(JSON.parse(res.text).detail, /exploded/);
  }
  assert.equal(target.counters.get("reload.failed"), 1);
  // Gauges that throw do not fail the scrape; the counters are still exported.
  target.failing.add("gauges");
  const metrics = await call(port, "GET", "/metrics");
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /^siptrust_reloads_total\{result="failed"\} 1$/m);
  target.failing.clear();
  assert.equal((await call(port, "GET", "/health")).status, 200);
  assert.equal(logs.filter((l) => l.level === "warn" && l.msg.includes("failed to answer")).length, 3);
});

test("request bodies: ignored up to 1 KiB, refused past it (declared or streamed) with 413", async (t) => {
  const { target, port } = await start(t);
  const small = await call(port, "POST", "/reload", { body: "x".repeat(1024) });
  assert.equal(small.status, 200);
  const declared = await rawExchange(
    port,
    "POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
  );
  assert.match(declared, /^HTTP\/1\.1 413 /);
  const chunked = await rawExchange(
    port,
    "POST /reload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
      "y".repeat(2048) +
      "\r\n",
  );
  assert.match(chunked, /^HTTP\/1\.1 413 /);
  assert.equal(target.reloads, 1, "an oversize request never reaches the target");
});

test("a client that never finishes its request head is cut off", async (t) => {
  const { port } = await start(t, { limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
  const started = Date.now();
  const answer = await rawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n");
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started < 3000, "closed within the bound");
});

test("binding: non-loopback needs a token (and warns); bad tokens and ports are refused", async (t) => {
  const target = new FakeTarget();
  const refuse = (options: Partial<AdminServerOptions>, code: string) =>
    assert.throws(
      () => new AdminServer({ target, defaultMetrics: false, ...options }),
      (err: unknown) => err instanceof AdminServerError && err.code === code,
    );
  refuse({ host: "0.0.0.0" }, "admin-remote-needs-token");
  refuse({ host: "::" }, "admin-remote-needs-token");
  refuse({ host: "admin.example.com" }, "admin-remote-needs-token");
  refuse({ token: "" }, "admin-bad-token");
  refuse({ token: "has space" }, "admin-bad-token");
  refuse({ port: 70000 }, "admin-bad-port");
  // Constructed only: tests never bind beyond loopback.
  const warnings: string[] = [];
  const remote = new AdminServer({
    host: "0.0.0.0",
    port: 0,
    token: "a-long-enough-token",
    target,
    defaultMetrics: false,
    logger: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) },
  });
  assert.ok(remote instanceof AdminServer);
  assert.ok(warnings.some((w) => w.includes("non-loopback")));
  // Loopback with a token: no warning, and the token is enforced.
  warnings.length = 0;
  const local = new AdminServer({
    host: "127.0.0.2",
    port: 0,
    token: "a-long-enough-token",
    target,
    defaultMetrics: false,
    logger: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) },
  });
  t.after(() => local.close());
  const { port } = await local.listen();
  assert.deepEqual(warnings, []);
  const res = await new Promise<number>((resolve, reject) =>
    net
      .connect(port, "127.0.0.2", function (this: net.Socket) {
        this.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        this.once("data", (d: Buffer) => resolve(Number(d.toString("latin1").split(" ")[1])));
      })
      .on("error", reject),
  );
  assert.equal(res, 401);
});

test("close() also closes idle keep-alive connections", async (t) => {
  const { server, port } = await start(t);
  const socket = net.connect(port, "127.0.0.1");
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise<void>((resolve) => socket.once("data", () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await server.close();
  await closed;
});

/** Writes `request` on a raw connection and returns everything read until the server closes it. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got: ${Buffer.concat(chunks).toString()}`));
    }, 5000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
  });
}
