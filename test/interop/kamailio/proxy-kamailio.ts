/**
 * Kamailio 5.6 as a federation peer of the siptrust daemon (issue 7 §4), with a routing script of its own:
 * kamailio.ts only knows OPTIONS/MESSAGE, while calls need dialogs (record_route, loose_route, ACK/BYE/CANCEL).
 *
 * Two roles:
 * - `to-edge`: every new request arriving over UDP (from a SIPp UAC) is relayed statefully over TLS to the
 *   edge, with Kamailio's client certificate and SNI; in-dialog requests follow their Route set.
 * - `serve`: the SIP server of a foreign domain that the edge calls over TLS. OPTIONS and MESSAGE are answered
 *   locally with 200 and an `X-Kam-Seen` header (which TLS socket, what Kamailio saw of the edge's client
 *   certificate); INVITE dialogs are relayed over UDP to a SIPp UAS.
 *
 * Every request the script sees is logged as `siptrust-peer: <method> <call-id> rcv=<proto>:<port>` so a test
 * can prove which socket got requests, and which got none. Process handling as in kamailio.ts: foreground,
 * own process group, killed in stop(), on exit/signals (../lab/cleanup.ts) and by a watchdog shell.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register, unregister } from "../lab/cleanup.js";
import {
  KAMAILIO_HOST,
  READY_USER,
  STARTUP_TIMEOUT_MS,
  freeTcpPort,
  waitForReady,
  type KamailioTlsDomain,
} from "./kamailio.js";
import { freeUdpPort } from "./proxy-ports.js";
import { killGroup, startGroupWatchdog, stopProcessGroup } from "../lab/process-group.js";

const STOP_GRACE_MS = 3_000;
const LOG_LIMIT = 512 * 1024;
const MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/** A TLS listener with its own server domain. */
export type PeerTlsListener = KamailioTlsDomain;

export type PeerRole =
  | { readonly kind: "to-edge"; readonly edgeHost: string; readonly edgePort: number; readonly sni: string }
  /**
   * `domain`: the SIP domain Kamailio serves, put into its TLS-side Record-Route so that in-dialog requests
   * from the edge name a domain the edge can locate and verify by RFC 5922 (an IP address could not be).
   */
  | { readonly kind: "serve"; readonly domain: string; readonly uasPort?: number };

export interface PeerOptions {
  readonly tlsListeners: readonly PeerTlsListener[];
  /** `[client:default]`: the certificate Kamailio presents when it connects out over TLS. */
  readonly client?: KamailioTlsDomain;
  readonly role: PeerRole;
  /** tm fr_timer (ms); default 4000. */
  readonly finalResponseTimeoutMs?: number;
}

export interface PeerKamailio {
  readonly host: string;
  readonly udpPort: number;
  readonly tlsPorts: readonly number[];
  /** Everything Kamailio logged so far (bounded). */
  log(): string;
  /** The `siptrust-peer:` request lines logged so far. */
  requests(): PeerRequestLine[];
  stop(): Promise<void>;
}

export interface PeerRequestLine {
  readonly method: string;
  readonly callId: string;
  readonly proto: string;
  readonly port: number;
}

