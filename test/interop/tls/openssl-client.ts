// `openssl s_client` as a real TLS peer: started with a bounded lifetime, fed one SIP request on stdin,
// kept open until the listener has seen that request (or the server has closed the connection), then
// ended. Its stdout (certificate chain, CA names, protocol) and stderr (alerts) are returned for asserts.
import { spawn, type ChildProcess } from "node:child_process";

export interface SClientRun {
  readonly exitCode: number | null;
  /** True when s_client had to be killed at the deadline: a hang, never an expected outcome. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SClientOptions {
  readonly port: number;
  readonly args: readonly string[];
  /** Written to stdin once the process runs. */
  readonly input?: string;
  /**
   * stdin stays open until this holds (given s_client's output so far) or the process exits: s_client
   * closes the connection at end of input, so ending it early would cut off the server's answer.
   */
  readonly doneWhen?: (stdout: string) => boolean;
  readonly timeoutMs?: number;
}

const running = new Set<ChildProcess>();

/** Kills every s_client still running (for t.after; a normal run leaves none). */
export function killAllSClients(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

export function runSClient(options: SClientOptions): Promise<SClientRun> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${options.port}`, ...options.args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.on("error", () => undefined); // the server may close first: EPIPE is expected then
  if (options.input !== undefined) child.stdin.write(options.input);
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const poll = setInterval(() => {
      if (options.doneWhen === undefined || options.doneWhen(stdout)) child.stdin.end();
    }, 20);
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearInterval(poll);
      clearTimeout(killer);
      running.delete(child);
      reject(err);
    });
    child.once("close", (exitCode) => {
      clearInterval(poll);
      clearTimeout(killer);
      running.delete(child);
      resolve({ exitCode, timedOut, stdout, stderr });
    });
  });
}

/** The subject line s_client prints for the server's leaf certificate. */
export function servedSubject(run: SClientRun): string | undefined {
  return /^subject=(.*)$/m.exec(run.stdout)?.[1]?.trim();
}

/** The CA names the server sent in its CertificateRequest (empty when it asked for none). */
export function acceptableCaNames(run: SClientRun): string[] {
  const lines = run.stdout.split("\n");
  const start = lines.indexOf("Acceptable client certificate CA names");
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("Requested") || line.startsWith("---") || line.includes(":")) break;
    names.push(line.trim());
  }
  return names;
}
