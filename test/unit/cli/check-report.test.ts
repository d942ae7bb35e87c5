// `siptrust check` must say when the resolver's AD bit is not believed (RFC 6840 §5.8, RFC 4035 §3.2.3) and must
// honour --trust-resolver. The resolver below is a non-loopback address (192.0.2.53, TEST-NET-1): its datagrams are
// answered in-process by a fake zone, so nothing leaves the host; the TLS targets are on 127.0.0.1.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "node:dgram";
import { createServer } from "node:net";
import dnsPacket from "dns-packet";
import type { Answer } from "dns-packet";
import { runCli } from "../../../src/cli/program.js";
import { cliOutput } from "../../../src/cli/commands/cert.js";
import { checkJson, checkText } from "../../../src/cli/commands/check-report.js";
import { isLoopbackAddress } from "../../../src/dns/resolver-config.js";
import type { OutboundResult } from "../../../src/tls/outbound.js";
import { zoneHandler, type Handler } from "../dns/fake-dns.js";

const REMOTE_RESOLVER = { host: "192.0.2.53", port: 53 };
const WARNING = "resolver 192.0.2.53:53 set AD=1 but is not on loopback nor marked trusted";

function result(warnings: readonly string[]): OutboundResult {
  return {
    ok: false,
    uri: "sips:alice@secure.example",
    domain: "secure.example",
    delegation: "insecure",
    steps: [{ name: "_sips._tcp.secure.example", type: "SRV", status: "insecure", ttl: 60, answers: [] }],
    warnings,
    attempts: [],
    code: "no-targets",
    detail: "no address for secure.example",
  };
}

test("checkText prints one WARNING line per location warning, right after the delegation", () => {
  const text = checkText(result([`${WARNING}: DANE cannot apply`, "second warning"]));
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("  delegation: insecure"));
  assert.ok(at > 0, text);
  assert.deepEqual(lines.slice(at + 1, at + 3), [
    `  WARNING: ${WARNING}: DANE cannot apply`,
    "  WARNING: second warning",
  ]);
  assert.doesNotMatch(checkText(result([])), /WARNING/, "no warning, no WARNING line");
  assert.deepEqual((checkJson(result(["w1"])) as { warnings: unknown }).warnings, ["w1"]);
});

/** Answers datagrams sent to REMOTE_RESOLVER from `handler`, in-process; refuses any other non-loopback send. */
function fakeRemoteResolver(t: TestContext, handler: Handler): { queries: string[] } {
  const queries: string[] = [];
  const original = Socket.prototype.send;
  t.mock.method(Socket.prototype, "send", function (this: Socket, ...args: unknown[]) {
    const [msg, port, host, callback] = args as [Buffer, number, string, (err: Error | null) => void];
    if (isLoopbackAddress(String(host))) return Reflect.apply(original, this, args) as unknown;
    if (host !== REMOTE_RESOLVER.host || port !== REMOTE_RESOLVER.port)
      throw new Error(`test refuses to send to ${host}:${port}`);
    const query = dnsPacket.decode(msg);
    queries.push(`${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
    const reply = handler({ transport: "udp", query, raw: msg });
    const bytes = typeof reply === "object" && "packet" in reply ? dnsPacket.encode(reply.packet) : undefined;
    const rinfo = { address: host, port, family: "IPv4", size: bytes?.length ?? 0 };
    setImmediate(() => {
      if (bytes !== undefined) this.emit("message", bytes, rinfo);
    });
    callback(null);
    return undefined;
  });
  return { queries };
}

/** A loopback port with nothing listening: the TLS attempt fails fast, after DNS has decided the delegation. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function runCheck(t: TestContext, args: readonly string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  t.mock.method(cliOutput, "out", (text: string) => void chunks.push(text));
  const exitCode = process.exitCode;
  try {
    const code = await runCli(["check", ...args]);
    return { code, out: chunks.join("") };
  } finally {
    process.exitCode = exitCode;
  }
}

interface CheckJson {
  delegation: string;
  warnings: string[];
  steps: { type: string; status: string }[];
  targets: { delegation: string; tlsaStatus: string | null; verification: { code: string } }[];
}

test("check with a non-loopback resolver: AD not believed and said so; --trust-resolver believes it", async (t) => {
  const port = await closedPort();
  const records: Answer[] = [
    {
      type: "SRV",
      name: "_sips._tcp.secure.example",
      ttl: 60,
      data: { priority: 1, weight: 1, port, target: "sip.secure.example" },
    },
    { type: "A", name: "sip.secure.example", ttl: 60, data: "127.0.0.1" },
  ];
  const dns = fakeRemoteResolver(t, zoneHandler({ secure: [".secure.example"], records }));
  const base = ["sips:alice@secure.example", "--resolver", "192.0.2.53:53", "--timeout", "1000"];

  const untrusted = await runCheck(t, [...base, "--json"]);
  assert.equal(untrusted.code, 1, untrusted.out);
  const u = JSON.parse(untrusted.out) as CheckJson;
  assert.equal(u.delegation, "insecure", "AD=1 from an untrusted resolver proves nothing");
  assert.ok(u.steps.length > 0 && u.steps.every((s) => s.status === "insecure"));
  assert.equal(u.warnings.length, 1);
  assert.match(
    u.warnings[0] ?? "",
    /^resolver 192\.0\.2\.53:53 set AD=1 but is not on loopback nor marked trusted/,
  );
  assert.deepEqual(
    u.targets.map((x) => [x.delegation, x.tlsaStatus]),
    [["insecure", null]],
    "insecure path: TLSA not looked up",
  );

  const text = await runCheck(t, base);
  assert.match(
    text.out,
    /\n {2}delegation: insecure .*\n {2}WARNING: resolver 192\.0\.2\.53:53 set AD=1 but is not on/,
  );

  const trusted = await runCheck(t, [...base, "--json", "--trust-resolver"]);
  const tr = JSON.parse(trusted.out) as CheckJson;
  assert.deepEqual([tr.delegation, tr.warnings], ["secure", []], "--trust-resolver: the AD bit is believed");
  assert.ok(tr.steps.every((s) => s.status === "secure"));
  assert.deepEqual(
    tr.targets.map((x) => [x.delegation, x.tlsaStatus]),
    [["secure", "secure"]],
    "secure path: TLSA looked up (securely absent here)",
  );
  assert.ok(dns.queries.includes(`TLSA _${port}._tcp.sip.secure.example`), dns.queries.join(", "));
  assert.equal(trusted.code, 1, "nothing listens on the target: not verified");
});