export async function startPeerKamailio(options: PeerOptions): Promise<PeerKamailio> {
  if (options.tlsListeners.length === 0) throw new Error("startPeerKamailio: at least one TLS listener");
  const dir = mkdtempSync(join(tmpdir(), "siptrust-kampeer-"));
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let output = "";
  const cleanable = {
    cleanupNow: (): void => {
      killGroup(child, "SIGKILL");
      killGroup(watchdog, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  register(cleanable);
  try {
    const udpPort = await freeUdpPort(KAMAILIO_HOST);
    const tlsPorts: number[] = [];
    for (const _ of options.tlsListeners) tlsPorts.push(await freeTcpPort());
    const cfg = writeFiles(dir, options, udpPort, tlsPorts);
    mkdirSync(join(dir, "run"));
    child = spawn(
      "kamailio",
      ["-DD", "-E", "-f", cfg, "-m", "64", "-M", "8", "-Y", join(dir, "run"), "-w", dir],
      { detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    watchdog = startGroupWatchdog("kamailio-watchdog", child.pid, dir);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (output.length < LOG_LIMIT) output += chunk;
    });
    const running = child;
    const exited = new Promise<never>((_, reject) => {
      running.once("error", (err) => reject(new Error(`kamailio did not start: ${err.message}`)));
      running.once("exit", (code, signal) =>
        reject(new Error(`kamailio exited during startup (code ${code}, signal ${signal})\n${output}`)),
      );
    });
    exited.catch(() => undefined);
    const gone = (): boolean => running.exitCode !== null || running.signalCode !== null;
    await Promise.race([
      waitForReady(udpPort, tlsPorts, Date.now() + STARTUP_TIMEOUT_MS, () => output, gone),
      exited,
    ]);
    const guard = watchdog;
    return {
      host: KAMAILIO_HOST,
      udpPort,
      tlsPorts,
      log: () => output,
      requests: () => parseRequestLines(output),
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

const REQUEST_LINE = /siptrust-peer: (\S+) (\S+) rcv=(\w+):(\d+)/g;

export function parseRequestLines(log: string): PeerRequestLine[] {
  return [...log.matchAll(REQUEST_LINE)].map((m) => ({
    method: m[1] ?? "",
    callId: m[2] ?? "",
    proto: (m[3] ?? "").toLowerCase(),
    port: Number(m[4]),
  }));
}

function writeFiles(dir: string, options: PeerOptions, udpPort: number, tlsPorts: readonly number[]): string {
  const write = (name: string, content: string, mode = 0o644): string => {
    const file = join(dir, name);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    return file;
  };
  const sections: string[] = [];
  options.tlsListeners.forEach((listener, i) => {
    const body = domainBody(write, `server-${i}`, listener);
    if (i === 0) sections.push(`[server:default]\n${body}`);
    sections.push(`[server:${KAMAILIO_HOST}:${tlsPorts[i] ?? 0}]\n${body}`);
  });
  const client = options.client ?? { verifyCertificate: false, requireCertificate: false };
  sections.push(`[client:default]\n${domainBody(write, "client", client)}`);
  const tlsFile = write("tls.cfg", sections.join("\n"));
  return write("kamailio.cfg", peerConfig(options, udpPort, tlsPorts, tlsFile));
}

function domainBody(
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

/** kamailio.cfg: listeners, the served domain as alias, modules, and the role's routing script. */
export function peerConfig(
  options: PeerOptions,
  udpPort: number,
  tlsPorts: readonly number[],
  tlsFile: string,
): string {
  const listens = [
    `listen=udp:${KAMAILIO_HOST}:${udpPort}`,
    ...tlsPorts.map((port) => `listen=tls:${KAMAILIO_HOST}:${port}`),
  ];
  // loose_route() must recognize the served domain in a Route as this proxy (`advertise` would need the
  // name to resolve, and Kamailio runs without DNS here).
  const aliases = options.role.kind === "serve" ? [`alias=${options.role.domain}`] : [];
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
${aliases.join("\n")}

mpath="${MODULES}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "tls.so"
modparam("tls", "config", "${tlsFile}")
modparam("tls", "xavp_cfg", "tls")
modparam("tm", "fr_timer", ${options.finalResponseTimeoutMs ?? 4000})
modparam("rr", "enable_double_rr", 1)

request_route {
  # Readiness probe: proves the workers run the script (bound sockets alone do not).
  if (is_method("OPTIONS") && $rU == "${READY_USER}") {
    sl_send_reply("200", "Ready");
    exit;
  }
  xlog("L_NOTICE", "siptrust-peer: $rm $ci rcv=$pr:$Rp\\n");
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) route(RELAY);
    exit;
  }
  if (has_totag()) {
    # RFC 3261 §16.4 / §16.12: in-dialog requests follow the Route set (our double Record-Route first).
    if (loose_route()) {
      route(RELAY);
      exit;
    }
    if (is_method("ACK")) {
      if (t_check_trans()) route(RELAY);
      exit;
    }
    sl_send_reply("404", "Not Here");
    exit;
  }
  t_check_trans();
${roleBody(options.role, udpPort)}
}

route[RELAY] {
${sniLine(options.role)}  if (!t_relay()) {
    sl_reply_error();
  }
  exit;
}
`;
}

/** Kamailio 5.6 sends SNI only when the script names it in the tls xavp (see README.md). */
function sniLine(role: PeerRole): string {
  return role.kind === "to-edge" ? `  $xavp(tls=>server_name) = "${role.sni}";\n` : "";
}

function roleBody(role: PeerRole, udpPort: number): string {
  if (role.kind === "to-edge") {
    return `  record_route();
  $du = "sip:${role.edgeHost}:${role.edgePort};transport=tls";
  route(RELAY);`;
  }
  const invite =
    role.uasPort === undefined
      ? `  sl_send_reply("405", "Method Not Allowed");
  exit;`
      : `  if (is_method("INVITE")) {
    # Double Record-Route by hand (rr README §5.6: first the outbound UDP side, then the inbound TLS side).
    record_route_preset("${KAMAILIO_HOST}:${udpPort};r2=on", "${role.domain}:$Rp;transport=tls;r2=on");
    $du = "sip:${KAMAILIO_HOST}:${role.uasPort};transport=udp";
    route(RELAY);
  }
  sl_send_reply("405", "Method Not Allowed");
  exit;`;
  return `  if (is_method("OPTIONS|MESSAGE")) {
    if (proto == TLS) {
      append_to_reply("X-Kam-Seen: port=$Rp; verified=$tls_peer_verified; cn=$tls_peer_subject_cn; uri=$tls_peer_san_uri\\r\\n");
    }
    sl_send_reply("200", "OK");
    exit;
  }
${invite}`;
}
