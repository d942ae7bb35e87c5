/**
 * `siptrust status`, `siptrust connections`, `siptrust reload`: talk to a running edge's admin API
 * (src/proxy/admin/admin-server.ts). Human-readable by default, `--json` prints the API's answer as is.
 *
 * Exit codes: 0 = healthy / listed / reload applied; 1 = unhealthy / reload refused or failed;
 * 2 = usage, unreadable token file, admin API unreachable, unauthorized or an unexpected answer.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import { formatProblem } from "../../config/config-error.js";
import {
  AdminClientError,
  DEFAULT_ADMIN_URL,
  adminRequest,
  parseAdminUrl,
  type AdminResponse,
} from "../../proxy/admin/admin-client.js";
import type { ConnectionView } from "../../proxy/admin/admin-target.js";

export interface AdminOptions {
  readonly admin: string;
  readonly tokenFile?: string;
  /** Milliseconds, as typed on the command line. */
  readonly timeout: string;
  readonly json: boolean;
}

/** What a verb prints on stdout and the exit code; exit 2 cases throw UsageError instead. */
export interface AdminOutcome {
  readonly exitCode: number;
  readonly stdout: string;
}

export function registerAdminCommands(program: Command): void {
  const verbs: ReadonlyArray<readonly [string, string, (opts: AdminOptions) => Promise<AdminOutcome>]> = [
    ["status", "health of a running edge (admin API GET /health)", adminStatus],
    ["connections", "open TLS connections of a running edge (GET /connections)", adminConnections],
    [
      "reload",
      "reload a running edge's configuration (POST /reload); prints every problem if refused",
      adminReload,
    ],
  ];
  for (const [name, description, verb] of verbs) {
    withAdminOptions(program.command(name).description(description)).action(async (opts: AdminOptions) => {
      const outcome = await verb(opts);
      process.stdout.write(outcome.stdout);
      process.exitCode = outcome.exitCode;
    });
  }
}

function withAdminOptions(command: Command): Command {
  return command
    .option(
      "--admin <url>",
      "admin API base URL (env SIPTRUST_ADMIN)",
      process.env["SIPTRUST_ADMIN"] || DEFAULT_ADMIN_URL,
    )
    .option("--token-file <file>", "file holding the admin bearer token")
    .option("--timeout <ms>", "give up after this many milliseconds", "5000")
    .option("--json", "print the API's JSON answer as is", false);
}

/** `siptrust status`: 0 healthy, 1 unhealthy. */
export async function adminStatus(opts: AdminOptions): Promise<AdminOutcome> {
  const res = await ask(opts, "GET", "/health");
  const body = expectJson(res, [200, 503]) as Record<string, unknown>;
  return {
    exitCode: res.status === 200 && body["ok"] === true ? EXIT_OK : EXIT_NO,
    stdout: opts.json ? raw(res) : describeHealth(body),
  };
}

/** `siptrust connections`: 0 with the list (empty included). */
export async function adminConnections(opts: AdminOptions): Promise<AdminOutcome> {
  const res = await ask(opts, "GET", "/connections");
  const body = expectJson(res, [200]) as { connections?: ConnectionView[] };
  return { exitCode: EXIT_OK, stdout: opts.json ? raw(res) : connectionTable(body.connections ?? []) };
}

/** `siptrust reload`: 0 applied, 1 refused (every problem listed) or failed. */
export async function adminReload(opts: AdminOptions): Promise<AdminOutcome> {
  const res = await ask(opts, "POST", "/reload");
  const body = expectJson(res, [200, 409, 500]) as Record<string, unknown>;
  return {
    exitCode: res.status === 200 ? EXIT_OK : EXIT_NO,
    stdout: opts.json ? raw(res) : describeReload(res.status, body),
  };
}

function raw(res: AdminResponse): string {
  return res.text.endsWith("\n") ? res.text : res.text + "\n";
}

