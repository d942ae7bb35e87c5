/**
 * A real Kamailio 5.6 (Debian `kamailio` + `kamailio-tls-modules`) as a TLS peer for the interop tests.
 *
 * Each instance gets a private temp dir with a generated kamailio.cfg and tls.cfg, runs in the foreground
 * (`-DD -E`: no daemonizing, log to stderr) with small memory (`-m 64 -M 8`), one UDP and one TCP/TLS worker,
 * on 127.0.0.1 high ports, and is killed (its whole process group) in stop(), on process exit, and on
 * startup failure. Facts learned on this machine (Kamailio 5.6.3, OpenSSL 3.0):
 * - run as root it stays root when the config sets no user/group and `-u`/`-g` are not given;
 * - `-Y dir` sets the runtime dir (nothing is written under /run/kamailio);
 * - tm must be loaded before sl, or sl falls back to stateless-only mode (logged as an error);
 * - the tls module needs a `[server:default]` domain with a certificate; per-socket domains are
 *   `[server:IP:PORT]`; `[client:default]` is used for every outbound TLS connection.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as net from "node:net";
import * as dgram from "node:dgram";
import { register, unregister } from "../lab/cleanup.js";
import { requestText, udpTransaction } from "./sip-io.js";
import { killGroup, startGroupWatchdog, stopProcessGroup } from "../lab/process-group.js";

export const KAMAILIO_HOST = "127.0.0.1";
export const STARTUP_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const LOG_LIMIT = 256 * 1024;
export const READY_USER = "siptrust-ready";

/** One TLS domain of Kamailio's tls.cfg (a server socket or the client side). */
export interface KamailioTlsDomain {
  readonly certPem?: string;
  readonly keyPem?: string;
  /** CA certificates Kamailio verifies the peer against (`ca_list`). */
  readonly caPems?: readonly string[];
  /** `verify_certificate`: the peer's chain must verify against `ca_list` (OpenSSL's check). */
  readonly verifyCertificate: boolean;
  /** `require_certificate` (server side): a client without a certificate is refused. */
  readonly requireCertificate: boolean;
  /** `method`, default `TLSv1.2+`. */
  readonly method?: string;
  /** Client side only: the SNI name Kamailio sends (`server_name`, also set in the tls xavp by the route). */
  readonly serverName?: string;
}

/** What the routing script does with OPTIONS and MESSAGE requests. */
export type KamailioRoute =
  /** Answer 200 locally; the reply carries `X-Tls-Peer` with what Kamailio saw of the TLS peer. */
  | { readonly kind: "reply" }
  /** Relay statefully (tm) to host:port over TLS, as a federation peer forwarding to the edge. */
  | { readonly kind: "forward-tls"; readonly host: string; readonly port: number };

export interface KamailioOptions {
  /** One TLS listener per entry, each with its own server domain. At least one. */
  readonly tlsListeners: readonly KamailioTlsDomain[];
  readonly client?: KamailioTlsDomain;
  readonly route: KamailioRoute;
  /** tm final-response timeout (fr_timer), so a failed relay answers quickly. Default 3000 ms. */
  readonly finalResponseTimeoutMs?: number;
}

export interface Kamailio {
  readonly host: string;
  readonly udpPort: number;
  readonly tlsPorts: readonly number[];
  readonly dir: string;
  /** Everything Kamailio logged so far (bounded). */
  log(): string;
  stop(): Promise<void>;
}

const MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/** Interop suites fail (never skip silently) when Kamailio or its TLS module is missing (issue 3 §1). */
export function requireKamailio(): void {
  const probe = spawnSync("kamailio", ["-v"], { encoding: "utf8", timeout: 10_000 });
  const hint = "run `bash scripts/test-deps.sh` or set SIPTRUST_SKIP_INTEROP=1 to skip the interop suites";
  if (probe.error !== undefined || !/kamailio 5\./.test(probe.stdout)) {
    throw new Error(`kamailio is not installed (Debian package kamailio); ${hint}`);
  }
  if (!existsSync(join(MODULES, "tls.so"))) {
    throw new Error(`kamailio's tls module is missing (Debian package kamailio-tls-modules); ${hint}`);
  }
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  if (options.tlsListeners.length === 0) throw new Error("startKamailio: at least one TLS listener");
  const dir = mkdtempSync(join(tmpdir(), "siptrust-kamailio-"));
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let output = "";
  // Exit, SIGINT/SIGTERM/SIGHUP of the test process (lab/cleanup.ts), and a watchdog for SIGKILL/crash.
  const cleanable = {
    cleanupNow: (): void => {
      killGroup(child, "SIGKILL");
      killGroup(watchdog, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  register(cleanable);
  try {
    const udpPort = await freeUdpPort();
    const tlsPorts: number[] = [];
    for (const _ of options.tlsListeners) tlsPorts.push(await freeTcpPort());
    const files = writeConfig(dir, options, udpPort, tlsPorts);
    mkdirSync(join(dir, "run"));
    child = spawn(
      "kamailio",
      ["-DD", "-E", "-f", files.cfg, "-m", "64", "-M", "8", "-Y", join(dir, "run"), "-w", dir],
      { detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    watchdog = startGroupWatchdog("kamailio-watchdog", child.pid, dir);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (output.length < LOG_LIMIT) output += chunk;
    });
    const exited = new Promise<never>((_, reject) => {
      child?.once("error", (err) => reject(new Error(`kamailio did not start: ${err.message}`)));
      child?.once("exit", (code, signal) =>
        reject(new Error(`kamailio exited during startup (code ${code}, signal ${signal})\n${output}`)),
      );
    });
    exited.catch(() => undefined);
    const gone = (): boolean => child?.exitCode !== null || child.signalCode !== null;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    await Promise.race([waitForReady(udpPort, tlsPorts, deadline, () => output, gone), exited]);
    const running = child;
    const guard = watchdog;
    return {
      host: KAMAILIO_HOST,
      udpPort,
      tlsPorts,
      dir,
      log: () => output,
      stop: async () => {
        await stopProcessGroup(running, STOP_GRACE_MS);
        killGroup(guard, "SIGKILL");
        rmSync(dir, { recursive: true, force: true });
        unregister(cleanable);
      },
    };
  } catch (err) {
    cleanable.cleanupNow();
    unregister(cleanable);
    throw err;
  }
}

function writeConfig(
  dir: string,
  options: KamailioOptions,
  udpPort: number,
  tlsPorts: readonly number[],
): { cfg: string; tls: string } {
  const write = (name: string, content: string, mode = 0o644): string => {
    const file = join(dir, name);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    return file;
  };
  const sections: string[] = [];
  options.tlsListeners.forEach((domain, i) => {
    const port = tlsPorts[i] ?? 0;
    const body = tlsDomainBody(write, `server-${i}`, domain);
    // The default domain answers a socket without its own section; make it the first listener's.
    if (i === 0) sections.push(`[server:default]\n${body}`);
    sections.push(`[server:${KAMAILIO_HOST}:${port}]\n${body}`);
  });
  const client = options.client ?? { verifyCertificate: false, requireCertificate: false };
  sections.push(`[client:default]\n${tlsDomainBody(write, "client", client)}`);
  const tls = write("tls.cfg", sections.join("\n"));
  const cfg = write("kamailio.cfg", kamailioCfg(options, udpPort, tlsPorts, tls));
  return { cfg, tls };
}

function tlsDomainBody(
  write: (name: string, content: string, mode?: number) => string,
  name: string,
  domain: KamailioTlsDomain,
): string {
  const lines = [
    `method = ${domain.method ?? "TLSv1.2+"}`,
    `verify_certificate = ${domain.verifyCertificate ? "yes" : "no"}`,
    `require_certificate = ${domain.requireCertificate ? "yes" : "no"}`,
  ];
  if (domain.certPem !== undefined) lines.push(`certificate = ${write(`${name}.pem`, domain.certPem)}`);
  if (domain.keyPem !== undefined) lines.push(`private_key = ${write(`${name}.key`, domain.keyPem, 0o600)}`);
  if (domain.caPems !== undefined && domain.caPems.length > 0) {
    lines.push(`ca_list = ${write(`${name}-ca.pem`, domain.caPems.join(""))}`);
  }
  if (domain.serverName !== undefined) lines.push(`server_name = ${domain.serverName}`);
  return `${lines.join("\n")}\n`;
}

function kamailioCfg(
  options: KamailioOptions,
  udpPort: number,
  tlsPorts: readonly number[],
  tlsFile: string,
): string {
  const listens = [
    `listen=udp:${KAMAILIO_HOST}:${udpPort}`,
    ...tlsPorts.map((p) => `listen=tls:${KAMAILIO_HOST}:${p}`),
  ];
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
enable_tls=yes
dns=no
rev_dns=no
use_dns_cache=no
tcp_connect_timeout=2
${listens.join("\n")}

mpath="${MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "tls.so"
modparam("tls", "config", "${tlsFile}")
modparam("tls", "xavp_cfg", "tls")
modparam("tm", "fr_timer", ${options.finalResponseTimeoutMs ?? 3000})

request_route {
  # Readiness probe of kamailio.ts: proves the workers run the script (bound sockets alone do not).
  if (is_method("OPTIONS") && $rU == "${READY_USER}") {
    sl_send_reply("200", "Ready");
    exit;
  }
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (!is_method("OPTIONS|MESSAGE")) {
    sl_send_reply("405", "Method Not Allowed");
    exit;
  }
${routeBody(options.route, options.client?.serverName)}
}
`;
}

function routeBody(route: KamailioRoute, serverName: string | undefined): string {
  if (route.kind === "reply") {
    // What Kamailio's tls module saw of the peer, so a test can tell which client certificate arrived.
    return `  if (proto == TLS) {
    append_to_reply("X-Tls-Peer: verified=$tls_peer_verified; uri=$tls_peer_san_uri; cn=$tls_peer_subject_cn\\r\\n");
  }
  sl_send_reply("200", "OK");
  exit;`;
  }
  // Kamailio 5.6 sends SNI on outbound TLS only when the script names it in the tls xavp (xavp_cfg);
  // the client domain's server_name in tls.cfg alone is not sent.
  const sni = serverName === undefined ? "" : `  $xavp(tls=>server_name) = "${serverName}";\n`;
  return `  record_route();
${sni}  $du = "sip:${route.host}:${route.port};transport=tls";
  if (!t_relay()) {
    sl_reply_error();
  }
  exit;`;
}

/**
 * Ready = every TLS port accepts TCP and the script answers the readiness OPTIONS over UDP. Kamailio binds
 * its sockets before its workers initialize the tls module, so a bad certificate is only seen by the second
 * check (the process then exits).
 */
export async function waitForReady(
  udpPort: number,
  tlsPorts: readonly number[],
  deadline: number,
  log: () => string,
  gone: () => boolean,
): Promise<void> {
  const check = (): void => {
    if (gone()) throw new Error(`kamailio exited during startup\n${log()}`);
    if (Date.now() > deadline)
      throw new Error(`kamailio not ready within ${STARTUP_TIMEOUT_MS} ms\n${log()}`);
  };
  for (const port of tlsPorts) {
    while (!(await canConnect(port))) {
      check();
      await delay(50);
    }
  }
  for (let attempt = 0; ; attempt++) {
    check();
    const status = await probe(udpPort, attempt).catch(() => undefined);
    if (status === 200) return;
    await delay(50);
  }
}

function probe(udpPort: number, attempt: number): Promise<number | undefined> {
  return udpTransaction(
    KAMAILIO_HOST,
    udpPort,
    (localPort) =>
      requestText({
        method: "OPTIONS",
        requestUri: `sip:${READY_USER}@${KAMAILIO_HOST}:${udpPort}`,
        from: "sip:probe@127.0.0.1",
        to: `sip:${READY_USER}@${KAMAILIO_HOST}`,
        callId: `ready-${process.pid}-${udpPort}-${attempt}`,
        via: { transport: "UDP", sentBy: `127.0.0.1:${localPort}` },
      }),
    300,
  ).then((response) => response.status);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, KAMAILIO_HOST);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, KAMAILIO_HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, KAMAILIO_HOST, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
