/**
 * Validates positioned YAML against a zod schema and turns every schema issue into a ConfigProblem that
 * names file, line and key. The result is plain data: lower layers never see the config module.
 */
import type { ZodType, ZodTypeDef } from "zod";
import { ConfigError, type ConfigProblem } from "./config-error.js";
import { parseYaml, type PositionedYaml } from "./yaml-document.js";

export function loadConfigText<T>(text: string, file: string, schema: ZodType<T, ZodTypeDef, unknown>): T {
  return validateYaml(parseYaml(text, file), schema);
}

export function validateYaml<T>(yaml: PositionedYaml, schema: ZodType<T, ZodTypeDef, unknown>): T {
  const parsed = schema.safeParse(yaml.data);
  if (parsed.success) return parsed.data;
  const problems: ConfigProblem[] = parsed.error.issues.map((issue) => ({
    file: yaml.file,
    line: yaml.lineOf(issue.path),
    key: formatKeyPath(issue.path),
    message: issue.message,
  }));
  throw new ConfigError(problems);
}

export function formatKeyPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    "",
  );
}
