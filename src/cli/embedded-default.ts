/**
 * `siptrust serve` without `--config` (and `npm start`): a working development edge in one command.
 *
 * Under the data directory (default `./.siptrust`) it keeps a development PKI laid out as `siptrust pki
 * init|issue` makes it (pki/ca.pem + ca-key.pem, then <name>.pem + <name>-key.pem):
 * - server: the edge's certificate, SAN `sip:localhost` (RFC 5922 §7.1 domain identity), DNS `localhost`
 *   and IP 127.0.0.1, so TLS clients that check the host name (stunnel `checkHost`) accept it;
 * - client: a test UAC's certificate for the SIP domain `client.test` (SAN `sip:client.test`): requests whose
 *   From is in client.test pass per-message authorization, any other From gets 403.
 * An existing PKI is reused; only missing files are created. The YAML configuration is written on every run
 * (it is derived from the flags); copy it and start with `--config` to change more than the ports.
 *
 * Once the edge runs, a SIPp scenario (From sip:…@client.test, which the client certificate covers) and a
 * stunnel client configuration are written next to it, and the banner prints ready-to-paste commands:
 * Debian's SIPp has no TLS, so it speaks TCP to a local stunnel that adds TLS and the client certificate.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { createCa, issueCertificate, type GeneratedCertificate } from "../pki/issue.js";
import { checkKeyMatchesCertificate, parseCertificates, parsePrivateKey } from "../pki/load.js";
import { CA_CERT_FILE, CA_KEY_FILE } from "./commands/pki.js";
import { UsageError } from "./exit.js";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface EmbeddedDefaultOptions {
  readonly dataDir: string;
  /** The TLS listener (outside). */
  readonly listen: HostPort;
  /** The inner SIP server the edge forwards to (UDP). */
  readonly inner: HostPort;
  /** Where the edge binds on the inside (UDP), i.e. where the inner server's responses come back. */
  readonly inside: HostPort;
  /** The admin HTTP API; absent = none. */
  readonly admin?: HostPort;
}

export const EMBEDDED_DEFAULTS: Required<Omit<EmbeddedDefaultOptions, "dataDir">> = {
  listen: { host: "127.0.0.1", port: 5061 },
  inner: { host: "127.0.0.1", port: 5060 },
  inside: { host: "127.0.0.1", port: 5080 },
  admin: { host: "127.0.0.1", port: 8061 },
};

export const DEFAULT_DATA_DIR = ".siptrust";
/** The SIP domain of the generated test UAC certificate. */
export const CLIENT_DOMAIN = "client.test";
/** The edge's own SIP domain / host name in the generated server certificate. */
export const SERVER_NAME = "localhost";
/** Local port of the stunnel client that the printed SIPp command talks TCP to. */
export const STUNNEL_PORT = 5064;

export interface PkiFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export interface EmbeddedSetup {
  readonly dataDir: string;
  readonly configFile: string;
  readonly accountingFile: string;
  readonly pki: PkiFiles;
  /** Files created by this run (the rest were reused). */
  readonly created: readonly string[];
  readonly reused: readonly string[];
}

/** Creates (or reuses) the PKI and writes the configuration. Synchronous: it runs once before serving. */
export function prepareEmbeddedDefault(options: EmbeddedDefaultOptions): EmbeddedSetup {
  const dataDir = resolve(options.dataDir);
  const pkiDir = join(dataDir, "pki");
  try {
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UsageError(`cannot create ${pkiDir}: ${(err as Error).message}`);
  }
  const created: string[] = [];
  const reused: string[] = [];
  const pki = pkiFiles(pkiDir);
  const ca = ensureCa(pki, created, reused);
  ensureLeaf(ca, pki.serverCert, pki.serverKey, created, reused, {
    cn: SERVER_NAME,
    san: { uri: [`sip:${SERVER_NAME}`], dns: [SERVER_NAME], ip: ["127.0.0.1"] },
    eku: ["sipDomain", "serverAuth"],
  });
  ensureLeaf(ca, pki.clientCert, pki.clientKey, created, reused, {
    cn: CLIENT_DOMAIN,
    san: { uri: [`sip:${CLIENT_DOMAIN}`] },
    eku: ["sipDomain", "clientAuth"],
  });
  const configFile = join(dataDir, "siptrust.yaml");
  const accountingFile = join(dataDir, "accounting.jsonl");
  writeFileSync(configFile, embeddedConfigYaml(options));
  created.push(configFile);
  return { dataDir, configFile, accountingFile, pki, created, reused };
}

