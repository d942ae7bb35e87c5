/**
 * CN mapping file: which SIP identities a certificate with a given subject CN may speak for.
 *
 * Devices often carry factory certificates whose only name is a CN such as a MAC address; RFC 5922 gives
 * such a certificate no usable SIP identity, so the operator states one (DESIGN.md, "devices").
 *
 * Format, one entry a line:   CN<TAB>id[,id…]
 *   - `#` as first non-blank character: comment; blank lines are ignored;
 *   - exactly one TAB separates the CN from the ids; ids are comma-separated, blanks around commas allowed;
 *   - an id is `domain`, `user@domain` or a full `sip:` URI (see identity.ts for the exact rules).
 * Strict: every bad line, empty id, CN listed twice or invalid domain is an error naming `file:line`;
 * all errors are collected and thrown together as one CnMappingError.
 */
import { parseIdentityText, sameIdentity, type PeerIdentity } from "./identity.js";

export interface CnMapping {
  readonly source: string;
  /** CN (exact, case-sensitive string) → identities, in file order. */
  readonly entries: ReadonlyMap<string, readonly PeerIdentity[]>;
}

export type CnMappingErrorCode =
  | "missing-tab"
  | "extra-tab"
  | "empty-cn"
  | "bad-cn"
  | "empty-id"
  | "invalid-id"
  | "duplicate-id"
  | "duplicate-cn";

export interface CnMappingProblem {
  readonly file: string;
  readonly line: number;
  readonly code: CnMappingErrorCode;
  readonly reason: string;
}

/** Bound on collected problems: a wrong file (say, a binary) must not build an unbounded error list. */
export const MAX_REPORTED_PROBLEMS = 200;

export class CnMappingError extends Error {
  readonly code = "cn-mapping-invalid";
  constructor(
    readonly source: string,
    readonly problems: readonly CnMappingProblem[],
    readonly omitted: number,
  ) {
    super(describeProblems(source, problems, omitted));
    this.name = "CnMappingError";
  }
}

function describeProblems(source: string, problems: readonly CnMappingProblem[], omitted: number): string {
  const lines = problems.map((p) => `${p.file}:${p.line}: ${p.reason}`);
  if (omitted > 0) lines.push(`… and ${omitted} more problem(s)`);
  return `${source}: ${problems.length + omitted} problem(s) in CN mapping\n${lines.join("\n")}`;
}

/** X.520 ub-common-name (RFC 5280 Appendix A): a longer CN cannot occur in a certificate. */
const MAX_CN = 64;

type LineProblem = { code: CnMappingErrorCode; reason: string };

class ProblemList {
  readonly list: CnMappingProblem[] = [];
  omitted = 0;
  constructor(private readonly file: string) {}
  add(line: number, problem: LineProblem): void {
    if (this.list.length >= MAX_REPORTED_PROBLEMS) this.omitted++;
    else this.list.push({ file: this.file, line, ...problem });
  }
}

export function parseCnMapping(text: string, fileName: string): CnMapping {
  const problems = new ProblemList(fileName);
  const entries = new Map<string, readonly PeerIdentity[]>();
  const firstLine = new Map<string, number>();
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (isSkippable(line)) return;
    const parsed = parseLine(line);
    parsed.problems.forEach((p) => problems.add(lineNo, p));
    if (parsed.cn === undefined) return;
    const earlier = firstLine.get(parsed.cn);
    if (earlier !== undefined) {
      problems.add(lineNo, {
        code: "duplicate-cn",
        reason: `CN "${parsed.cn}" already listed at ${fileName}:${earlier}`,
      });
      return;
    }
    firstLine.set(parsed.cn, lineNo);
    if (parsed.problems.length === 0) entries.set(parsed.cn, parsed.identities);
  });
  if (problems.list.length > 0) throw new CnMappingError(fileName, problems.list, problems.omitted);
  return { source: fileName, entries };
}

function isSkippable(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.length === 0 || trimmed.startsWith("#");
}

interface ParsedLine {
  /** Set whenever the CN itself is usable, so duplicate CNs are found even on lines with bad ids. */
  cn: string | undefined;
  identities: PeerIdentity[];
  problems: LineProblem[];
}

function parseLine(line: string): ParsedLine {
  const tab = line.indexOf("\t");
  if (tab < 0) return fail({ code: "missing-tab", reason: "missing TAB between CN and ids" });
  const cn = line.slice(0, tab);
  const rest = line.slice(tab + 1);
  if (rest.includes("\t")) return fail({ code: "extra-tab", reason: "more than one TAB on the line" });
  const cnProblem = checkCn(cn);
  if (cnProblem !== undefined) return fail(cnProblem);
  const ids = parseIds(rest);
  return { cn, ...ids };
}

function fail(problem: LineProblem): ParsedLine {
  return { cn: undefined, identities: [], problems: [problem] };
}

function checkCn(cn: string): LineProblem | undefined {
  if (cn.trim().length === 0) return { code: "empty-cn", reason: "empty CN" };
  if (cn.trim() !== cn) return { code: "bad-cn", reason: `CN "${cn}" has leading or trailing blanks` };
  if ([...cn].length > MAX_CN) return { code: "bad-cn", reason: `CN longer than ${MAX_CN} characters` };
  return undefined;
}

function parseIds(rest: string): { identities: PeerIdentity[]; problems: LineProblem[] } {
  const identities: PeerIdentity[] = [];
  const problems: LineProblem[] = [];
  rest.split(",").forEach((part, index) => {
    const id = part.trim();
    const position = index + 1;
    if (id.length === 0) {
      problems.push({ code: "empty-id", reason: `empty id (id #${position})` });
      return;
    }
    const parsed = parseIdentityText(id, "mapping");
    if (!parsed.ok) problems.push({ code: "invalid-id", reason: `id #${position}: ${parsed.reason}` });
    else if (identities.some((known) => sameIdentity(known, parsed.identity))) {
      problems.push({ code: "duplicate-id", reason: `id #${position} "${id}" listed twice for this CN` });
    } else identities.push(parsed.identity);
  });
  return { identities, problems };
}

/** Identities the mapping grants to a certificate with these subject CNs. */
export function mappedIdentities(mapping: CnMapping, subjectCns: readonly string[]): readonly PeerIdentity[] {
  // A subject with several CNs is ambiguous: which one did the operator mean? Grant nothing rather than guess.
  if (subjectCns.length !== 1) return [];
  return mapping.entries.get(subjectCns[0] ?? "") ?? [];
}
