// Runs Knot's `kdig` (an independent DNS client) against a lab server and parses what tests need:
// status, header flags, the Extended DNS Error (RFC 8914) and the answer section.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Endpoint } from "./dns-lab.js";

const run = promisify(execFile);

export interface KdigRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

export interface KdigResult {
  readonly status: string;
  readonly flags: ReadonlySet<string>;
  readonly ede: { readonly code: number; readonly text: string } | undefined;
  readonly answer: readonly KdigRecord[];
  readonly authority: readonly KdigRecord[];
  readonly raw: string;
}

function section(lines: readonly string[], title: string): KdigRecord[] {
  const start = lines.indexOf(`;; ${title} SECTION:`);
  if (start === -1) return [];
  const records: KdigRecord[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "" || line.startsWith(";;")) break;
    const [name, ttl, , type, ...data] = line.split(/\s+/);
    records.push({ name: name ?? "", ttl: Number(ttl), type: type ?? "", data: data.join(" ") });
  }
  return records;
}

export function parseKdig(raw: string): KdigResult {
  const lines = raw.split("\n");
  const status = /status: ([A-Z]+)/.exec(raw)?.[1];
  const flags = /;; Flags: ([a-z ]*);/.exec(raw)?.[1];
  const ede = /;; EDE: (\d+)(.*)$/m.exec(raw);
  if (status === undefined || flags === undefined) throw new Error(`kdig printed no DNS header:\n${raw}`);
  return {
    status,
    flags: new Set(flags.trim().split(/\s+/)),
    ede: ede === null ? undefined : { code: Number(ede[1]), text: (ede[2] ?? "").trim() },
    answer: section(lines, "ANSWER"),
    authority: section(lines, "AUTHORITY"),
    raw,
  };
}

/** `kdig @host -p port +dnssec [extra…] name type`, one try, bounded (2 s per try, 5 s overall). */
export async function kdig(
  server: Endpoint,
  name: string,
  type: string,
  extra: readonly string[] = [],
): Promise<KdigResult> {
  const args = [
    `@${server.host}`,
    "-p",
    String(server.port),
    "+dnssec",
    "+time=2",
    "+retry=0",
    ...extra,
    name,
    type,
  ];
  const { stdout } = await run("kdig", args, { timeout: 5000 });
  return parseKdig(stdout);
}
