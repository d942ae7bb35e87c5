// A foreground daemon started by a test: its output goes to a log file (whose tail goes into
// error messages), and it can be stopped gracefully with a bounded wait, then killed.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class Daemon {
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logPath: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      // spawn errors (ENOENT) arrive here, not as exceptions
      child.once("error", (err) => {
        this.exitInfo ??= { code: null, signal: null };
        writeFileSync(logPath, `\nspawn error: ${err.message}\n`, { flag: "a" });
        resolve();
      });
    });
  }

  /** Starts `command` with stdout/stderr appended to `logPath`; its pid is written to `pidDir/<name>.pid`. */
  static start(
    name: string,
    command: string,
    args: readonly string[],
    logPath: string,
    pidDir: string,
  ): Daemon {
    const fd = openSync(logPath, "a");
    try {
      const child = spawn(command, args, { stdio: ["ignore", fd, fd] });
      const daemon = new Daemon(name, child, logPath);
      if (child.pid !== undefined) writeFileSync(join(pidDir, `${name}.pid`), `${child.pid}\n`);
      return daemon;
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  describeExit(): string {
    if (this.exitInfo === undefined) return `${this.name} is running`;
    const { code, signal } = this.exitInfo;
    return `${this.name} exited (${signal !== null ? `signal ${signal}` : `code ${String(code)}`})`;
  }

  log(): string {
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  logTail(lines = 15): string {
    return this.log().trimEnd().split("\n").slice(-lines).join("\n");
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL and wait for the exit to be reaped. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  /** For process-exit handlers, which cannot wait. */
  killNow(): void {
    if (this.running) this.child.kill("SIGKILL");
  }
}
