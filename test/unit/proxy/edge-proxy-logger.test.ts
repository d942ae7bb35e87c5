/**
 * The daemon's log output: pino JSON lines for machines, one short human line per record in a terminal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createProxyLogger, prettyLine } from "../../../src/proxy/wiring/logger.js";

test("JSON mode writes one pino record per line with the fields given", () => {
  const lines: string[] = [];
  const logger = createProxyLogger({ pretty: false, write: (line) => void lines.push(line) });
  logger.warn({ code: "handshake-failed", remote: "127.0.0.1" }, "TLS handshake failed");
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(record.level, 40);
  assert.equal(record.msg, "TLS handshake failed");
  assert.equal(record.code, "handshake-failed");
  assert.equal(record.name, "siptrust");
});

test("pretty mode prints time, level, message and the fields as key=value", () => {
  const lines: string[] = [];
  const logger = createProxyLogger({ pretty: true, write: (line) => void lines.push(line) });
  logger.info({ listener: "tls", port: 5061, inside: { port: 5080 } }, "listening");
  assert.match(
    lines[0] ?? "",
    /^\d\d:\d\d:\d\d\.\d{3} INFO {2}listening listener=tls port=5061 inside=\{"port":5080\}\n$/,
  );
});

test("the level filter applies, and a line that is not JSON passes through unchanged", () => {
  const lines: string[] = [];
  const logger = createProxyLogger({ level: "warn", pretty: true, write: (line) => void lines.push(line) });
  logger.info({}, "not shown");
  assert.equal(lines.length, 0);
  assert.equal(prettyLine("plain text\n"), "plain text\n");
});
