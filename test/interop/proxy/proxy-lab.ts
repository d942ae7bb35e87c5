// One proxy interop lab per test: a temp dir with the PKI, SIPp or scripted UASes on UDP (the inner side), the
// daemon with a generated configuration, and stunnel in front of SIPp's TCP (TLS + client certificate). All on
// loopback with fresh ports; everything started here is stopped in t.after, in reverse order.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { edgeConfigYaml, type EdgeTimersConfig, type InnerTargetConfig } from "./edge-config.js";
import { EdgeProcess } from "./edge-process.js";
import { register, unregister, type Cleanable } from "../lab/cleanup.js";
import { createProxyPki, EDGE_NAME, writePkiFiles, type PkiFiles, type ProxyPki } from "./proxy-pki.js";
import {
  describeSipp,
  startSippProcess,
  waitForUdpUas,
  type SippProcess,
  type SippResult,
  type SippTransport,
} from "./sipp-process.js";
import { freeTcpPort } from "../tls/free-port.js";
import { startStunnel } from "../tls/stunnel.js";
import { makeTempDir, type TempDir } from "../tls/temp-dir.js";
import { requireTool } from "../tls/tools.js";

export const LISTENER_NAME = "partners";
export const IDENTITY_HEADER = "X-Siptrust-Identity";

let sharedPki: ProxyPki | undefined;

/** Key generation is the slow part of a PKI: one per test process. */
function pki(): ProxyPki {
  sharedPki ??= createProxyPki();
  return sharedPki;
}

export function requireProxyTools(): void {
  requireTool("sipp", ["-v"], "sip-tester");
  requireTool("stunnel4", ["-version"], "stunnel4");
}

export type Partner = "a" | "b";

export interface EdgeOptions {
  readonly innerServers: readonly InnerTargetConfig[];
  readonly clientCertificates?: "optional" | "required";
  readonly timers?: EdgeTimersConfig;
}

export interface UacOptions {
  readonly name: string;
  readonly scenario: string;
  readonly calls: number;
  readonly rate: number;
  readonly limit?: number;
  readonly timeoutSeconds: number;
  readonly transport?: Extract<SippTransport, "t1" | "tn">;
  /** Whose client certificate stunnel presents. */
  readonly partner: Partner;
}

export interface UasOptions {
  readonly name: string;
  readonly scenario: string;
  readonly calls: number;
  readonly timeoutSeconds: number;
}

export function udpTarget(port: number): InnerTargetConfig {
  return { transport: "udp", address: "127.0.0.1", port };
}

export class ProxyLab {
  readonly files: PkiFiles;
  readonly accountingFile: string;
  private edgeProcess: EdgeProcess | undefined;
  private listener = 0;
  private inside = 0;
  private config = "";
  private readonly stunnels = new Map<Partner, { port: number; log: () => string }>();
  private readonly sipps: SippProcess[] = [];

  private constructor(
    private readonly t: TestContext,
    readonly dir: TempDir,
  ) {
    this.files = writePkiFiles(dir, pki());
    this.accountingFile = `${dir.path}/accounting.jsonl`;
  }

  static create(t: TestContext, name: string): ProxyLab {
    const dir = makeTempDir(`proxy-${name}`);
    // SIPTRUST_KEEP_LAB=1 keeps the directory (configs, SIPp logs, accounting) for a post-mortem.
    if (process.env["SIPTRUST_KEEP_LAB"] === "1") t.diagnostic(`lab directory kept: ${dir.path}`);
    else {
      const cleanable: Cleanable = { cleanupNow: () => dir.remove() };
      register(cleanable);
      t.after(() => {
        dir.remove();
        unregister(cleanable);
      });
    }
    return new ProxyLab(t, dir);
  }

  get pki(): ProxyPki {
    return pki();
  }

  get edge(): EdgeProcess {
    if (this.edgeProcess === undefined) throw new Error("the edge is not started");
    return this.edgeProcess;
  }

  get listenerPort(): number {
    return this.listener;
  }

  /** The edge's inside UDP port (its Via towards the inner servers). */
  get insidePort(): number {
    return this.inside;
  }

  get configFile(): string {
    return this.config;
  }

