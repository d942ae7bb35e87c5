/**
 * `siptrust sip parse <file|->`: reads one captured SIP message (datagram rules: trailing octets after the
 * Content-Length body are ignored), prints its structure or why it is invalid. A person uses it to lint a
 * message. Exit 0 valid, 1 invalid, 2 unreadable input or usage error.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  DEFAULT_LIMITS,
  SipParseError,
  checkRequestWellFormed,
  parseMessage,
  validateRequest,
  validateResponse,
  type SipMessage,
} from "../../sip/index.js";
import { describeMessage } from "../../sip/describe.js";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";

/** More than any acceptable message: enough to let the parser report too-large, bounded for stdin. */
const MAX_INPUT = DEFAULT_LIMITS.maxHeaderBytes + DEFAULT_LIMITS.maxBodyBytes + 1;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size > MAX_INPUT) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_INPUT);
}

async function readInput(source: string): Promise<Buffer> {
  try {
    return source === "-" ? await readStdin() : await readFile(source);
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as Error).message}`);
  }
}

interface Invalid {
  ok: false;
  code: string;
  detail: string;
  offset?: number;
  header?: string;
}

/** Syntax-level verdict: parse errors and malformed headers are invalid; routing policy is reported only. */
function wellFormed(msg: SipMessage): Invalid | undefined {
  if (msg.isRequest) {
    const r = checkRequestWellFormed(msg);
    return r.ok
      ? undefined
      : { ok: false, code: r.code, detail: r.detail, offset: r.offset, header: r.header };
  }
  const r = validateResponse(msg);
  return r.ok ? undefined : { ok: false, code: r.code, detail: r.detail, offset: r.offset, header: r.header };
}

function printInvalid(inv: Invalid, json: boolean): number {
  if (json) process.stdout.write(JSON.stringify(inv) + "\n");
  else {
    const where = inv.offset === undefined ? "" : ` at byte ${inv.offset}`;
    process.stderr.write(`invalid: ${inv.code}${where}: ${inv.detail}\n`);
  }
  return EXIT_NO;
}

function printValid(msg: SipMessage, json: boolean): void {
  const description = describeMessage(msg);
  const proxyVerdict = msg.isRequest ? validateRequest(msg) : undefined;
  if (json) {
    process.stdout.write(
      JSON.stringify({ ok: true, code: "valid", ...description, proxyVerdict }, null, 2) + "\n",
    );
    return;
  }
  const first =
    description.kind === "request"
      ? `${description.method} ${description.requestUri} ${description.version}`
      : `${description.version} ${description.status} ${description.reason}`;
  const lines = [`valid ${description.kind}: ${first}`];
  for (const h of description.headers) {
    lines.push(`  ${h.name}: ${h.value}${h.name.toLowerCase() === h.key ? "" : `   [${h.key}]`}`);
  }
  lines.push(`  body: ${description.bodyLength} bytes`);
  if (proxyVerdict !== undefined && !proxyVerdict.ok) {
    lines.push(
      `  a proxy would answer ${proxyVerdict.status} ${proxyVerdict.reason} (${proxyVerdict.code}: ${proxyVerdict.detail})`,
    );
  }
  process.stdout.write(lines.join("\n") + "\n");
}

export async function sipParse(source: string, options: { json?: boolean }): Promise<number> {
  const json = options.json === true;
  const input = await readInput(source);
  let msg: SipMessage;
  try {
    msg = parseMessage(input);
  } catch (err) {
    if (!(err instanceof SipParseError)) throw err;
    const inv: Invalid = { ok: false, code: err.code, detail: err.message, offset: err.offset };
    if (err.header !== undefined) inv.header = err.header;
    return printInvalid(inv, json);
  }
  const inv = wellFormed(msg);
  if (inv !== undefined) return printInvalid(inv, json);
  printValid(msg, json);
  return EXIT_OK;
}

export function registerSipCommands(program: Command): void {
  const sip = program.command("sip").description("SIP message tools");
  sip
    .command("parse")
    .description(
      "parse one SIP message and print its structure, or why it is invalid (exit 0 valid, 1 invalid, 2 unreadable)",
    )
    .argument("<file>", "file holding the raw message bytes, or - for standard input")
    .option("--json", "print JSON: the structure, or {ok:false, code, detail}")
    .action(async (file: string, options: { json?: boolean }) => {
      process.exitCode = await sipParse(file, options);
    });
}
