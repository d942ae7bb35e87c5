/**
 * A configuration that cannot be used. Every problem is listed at once, each naming the file, the line
 * and the key path, so that an operator fixes a file in one pass (Kamailio-style profiles, but checked).
 */
export interface ConfigProblem {
  /** The file the problem is in (as the operator named it). */
  readonly file: string;
  /** 1-based line of the offending key or value; 0 when the problem is not tied to a line. */
  readonly line: number;
  /** Dotted key path, e.g. `listeners[0].clientCertificates`; empty for the whole document. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "bad-config";

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file;
  return problem.key ? `${where}: ${problem.key}: ${problem.message}` : `${where}: ${problem.message}`;
}