  /** Writes the configuration and starts the daemon; stopped (SIGTERM, bounded) in t.after. */
  async startEdge(options: EdgeOptions): Promise<EdgeProcess> {
    this.listener = await freeTcpPort();
    const adminPort = await freeTcpPort();
    const yaml = edgeConfigYaml({
      pki: this.files,
      listenerName: LISTENER_NAME,
      listenerPort: this.listener,
      clientCertificates: options.clientCertificates ?? "required",
      insidePort: (this.inside = await freeUdpPort()),
      innerServers: options.innerServers,
      identityHeader: IDENTITY_HEADER,
      timers: options.timers,
      accountingFile: this.accountingFile,
      adminPort,
    });
    this.config = this.dir.write("edge.yaml", yaml);
    const edge = await EdgeProcess.start(this.config, adminPort);
    this.t.after(() => edge.stop());
    this.edgeProcess = edge;
    return edge;
  }

  /** stunnel in client mode in front of the edge's listener with the partner's certificate; its TCP port. */
  async stunnelFor(partner: Partner): Promise<number> {
    const known = this.stunnels.get(partner);
    if (known !== undefined) return known.port;
    const credential = partner === "a" ? this.files.partnerA : this.files.partnerB;
    const port = await freeTcpPort();
    const stunnel = await startStunnel(this.dir, [
      {
        name: `partner-${partner}`,
        acceptPort: port,
        connectPort: this.listener,
        cert: credential.cert,
        key: credential.key,
        caFile: this.files.caFile,
        serverName: EDGE_NAME,
      },
    ]);
    // stop() kills at once (then waits): usable from the lab's synchronous exit handlers as well.
    const cleanable: Cleanable = { cleanupNow: () => void stunnel.stop() };
    register(cleanable);
    this.t.after(async () => {
      await stunnel.stop();
      unregister(cleanable);
    });
    this.stunnels.set(partner, { port, log: stunnel.log });
    return port;
  }

  /** A SIPp UAS on UDP, ready (bound) on return; its result settles when it has taken `calls` calls. */
  async startSippUas(options: UasOptions): Promise<{ port: number; run: SippProcess }> {
    const port = await freeUdpPort();
    const run = startSippProcess({
      dir: this.dir,
      name: options.name,
      scenario: options.scenario,
      transport: "u1",
      localPort: port,
      calls: options.calls,
      timeoutSeconds: options.timeoutSeconds,
      hardLimitMs: (options.timeoutSeconds + 5) * 1000,
      traceMessages: process.env["SIPTRUST_TRACE_SIPP"] === "1",
    });
    this.sipps.push(run);
    this.t.after(() => run.stop());
    await waitForUdpUas(run, port);
    return { port, run };
  }

  /** A SIPp UAC over TCP → stunnel → the edge's TLS listener. */
  async startSippUac(options: UacOptions): Promise<SippProcess> {
    const remotePort = await this.stunnelFor(options.partner);
    const run = startSippProcess({
      dir: this.dir,
      name: options.name,
      scenario: options.scenario,
      transport: options.transport ?? "t1",
      localPort: await freeTcpPort(),
      remotePort,
      calls: options.calls,
      rate: options.rate,
      limit: options.limit,
      timeoutSeconds: options.timeoutSeconds,
      hardLimitMs: (options.timeoutSeconds + 5) * 1000,
      traceMessages: process.env["SIPTRUST_TRACE_SIPP"] === "1",
    });
    this.sipps.push(run);
    this.t.after(() => run.stop());
    return run;
  }

  /** The accounting file's records (one JSON object per line). */
  accounting(): Array<Record<string, unknown>> {
    let text = "";
    try {
      text = readFileSync(this.accountingFile, "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Everything a failure message needs: each SIPp run, stunnel's log, the edge's log. */
  describe(...results: readonly SippResult[]): string {
    const parts = results.map(describeSipp);
    for (const [partner, s] of this.stunnels)
      parts.push(`stunnel ${partner} (tail):\n${s.log().slice(-1500)}`);
    if (this.edgeProcess !== undefined) parts.push(this.edgeProcess.describe());
    return parts.join("\n");
  }
}

/** A loopback UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
