/**
 * The daemon's logger: pino JSON lines (what log shippers read), or — when stdout is a terminal — a short
 * human line per record (`12:00:01.234 INFO  listening listener=tls port=5061`). pino-pretty is not a
 * dependency; this formatter is a few lines and only used interactively.
 */
import { pino, type DestinationStream, type Logger } from "pino";

export interface ProxyLoggerOptions {
  readonly level?: string;
  /** Default: true when stdout is a TTY. */
  readonly pretty?: boolean;
  /** Where lines go; default stdout. */
  readonly write?: (line: string) => void;
}

export function createProxyLogger(options: ProxyLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const stream: DestinationStream = { write: pretty ? (line) => write(prettyLine(line)) : write };
  return pino({ name: "siptrust", level: options.level ?? "info" }, stream);
}

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
};
const OMIT = new Set(["level", "time", "msg", "pid", "hostname", "name"]);

/** One JSON record → one readable line; anything that is not JSON passes through unchanged. */
export function prettyLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 23) : "";
  const level = LEVELS[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return `${time} ${level} ${String(record.msg ?? "")}${fields.length ? " " + fields.join(" ") : ""}\n`;
}
