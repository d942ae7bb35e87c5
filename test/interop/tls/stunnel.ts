// stunnel4 in client mode as the TLS side of a plain-TCP SIP peer (how SIPp, built without TLS, reaches the
// edge: one TLS connection per accepted TCP connection, with stunnel's client certificate). Foreground, no
// pid file, bounded start, killed by stop().
import { spawn, type ChildProcess } from "node:child_process";
import { until } from "./wait.js";
import type { TempDir } from "./temp-dir.js";

export interface StunnelService {
  readonly name: string;
  /** Plain TCP port stunnel accepts on (127.0.0.1). */
  readonly acceptPort: number;
  /** The TLS listener stunnel connects to. */
  readonly connectPort: number;
  readonly cert: string;
  readonly key: string;
  /** CA file for verifying the listener's certificate, and the name it must carry (also sent as SNI). */
  readonly caFile: string;
  readonly serverName: string;
}

export interface Stunnel {
  readonly log: () => string;
  stop(): Promise<void>;
}

function serviceSection(s: StunnelService): string {
  return [
    `[${s.name}]`,
    "client = yes",
    `accept = 127.0.0.1:${s.acceptPort}`,
    `connect = 127.0.0.1:${s.connectPort}`,
    `cert = ${s.cert}`,
    `key = ${s.key}`,
    `CAfile = ${s.caFile}`,
    "verifyChain = yes",
    `checkHost = ${s.serverName}`,
    `sni = ${s.serverName}`,
    "",
  ].join("\n");
}

export function stunnelConfig(services: readonly StunnelService[]): string {
  // Global options: stay in the foreground (the test owns the process), no pid file, log to stderr.
  return ["foreground = yes", "pid =", "debug = info", "", ...services.map(serviceSection)].join("\n");
}

export async function startStunnel(dir: TempDir, services: readonly StunnelService[]): Promise<Stunnel> {
  const configFile = dir.write("stunnel.conf", stunnelConfig(services));
  const child: ChildProcess = spawn("stunnel4", [configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (output += d));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
    child.once("error", (err) => {
      output += `\nspawn error: ${err.message}`;
      exited = true;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (!exited) child.kill("SIGKILL");
    await exit;
  };
  try {
    await until(
      () => exited || /Configuration successful/.test(output),
      "stunnel to load its configuration",
      10_000,
    );
    if (exited) throw new Error(`stunnel exited at start:\n${output}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { log: () => output, stop };
}
