/**
 * Reads YAML text into plain data while keeping where every key and value stood, so that a schema
 * error on `a.b[2].c` can be reported with its line.
 */
import { LineCounter, isMap, isSeq, parseDocument, type Document, type Node } from "yaml";
import { ConfigError, type ConfigProblem } from "./config-error.js";

export type KeyPath = ReadonlyArray<string | number>;

export interface PositionedYaml {
  readonly file: string;
  readonly data: unknown;
  /** 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: KeyPath): number;
}

/** Guards against "billion laughs": YAML aliases may not expand into more nodes than this. */
const MAX_ALIAS_COUNT = 100;

export function parseYaml(text: string, file: string): PositionedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = document.errors.map((err) => ({
    file,
    line: lineCounter.linePos(err.pos[0]).line,
    key: "",
    message: err.message.split("\n")[0] ?? err.message,
  }));
  if (problems.length > 0) throw new ConfigError(problems);
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError([{ file, line: 0, key: "", message: (err as Error).message }]);
  }
  return { file, data, lineOf: (path) => lineOfPath(document, lineCounter, path) };
}

function lineOfPath(document: Document, lines: LineCounter, path: KeyPath): number {
  let node: unknown = document.contents;
  let line = lineOfNode(node, lines);
  for (const key of path) {
    const child = childOf(node, key);
    if (child === undefined) break;
    node = child.value;
    line = lineOfNode(child.key ?? child.value, lines) || line;
  }
  return line;
}

function childOf(node: unknown, key: string | number): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find(
      (item) => String((item.key as { value?: unknown })?.value ?? item.key) === String(key),
    );
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof key === "number") {
    return key < node.items.length ? { value: node.items[key] } : undefined;
  }
  return undefined;
}

function lineOfNode(node: unknown, lines: LineCounter): number {
  const range = (node as Node | undefined)?.range;
  return range ? lines.linePos(range[0]).line : 0;
}
