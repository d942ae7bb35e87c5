/**
 * A configuration world on disk for the TLS edge tests: a temp folder with two CAs, server and client
 * certificates, a CRL and a CN mapping file, a YAML file that names them, and a running TlsEdge bound to a
 * ConfigStore over that file. Tests rewrite files and reload, as an operator would.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as net from "node:net";
import * as tls from "node:tls";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import { ConfigStore } from "../../../src/config/config-store.js";
import { edgeSource } from "../../../src/config/edge-source.js";
import { prepareConfigFile } from "../../../src/config/prepare-config.js";
import { TlsEdge, silentEdgeLogger, type TlsEdgeOptions } from "../../../src/transport/edge-runtime.js";
import { makeCrl, serialOf } from "../pki/chain-fixtures.js";

export const caA = createCa({ cn: "Edge CA A" });
export const caB = createCa({ cn: "Partner CA B" });
const server = (cn: string) =>
  issueCertificate(caA, {
    cn,
    san: { uri: ["sip:edge.example"], dns: ["edge.example"] },
    eku: ["serverAuth"],
  });
export const serverV1 = server("edge-v1");
export const serverV2 = server("edge-v2");
const client = (ca: GeneratedCertificate, cn: string, uri?: string) =>
  issueCertificate(ca, { cn, ...(uri ? { san: { uri: [uri] } } : {}), eku: ["clientAuth"] });
export const clients = {
  alice: client(caA, "alice", "sip:alice.example"),
  carol: client(caA, "carol", "sip:carol.example"),
  bob: client(caB, "bob", "sip:bob.example"),
  /** A device certificate: only a CN, identities come from the mapping file. */
  phone: client(caA, "phone-0011223344"),
};
export type ClientName = keyof typeof clients;

export const crlOf = (ca: GeneratedCertificate, revoked: GeneratedCertificate[] = []) =>
  makeCrl(ca, { revoked: revoked.map((r) => ({ serialHex: serialOf(r.certificate) })) });

export interface WorldConfig {
  port: number;
  serverCert: string;
  serverKey: string;
  caFiles: string[];
  crls: string[];
  crlPolicy: "require" | "when-present";
  clientCertificates: "ignore" | "optional" | "required";
  onReload: "keep" | "drop" | "revalidate";
  /** Extra YAML appended at the end (e.g. a deliberate schema error). */
  extra?: string;
}

export function yamlOf(c: WorldConfig): string {
  return [
    "caSets:",
    "  clients:",
    `    files: [${c.caFiles.join(", ")}]`,
    `    crls: [${c.crls.join(", ")}]`,
    `    crlPolicy: ${c.crlPolicy}`,
    "listeners:",
    "  - name: outside",
    "    address: 127.0.0.1",
    `    port: ${c.port}`,
    "    certificates:",
    `      - { cert: ${c.serverCert}, key: ${c.serverKey} }`,
    `    clientCertificates: ${c.clientCertificates}`,
    "    clientCaSet: clients",
    "authorization:",
    "  cnMappingFile: devices.map",
    "connections:",
    `  onReload: ${c.onReload}`,
    "ocsp:",
    "  policy: off",
    c.extra ?? "",
    "",
  ].join("\n");
}

export class World {
  readonly dir = mkdtempSync(join(tmpdir(), "siptrust-edge-"));
  readonly file = join(this.dir, "edge.yaml");
  config!: WorldConfig;
  store!: ConfigStore;
  edge!: TlsEdge;
  port = 0;

  /** Writes the PKI and a good configuration, and starts the edge on a free loopback port. */
  async start(overrides: Partial<WorldConfig> = {}, options: TlsEdgeOptions = {}): Promise<void> {
    this.write("pki/ca-a.pem", caA.certificatePem);
    this.write("pki/ca-b.pem", caB.certificatePem);
    this.write("pki/ca-a.crl", crlOf(caA));
    this.write("pki/server-v1.pem", serverV1.certificatePem);
    this.write("pki/server-v1.key", serverV1.privateKeyPem);
    this.write("pki/server-v2.pem", serverV2.certificatePem);
    this.write("pki/server-v2.key", serverV2.privateKeyPem);
    this.write("devices.map", "phone-0011223344\tphone1@devices.example\n");
    this.port = await freePort();
    this.config = {
      port: this.port,
      serverCert: "pki/server-v1.pem",
      serverKey: "pki/server-v1.key",
      caFiles: ["pki/ca-a.pem", "pki/ca-b.pem"],
      crls: ["pki/ca-a.crl"],
      crlPolicy: "when-present",
      clientCertificates: "optional",
      onReload: "revalidate",
      ...overrides,
    };
    this.writeConfig(this.config);
    this.store = new ConfigStore(prepareConfigFile(this.file), () => prepareConfigFile(this.file));
    this.edge = new TlsEdge(edgeSource(this.store), { logger: silentEdgeLogger, ...options });
    await this.edge.start();
  }

  write(relative: string, content: string | Buffer): void {
    const path = join(this.dir, relative);
    if (relative.includes("/")) mkdirFor(path);
    writeFileSync(path, content);
  }

  writeConfig(config: WorldConfig): void {
    this.write("edge.yaml", yamlOf(config));
  }

  /** Rewrites the configuration in force with `changes` (files must exist already) and reloads. */
  reconfigure(changes: Partial<WorldConfig>) {
    const next = { ...this.config, ...changes };
    this.writeConfig(next);
    const result = this.edge.reload();
    // What is in force is what later changes build on.
    if (result.ok) this.config = next;
    return result;
  }

  async stop(): Promise<void> {
    await this.edge?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Opens a TLS connection as `who` (or anonymously) and resolves once the edge has accepted it. */
  async connect(who?: ClientName, servername: string | undefined = "edge.example"): Promise<Peer> {
    const before = new Set(this.edge.connections().map((c) => c.connection.id));
    const socket = await tlsConnect(this.port, who, servername);
    const served = String(socket.getPeerCertificate().subject?.CN ?? "");
    await until(() => this.edge.connections().some((c) => !before.has(c.connection.id)) || socket.destroyed);
    const found = this.edge.connections().find((c) => !before.has(c.connection.id));
    if (!found) throw new Error(`the edge refused ${who ?? "anonymous"}`);
    return { socket, served, id: found.connection.id };
  }

  generationOf(id: number): number | undefined {
    return this.edge.connections().find((c) => c.connection.id === id)?.connection.generation;
  }
}

export interface Peer {
  readonly socket: tls.TLSSocket;
  /** CN of the server certificate the edge presented. */
  readonly served: string;
  /** The edge's connection id. */
  readonly id: number;
}

function mkdirFor(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}

export function tlsConnect(port: number, who?: ClientName, servername?: string): Promise<tls.TLSSocket> {
  const cred = who ? clients[who] : undefined;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ...(cred ? { cert: cred.certificatePem, key: cred.privateKeyPem } : {}),
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The CN of the certificate a new handshake is served (SNI sent unless `servername` is undefined). */
export async function servedCn(port: number, servername?: string): Promise<string> {
  const socket = await tlsConnect(port, undefined, servername);
  const cn = String(socket.getPeerCertificate().subject?.CN ?? "");
  socket.destroy();
  return cn;
}

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) =>
    socket.destroyed || socket.closed ? resolve() : socket.once("close", () => resolve()),
  );
}

export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
