// The daemon under test: `node bin/siptrust.js serve --config <file>` as a child process. Ready when its admin
// API answers GET /health with ok; its output (pino JSON lines) is kept, bounded, for failure messages. It is
// stopped in t.after, and killed by the lab cleanup handlers if the test process exits another way.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { register, unregister, type Cleanable } from "../lab/cleanup.js";
import { delay } from "../tls/wait.js";

const BIN = fileURLToPath(new URL("../../../bin/siptrust.js", import.meta.url));
const OUTPUT_LIMIT = 512 * 1024;
const READY_TIMEOUT_MS = 40_000;
const HTTP_TIMEOUT_MS = 3_000;

export interface HealthAnswer {
  readonly ok: boolean;
  readonly generation: number;
  readonly [key: string]: unknown;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class EdgeProcess implements Cleanable {
  private output = "";
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly adminPort: number,
    readonly args: readonly string[],
  ) {
    const keep = (d: string): void => {
      this.output = (this.output + d).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.setEncoding("utf8").on("data", keep);
    child.stderr?.setEncoding("utf8").on("data", keep);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      child.once("error", (err) => {
        keep(`\nspawn error: ${err.message}`);
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  /** Starts the daemon and waits until /health says ok (or fails with what it printed). */
  static async start(configFile: string, adminPort: number): Promise<EdgeProcess> {
    const args = [BIN, "serve", "--config", configFile];
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const edge = new EdgeProcess(child, adminPort, args);
    register(edge);
    try {
      await edge.waitReady();
    } catch (err) {
      await edge.stop();
      throw err;
    }
    return edge;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  log(): string {
    return this.output;
  }

  /** The daemon's log records (pino JSON lines); other lines are skipped. */
  logRecords(): Array<Record<string, unknown>> {
    return this.output.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  describe(lines = 40): string {
    const state =
      this.exitInfo === undefined
        ? "running"
        : `exited (code ${String(this.exitInfo.code)}, signal ${String(this.exitInfo.signal)})`;
    const tail = this.output.trimEnd().split("\n").slice(-lines).join("\n");
    return `edge ${state}: node ${this.args.join(" ")}\nedge output (tail):\n${tail}`;
  }

  async request(method: "GET" | "POST", path: string): Promise<HttpAnswer> {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, {
      method,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // metrics are text
    }
    return { status: response.status, body };
  }

  async health(): Promise<HealthAnswer> {
    const answer = await this.request("GET", "/health");
    return answer.body as HealthAnswer;
  }

  /** GET /metrics as series → value, e.g. `siptrust_events_total{name="proxy.failover.next"}` → 20. */
  async metrics(): Promise<Map<string, number>> {
    const answer = await this.request("GET", "/metrics");
    const series = new Map<string, number>();
    for (const line of String(answer.body).split("\n")) {
      if (line.startsWith("#") || line.trim() === "") continue;
      const space = line.lastIndexOf(" ");
      series.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return series;
  }

  /** SIGHUP: the daemon reloads its configuration file. */
  hangUp(): void {
    if (this.running) this.child.kill("SIGHUP");
  }

  private async waitReady(): Promise<void> {
    const start = Date.now();
    let last = "no answer yet";
    while (Date.now() - start < READY_TIMEOUT_MS) {
      if (!this.running) throw new Error(`the edge exited before it was ready\n${this.describe()}`);
      try {
        const health = await this.health();
        if (health.ok === true) return;
        last = JSON.stringify(health);
      } catch (err) {
        last = (err as Error).message;
      }
      await delay(100);
    }
    throw new Error(`the edge was not ready within ${READY_TIMEOUT_MS} ms (${last})\n${this.describe()}`);
  }

  /** SIGTERM (graceful shutdown), bounded; then SIGKILL. */
  async stop(graceMs = 5000): Promise<void> {
    unregister(this);
    if (!this.running) return;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (late) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  /** For exit handlers (lab/cleanup.ts), which cannot wait. */
  cleanupNow(): void {
    if (this.running) this.child.kill("SIGKILL");
  }
}
