import { test } from "node:test";
import assert from "node:assert/strict";
import type { z } from "zod";
import { accountingSchema, adminSchema, proxySchema } from "../../../../src/config/proxy-schema.js";
import { compileRoutingRules } from "../../../../src/proxy/policy/routing-rules.js";

function issues(schema: z.ZodTypeAny, input: unknown): Array<{ path: string; message: string }> {
  const result = schema.safeParse(input);
  assert.equal(result.success, false, "expected the input to be refused");
  return result.error!.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

function hasIssue(list: Array<{ path: string; message: string }>, path: string, fragment: string): void {
  assert.ok(
    list.some((i) => i.path === path && i.message.includes(fragment)),
    `expected "${fragment}" at ${path}, got ${JSON.stringify(list)}`,
  );
}

test("absent sections: every field has its default", () => {
  assert.deepEqual(proxySchema.parse({}), {
    inside: { address: "127.0.0.1", port: 5080, transport: "udp" },
    innerServers: { default: [{ address: "127.0.0.1", port: 5060, transport: "udp" }] },
    identityHeader: "X-Siptrust-Identity",
    routing: [],
    timers: { t1: 500, t2: 4000, t4: 5000, timerC: 180_000, failoverAfter: 5000 },
    maxTransactions: 100_000,
  });
  assert.deepEqual(accountingSchema.parse({}), { format: "jsonl" });
  assert.deepEqual(adminSchema.parse({}), { address: "127.0.0.1", port: 8061 });
});

test("a full proxy section: durations in milliseconds, groups, rules that compile", () => {
  const parsed = proxySchema.parse({
    inside: { address: "10.0.0.2", port: 5080, transport: "tcp" },
    innerServers: {
      default: [{ address: "10.0.0.10" }, { address: "10.0.0.11", port: 5070, transport: "tcp" }],
      "fed-a": [{ address: "10.0.1.10" }],
    },
    identityHeader: "X-Edge-Identity",
    outsideHost: "edge.example.com",
    outsidePort: 5061,
    routing: [
      { name: "a", match: { peer: { issuer: { regex: "O=Federation A" } } }, forward: "fed-a", tags: ["a"] },
      {
        match: { direction: "outbound", requestUri: { suffix: "blocked.example" } },
        reject: { status: 403, reason: "Blocked" },
      },
    ],
    timers: { t1: "100ms", t2: 2, timerC: "4m", failoverAfter: "1s" },
    maxTransactions: 500,
  });
  assert.deepEqual(parsed.timers, { t1: 100, t2: 2000, t4: 5000, timerC: 240_000, failoverAfter: 1000 });
  assert.deepEqual(parsed.innerServers.default?.[0], { address: "10.0.0.10", port: 5060, transport: "udp" });
  assert.equal(parsed.outsideHost, "edge.example.com");
  // The schema's output is what the rule compiler takes.
  const rules = compileRoutingRules(parsed.routing, { groups: Object.keys(parsed.innerServers) });
  assert.equal(rules.rules.length, 2);
});

test("invalid regex and unknown forward group are refused at load with their key", () => {
  const list = issues(proxySchema, {
    routing: [{ forward: "default" }, { match: { from: { regex: "a(" } }, forward: "sales" }],
  });
  hasIssue(list, "routing.1.match.from.regex", "invalid regular expression");
  hasIssue(list, "routing.1.forward", 'no inner server group "sales"');
});

test("structural rule errors name the key", () => {
  hasIssue(issues(proxySchema, { routing: [{ forward: "default", route: "x" }] }), "routing.0", "route");
  hasIssue(
    issues(proxySchema, { routing: [{ reject: { status: 200, reason: "OK" } }] }),
    "routing.0.reject.status",
    "",
  );
});

test("innerServers: default group required, outside reserved, groups non-empty, addresses are IPs", () => {
  hasIssue(
    issues(proxySchema, { innerServers: { sales: [{ address: "10.0.0.1" }] } }),
    "innerServers",
    '"default"',
  );
  hasIssue(
    issues(proxySchema, {
      innerServers: { default: [{ address: "10.0.0.1" }], outside: [{ address: "10.0.0.2" }] },
    }),
    "innerServers.outside",
    "reserved",
  );
  hasIssue(issues(proxySchema, { innerServers: { default: [] } }), "innerServers.default", "at least one");
  hasIssue(
    issues(proxySchema, { innerServers: { default: [{ address: "pbx.local" }] } }),
    "innerServers.default.0.address",
    "IP",
  );
  hasIssue(
    issues(proxySchema, { innerServers: { default: [{ address: "10.0.0.1", transport: "tls" }] } }),
    "innerServers.default.0.transport",
    "",
  );
});

test("identity header: a token, and never a standard SIP header (it is stripped from outside traffic)", () => {
  hasIssue(issues(proxySchema, { identityHeader: "X Identity" }), "identityHeader", "token");
  hasIssue(issues(proxySchema, { identityHeader: "Via" }), "identityHeader", "standard SIP header");
  hasIssue(
    issues(proxySchema, { identityHeader: "p-asserted-identity" }),
    "identityHeader",
    "standard SIP header",
  );
  hasIssue(issues(proxySchema, { identityHeader: "f" }), "identityHeader", "standard SIP header");
});

test("timers: durations checked, t2 not below t1", () => {
  hasIssue(issues(proxySchema, { timers: { t1: "fast" } }), "timers.t1", "not a duration");
  hasIssue(issues(proxySchema, { timers: { t1: "5s", t2: "4s" } }), "timers.t2", "≥ t1");
  hasIssue(issues(proxySchema, { timers: { t1: 0 } }), "timers.t1", "> 0");
  hasIssue(issues(proxySchema, { maxTransactions: 0 }), "maxTransactions", "");
});

test("unknown keys are refused (typos do not pass silently)", () => {
  hasIssue(issues(proxySchema, { identityHeaders: "X-A" }), "", "identityHeaders");
  hasIssue(issues(accountingSchema, { file: "a.jsonl", format: "csv" }), "format", "");
});

test("admin: loopback without a token; any other address needs tokenFile", () => {
  assert.deepEqual(adminSchema.parse({ address: "::1", port: 9000 }), { address: "::1", port: 9000 });
  hasIssue(issues(adminSchema, { address: "0.0.0.0" }), "tokenFile", "not loopback");
  assert.equal(
    adminSchema.parse({ address: "10.0.0.2", tokenFile: "/etc/siptrust/token" }).tokenFile,
    "/etc/siptrust/token",
  );
});
