// One running edge for the hostile-input tests: `siptrust serve --config <yaml>` (../proxy/edge-process.ts,
// ready when GET /health says ok) with one TLS listener (client certificates required), the inside on UDP,
// one inner UDP server (./inner-uas.ts) and the admin API, all on loopback with fresh ports. The partner's
// certificate (sip:a.example) is a trusted identity, so the torture messages' From domains are not
// refused by RFC 5922 authorization and each message reaches the checks it was written for.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { freeUdpPort } from "../kamailio/proxy-ports.js";
import { EdgeProcess } from "../proxy/edge-process.js";
import { createProxyPki, EDGE_NAME, writePkiFiles, type PkiFiles } from "../proxy/proxy-pki.js";
import { freeTcpPort } from "../tls/free-port.js";
import { makeTempDir, type TempDir } from "../tls/temp-dir.js";
import { InnerUas, type UasMode } from "./inner-uas.js";
import { requestText, type WireMessage } from "./sip-wire.js";
import { TlsPeer, type PeerCredentials } from "./tls-peer.js";

export interface LabOptions {
  readonly uasMode: UasMode;
  readonly maxTransactions?: number;
  /** connections.partialMessageTimeout (default here 1s: an incomplete message must not hold a test long). */
  readonly partialMessageTimeout?: string;
  /** proxy.timers.failoverAfter; the flood sets it long so no transaction ends during the flood. */
  readonly failoverAfter?: string;
}

export interface HostileLab {
  readonly edge: EdgeProcess;
  readonly uas: InnerUas;
  readonly tlsPort: number;
  readonly insidePort: number;
  readonly credentials: PeerCredentials;
  connect(): Promise<TlsPeer>;
  /** Everything the lab printed, for assertion messages. */
  describe(): string;
  close(): Promise<void>;
}

const LISTENER = "partners";

function configYaml(pki: PkiFiles, ports: Ports, uasPort: number, options: LabOptions): string {
  return stringify({
    caSets: { lab: { files: [pki.caFile] } },
    listeners: [
      {
        name: LISTENER,
        address: "127.0.0.1",
        port: ports.tls,
        certificates: [{ cert: pki.edge.cert, key: pki.edge.key }],
        clientCertificates: "required",
        clientCaSet: "lab",
      },
    ],
    authorization: { trustedIdentities: ["a.example"] },
    connections: { partialMessageTimeout: options.partialMessageTimeout ?? "1s" },
    ocsp: { policy: "off" },
    proxy: {
      inside: { address: "127.0.0.1", port: ports.inside, transport: "udp" },
      innerServers: { default: [{ address: "127.0.0.1", port: uasPort, transport: "udp" }] },
      identityHeader: "X-Siptrust-Identity",
      ...(options.failoverAfter === undefined ? {} : { timers: { failoverAfter: options.failoverAfter } }),
      ...(options.maxTransactions === undefined ? {} : { maxTransactions: options.maxTransactions }),
    },
    admin: { address: "127.0.0.1", port: ports.admin },
  });
}

interface Ports {
  readonly tls: number;
  readonly inside: number;
  readonly admin: number;
}

/** Key generation is the slow part: one PKI per test file. */
let pkiCache: ReturnType<typeof createProxyPki> | undefined;

export async function startHostileLab(options: LabOptions): Promise<HostileLab> {
  const dir: TempDir = makeTempDir("edge-hostile");
  const uas = await InnerUas.start(options.uasMode);
  let edge: EdgeProcess | undefined;
  try {
    pkiCache ??= createProxyPki();
    const files = writePkiFiles(dir, pkiCache);
    const ports: Ports = {
      tls: await freeTcpPort(),
      inside: await freeUdpPort(),
      admin: await freeTcpPort(),
    };
    uas.target = ports.inside;
    const config = dir.write("siptrust.yaml", configYaml(files, ports, uas.port, options));
    edge = await EdgeProcess.start(config, ports.admin);
    const credentials: PeerCredentials = {
      ca: readFileSync(files.caFile, "utf8"),
      cert: readFileSync(files.partnerA.cert, "utf8"),
      key: readFileSync(files.partnerA.key, "utf8"),
      serverName: EDGE_NAME,
    };
    const started = edge;
    return {
      edge: started,
      uas,
      tlsPort: ports.tls,
      insidePort: ports.inside,
      credentials,
      connect: () => TlsPeer.connect(ports.tls, credentials),
      describe: () => started.describe(60),
      close: async () => {
        await started.stop();
        await uas.close();
        dir.remove();
      },
    };
  } catch (err) {
    await edge?.stop();
    await uas.close();
    dir.remove();
    throw err;
  }
}

/** A fresh branch (RFC 3261 §8.1.1.7 magic cookie) and Call-ID. */
export function freshIds(prefix: string): { branch: string; callId: string } {
  const id = randomBytes(6).toString("hex");
  return { branch: `z9hG4bK${prefix}${id}`, callId: `${prefix}-${id}@hostile.test` };
}

/** OPTIONS to the edge itself (RFC 3261 §11.2), over `peer`: the edge answers it without the inner server. */
export function optionsToEdge(peer: TlsPeer, prefix = "probe"): { text: string; callId: string } {
  const { branch, callId } = freshIds(prefix);
  const text = requestText({
    method: "OPTIONS",
    requestUri: `sip:${EDGE_NAME}`,
    via: `TLS 127.0.0.1:${peer.localPort}`,
    branch,
    callId,
  });
  return { text, callId };
}

/** Sends OPTIONS to the edge on a new connection; the answer (or undefined) and how long it took. */
export async function probeEdge(
  lab: HostileLab,
  timeoutMs: number,
): Promise<{ answer: WireMessage | undefined; ms: number }> {
  const started = Date.now();
  const peer = await lab.connect();
  try {
    const { text, callId } = optionsToEdge(peer);
    peer.send(text);
    const answer = await peer.waitFor((m) => m.status !== undefined && m.raw.includes(callId), timeoutMs);
    return { answer, ms: Date.now() - started };
  } finally {
    peer.close();
  }
}

// ---- admin /metrics ---------------------------------------------------------------------------------------

export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** GET /metrics parsed into series (Prometheus text format 0.0.4). */
export async function scrape(lab: HostileLab): Promise<Series[]> {
  const answer = await lab.edge.request("GET", "/metrics");
  if (answer.status !== 200) throw new Error(`GET /metrics answered ${answer.status}`);
  const series: Series[] = [];
  for (const line of String(answer.body).split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    series.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return series;
}

/** The sum of every series of `name` whose labels include `labels`. */
export function total(series: readonly Series[], name: string, labels: Record<string, string> = {}): number {
  return series
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

// ---- memory ------------------------------------------------------------------------------------------------

/** VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssKiB: number; peakKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}