function pkiFiles(dir: string): PkiFiles {
  return {
    dir,
    caCert: join(dir, CA_CERT_FILE),
    caKey: join(dir, CA_KEY_FILE),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server-key.pem"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client-key.pem"),
  };
}

type Pem = Pick<GeneratedCertificate, "certificatePem" | "privateKeyPem">;

function ensureCa(pki: PkiFiles, created: string[], reused: string[]): Pem {
  const existing = readPair(pki.caCert, pki.caKey);
  if (existing) {
    reused.push(pki.caCert, pki.caKey);
    return existing;
  }
  const ca = createCa({ cn: "siptrust development CA (embedded default)" });
  writePair(pki.caCert, pki.caKey, ca);
  created.push(pki.caCert, pki.caKey);
  return ca;
}

function ensureLeaf(
  ca: Pem,
  certPath: string,
  keyPath: string,
  created: string[],
  reused: string[],
  options: Parameters<typeof issueCertificate>[1],
): void {
  if (readPair(certPath, keyPath)) {
    reused.push(certPath, keyPath);
    return;
  }
  writePair(certPath, keyPath, issueCertificate(ca, { days: 825, ...options }));
  created.push(certPath, keyPath);
}

/** A consistent existing pair, undefined when neither file exists; half a pair or a mismatch is an error. */
function readPair(certPath: string, keyPath: string): Pem | undefined {
  const hasCert = existsSync(certPath);
  const hasKey = existsSync(keyPath);
  if (!hasCert && !hasKey) return undefined;
  if (!hasCert || !hasKey) {
    throw new UsageError(
      `incomplete pair in the data directory: ${hasCert ? keyPath : certPath} is missing (remove ${hasCert ? certPath : keyPath} to regenerate)`,
    );
  }
  const certPem = readFileSync(certPath, "utf8");
  const keyPem = readFileSync(keyPath, "utf8");
  try {
    const leaf = parseCertificates(certPem, certPath)[0];
    if (!leaf) throw new UsageError(`${certPath}: no certificate`);
    checkKeyMatchesCertificate(parsePrivateKey(keyPem, keyPath), leaf, keyPath);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${(err as Error).message} (remove both files to regenerate)`);
  }
  return { certificatePem: certPem, privateKeyPem: keyPem };
}

function writePair(certPath: string, keyPath: string, pair: Pem): void {
  writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pair.certificatePem, { mode: 0o644 });
}

/**
 * The configuration of the embedded default (docs/config.md explains every key). Port 0 (any free port) is
 * not valid in the file for the inside socket and the admin API; `serve` passes such addresses as overrides.
 */
export function embeddedConfigYaml(o: EmbeddedDefaultOptions): string {
  return `# Generated by \`siptrust serve\` (embedded default) on every start; edits are overwritten.
# To customize: copy this file and run \`siptrust serve --config <copy>\`.
caSets:
  dev:
    files: [pki/${CA_CERT_FILE}]
listeners:
  - name: tls
    address: ${o.listen.host}
    port: ${o.listen.port}
    certificates:
      - { cert: pki/server.pem, key: pki/server-key.pem }
    clientCertificates: optional
    clientCaSet: dev
proxy:
  inside: { address: ${o.inside.host}, port: ${o.inside.port || EMBEDDED_DEFAULTS.inside.port}, transport: udp }
  innerServers:
    default:
      - { address: ${o.inner.host}, port: ${o.inner.port}, transport: udp }
accounting:
  file: accounting.jsonl
admin:
  address: ${o.admin?.host ?? EMBEDDED_DEFAULTS.admin.host}
  port: ${o.admin?.port || EMBEDDED_DEFAULTS.admin.port}
`;
}

export interface RunningAddresses {
  readonly listen: HostPort;
  readonly inside: HostPort;
  readonly admin?: HostPort;
}

export interface TryItFiles {
  readonly sippScenario: string;
  readonly stunnelConfig: string;
}

/** Writes the SIPp UAC scenario and the stunnel client configuration for the running edge. */
export function writeTryItFiles(setup: EmbeddedSetup, running: RunningAddresses): TryItFiles {
  const sippScenario = join(setup.dataDir, "sipp-uac.xml");
  const stunnelConfig = join(setup.dataDir, "stunnel-client.conf");
  writeFileSync(sippScenario, sippUacScenario());
  writeFileSync(stunnelConfig, stunnelClientConfig(setup.pki, running.listen));
  return { sippScenario, stunnelConfig };
}

/** What the embedded default did, and how to try it (printed on start). */
export function embeddedBanner(
  setup: EmbeddedSetup,
  running: RunningAddresses,
  files: TryItFiles,
  inner: HostPort,
): string {
  const edge = `${running.listen.host}:${running.listen.port}`;
  const lines = [
    `siptrust: embedded default (no --config) — development PKI and configuration in ${setup.dataDir}`,
    ...(setup.created.length > 0
      ? [`  created: ${setup.created.map((f) => relative(setup.dataDir, f)).join(", ")}`]
      : []),
    ...(setup.reused.length > 0
      ? [`  reused:  ${setup.reused.map((f) => relative(setup.dataDir, f)).join(", ")}`]
      : []),
    `  TLS listener   ${edge} (client certificates optional, CA ${relative(setup.dataDir, setup.pki.caCert)})`,
    `  inner server   ${inner.host}:${inner.port}/UDP (forwarded to); edge inside ${running.inside.host}:${running.inside.port}/UDP`,
    ...(running.admin
      ? [
          `  admin API      http://${running.admin.host}:${running.admin.port}/health (/connections, /metrics, POST /reload)`,
        ]
      : []),
    `  accounting     ${setup.accountingFile}`,
    `  test UAC cert  ${setup.pki.clientCert} (+ ${relative(setup.dataDir, setup.pki.clientKey)}), SIP domain ${CLIENT_DOMAIN}`,
    "",
    "Try it (SIPp; From is sipp@client.test, which the client certificate covers):",
    `  1. an inner UAS:   sipp -sn uas -i ${inner.host} -p ${inner.port}`,
    `  2. TLS for SIPp:   stunnel ${files.stunnelConfig}    (Debian's SIPp has no TLS; stunnel adds it and the client certificate)`,
    `  3. calls:          sipp -sf ${files.sippScenario} -t t1 -i 127.0.0.1 -p 5070 -m 10 -r 2 127.0.0.1:${STUNNEL_PORT}`,
    "  SIPp built with TLS, without stunnel:",
    `                     sipp -sf ${files.sippScenario} -t l1 -tls_cert ${setup.pki.clientCert} -tls_key ${setup.pki.clientKey} -i 127.0.0.1 -p 5070 -m 10 -r 2 ${edge}`,
    `  quick check:       openssl s_client -connect ${edge} -cert ${setup.pki.clientCert} -key ${setup.pki.clientKey} -CAfile ${setup.pki.caCert} -verify_hostname localhost`,
    "",
  ];
  return lines.join("\n");
}