async function ask(opts: AdminOptions, method: "GET" | "POST", path: string): Promise<AdminResponse> {
  const timeoutMs = Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout ${opts.timeout}: not a positive integer`);
  try {
    const base = parseAdminUrl(opts.admin);
    const token = opts.tokenFile === undefined ? undefined : readToken(opts.tokenFile);
    const res = await adminRequest(base, {
      method,
      path,
      timeoutMs,
      ...(token !== undefined ? { token } : {}),
    });
    if (res.status === 401) {
      throw new UsageError(
        `${opts.admin}: unauthorized (${opts.tokenFile ? "the token was not accepted" : "the admin API needs --token-file"})`,
      );
    }
    return res;
  } catch (err) {
    if (err instanceof AdminClientError) throw new UsageError(`cannot reach the admin API: ${err.message}`);
    throw err;
  }
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `${file}: cannot read the token file (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  // The first line, as the daemon reads admin.tokenFile (config/proxy-schema.ts).
  const token = (text.split(/\r?\n/)[0] ?? "").trim();
  if (token === "") throw new UsageError(`${file}: the token file is empty`);
  return token;
}

function expectJson(res: AdminResponse, statuses: readonly number[]): unknown {
  if (statuses.includes(res.status)) {
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      // fall through: not the admin API we expect
    }
  }
  throw new UsageError(`unexpected answer from the admin API: HTTP ${res.status} ${res.text.slice(0, 200)}`);
}

function describeHealth(body: Record<string, unknown>): string {
  const lines = [
    `${body["ok"] === true ? "healthy" : "UNHEALTHY"}: generation ${String(body["generation"])}, up ${formatDuration(Number(body["uptimeSeconds"]))}`,
  ];
  for (const [key, value] of Object.entries(body)) {
    if (key === "ok" || key === "generation" || key === "uptimeSeconds") continue;
    lines.push(
      `  ${key}: ${typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`,
    );
  }
  return lines.join("\n") + "\n";
}

function describeReload(status: number, body: Record<string, unknown>): string {
  if (status === 200) {
    const c = body["connections"] as { policy?: string; kept?: number; closed?: unknown[] } | undefined;
    const conn = c
      ? `; connections: ${c.policy ?? "?"}, kept ${c.kept ?? 0}, closed ${c.closed?.length ?? 0}`
      : "";
    return `reload applied: generation ${String(body["generation"])} (${String(body["code"])})${conn}\n`;
  }
  if (status === 500) return `reload failed: ${String(body["detail"] ?? body["code"])}\n`;
  const problems = Array.isArray(body["problems"])
    ? (body["problems"] as Parameters<typeof formatProblem>[0][])
    : [];
  const head = `reload refused (${String(body["code"])}): generation ${String(body["generation"])} keeps serving; ${problems.length} problem(s)`;
  return [head, ...problems.map((p) => `  ${formatProblem(p)}`)].join("\n") + "\n";
}

const COLUMNS: ReadonlyArray<readonly [string, (c: ConnectionView) => string]> = [
  ["DIR", (c) => (c.direction === "inbound" ? "in" : "out")],
  ["ID", (c) => c.id],
  ["PEER", (c) => c.peer],
  ["AGE", (c) => formatDuration(c.ageSeconds)],
  ["GEN", (c) => String(c.generation)],
  ["STATE", (c) => c.state],
  ["SNI", (c) => c.sni ?? "-"],
  ["TLS", (c) => `${c.tls.version} ${c.tls.cipher}`],
  ["VERIFIED", (c) => [c.verification.code, c.verification.method].filter(Boolean).join("/")],
  ["IDENTITIES", (c) => list(c.identities)],
  ["ALIASES", (c) => list(c.aliases)],
  ["CLIENT-CERT", (c) => c.clientCertificate?.name ?? "-"],
  ["TX", (c) => String(c.activeTransactions)],
];

function connectionTable(rows: readonly ConnectionView[]): string {
  if (rows.length === 0) return "no open connections\n";
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return (
    cells
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

function list(values: readonly string[] | undefined): string {
  return values && values.length > 0 ? values.join(",") : "-";
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}
