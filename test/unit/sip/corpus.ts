/** Access to the shared RFC 4475 corpus for the SIP tests (it sits beside the repository: ../shared/corpora). */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const RFC4475_DIR = resolve(REPO_ROOT, "..", "shared", "corpora", "rfc4475");

export interface CorpusRow {
  readonly file: string;
  readonly verdict: "valid" | "invalid" | "valid?" | "invalid?";
  readonly section: string;
  readonly reason: string;
}

/** The rows of expected.tsv (header comment skipped). */
export function corpusRows(): CorpusRow[] {
  const text = readFileSync(join(RFC4475_DIR, "expected.tsv"), "utf8");
  return text
    .split("\n")
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .map((line) => {
      const [file, verdict, section, reason] = line.split("\t");
      return {
        file: file!,
        verdict: verdict as CorpusRow["verdict"],
        section: section!,
        reason: reason ?? "",
      };
    });
}

export function corpusBytes(file: string): Buffer {
  return readFileSync(join(RFC4475_DIR, file));
}

/** Every corpus message, as raw bytes. */
export function allCorpusMessages(): Buffer[] {
  return corpusRows().map((r) => corpusBytes(r.file));
}