function relative(dir: string, file: string): string {
  return file.startsWith(dir + "/") ? file.slice(dir.length + 1) : file;
}

function stunnelClientConfig(pki: PkiFiles, edge: HostPort): string {
  return `; stunnel client for SIPp (TCP in, TLS with the test UAC's client certificate out). Run: stunnel <this file>
foreground = yes
pid =
[sip-tls]
client = yes
accept = 127.0.0.1:${STUNNEL_PORT}
connect = ${edge.host}:${edge.port}
cert = ${pki.clientCert}
key = ${pki.clientKey}
CAfile = ${pki.caCert}
verifyChain = yes
checkHost = ${SERVER_NAME}
sni = ${SERVER_NAME}
`;
}

/**
 * A UAC scenario like SIPp's built-in `uac`, but with From in the client certificate's SIP domain (the
 * built-in one uses the local IP address, which no certificate identity covers: RFC 5922 §7.1 identities
 * are domains). The dialog's ACK and BYE follow the Record-Route the edge inserts ([routes], RFC 3261 §12.1.2).
 */
function sippUacScenario(): string {
  const from = `"sipp" <sip:sipp@${CLIENT_DOMAIN}>;tag=[pid]SIPpTag00[call_number]`;
  const to = `<sip:[service]@${SERVER_NAME}>`;
  const headers = (method: string, cseq: string, extra = ""): string =>
    [
      `      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]`,
      `      From: ${from}`,
      `      To: ${to}[peer_tag_param]`,
      `      Call-ID: [call_id]`,
      `      CSeq: ${cseq} ${method}`,
      `      Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>`,
      `      Max-Forwards: 70`,
      extra,
    ]
      .filter(Boolean)
      .join("\n");
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- Generated by siptrust serve (embedded default): a basic call from sipp@${CLIENT_DOMAIN}. -->
<scenario name="siptrust embedded-default UAC">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@${SERVER_NAME} SIP/2.0
${headers("INVITE", "1", "      Subject: siptrust test\n      Content-Type: application/sdp")}
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      [routes]
${headers("ACK", "1")}
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      [routes]
${headers("BYE", "2")}
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <ResponseTimeRepartition value="10, 20, 30, 40, 50, 100, 150, 200"/>
  <CallLengthRepartition value="10, 50, 100, 500, 1000, 5000, 10000"/>
</scenario>
`;
}
