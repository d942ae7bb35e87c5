/**
 * stunnel4 in client mode in front of SIPp (Debian's SIPp has no TLS): one TLS connection, with the
 * partner's client certificate and SNI, per TCP connection SIPp opens. Unlike the interop helper it logs
 * only errors (at hundreds of connections per second `debug = info` is megabytes) and turns session
 * resumption off, so that in scenario (b) every call is a full handshake with client-certificate
 * verification on both proxies alike.
 */
import type { TempDir } from "../../test/interop/tls/temp-dir.js";
import { until } from "../../test/interop/tls/wait.js";
import { startProcess, type Proc } from "./processes.js";
import { listening } from "./sockets.js";

export interface StunnelOptions {
  readonly acceptPort: number;
  readonly connectPort: number;
  readonly cert: string;
  readonly key: string;
  readonly caFile: string;
  readonly serverName: string;
}

export function stunnelConfig(o: StunnelOptions): string {
  return [
    "foreground = yes",
    "pid =",
    "debug = err",
    "",
    "[sipp]",
    "client = yes",
    `accept = 127.0.0.1:${o.acceptPort}`,
    `connect = 127.0.0.1:${o.connectPort}`,
    `cert = ${o.cert}`,
    `key = ${o.key}`,
    `CAfile = ${o.caFile}`,
    "verifyChain = yes",
    `checkHost = ${o.serverName}`,
    `sni = ${o.serverName}`,
    "sessionResume = no",
    // SIPp closes its TCP side at the end of a call (-t tn): do not wait for the proxy's close_notify.
    "TIMEOUTclose = 0",
    "socket = l:TCP_NODELAY=1",
    "socket = r:TCP_NODELAY=1",
    "",
  ].join("\n");
}

export async function startStunnel(dir: TempDir, options: StunnelOptions): Promise<Proc> {
  const file = dir.write("stunnel.conf", stunnelConfig(options));
  // `debug = err` hides the "Configuration successful" notice: wait for the accept port instead.
  const proc = startProcess("stunnel", "stunnel4", [file]);
  try {
    await until(() => !proc.running() || listening(options.acceptPort), "stunnel to listen", 10_000);
    if (!proc.running()) throw new Error(`stunnel exited at start:\n${proc.output()}`);
    return proc;
  } catch (err) {
    await proc.kill();
    throw err;
  }
}
