// Certificates, edge configuration and DNS zones of the Kamailio federation tests (issue 7 §4): one test CA
// (the federation CA) issues the edge's server and client certificates and Kamailio's certificates; the
// daemon's YAML is written the way an operator writes it (docs/config.md), with paths into the test's dir.
import { stringify } from "yaml";
import { createCa, issueCertificate, type GeneratedCertificate } from "../../../src/pki/issue.js";
import type { TempDir } from "../tls/temp-dir.js";
import type { LabZone } from "../lab/dns-lab.js";
import { a, naptr, srv } from "../lab/records.js";

/** The header that carries the verified peer identity inside (configured explicitly, PROXY.md). */
export const IDENTITY_HEADER = "X-Siptrust-Identity";
export const EDGE_DOMAIN = "edge.example";
export const KAM_DOMAIN = "kam.example";

export interface FederationPki {
  readonly ca: GeneratedCertificate;
  /** The edge's server certificate (listener): SIP domain edge.example. */
  readonly edgeServer: GeneratedCertificate;
  /** The edge's client certificate for outbound TLS: SIP domain edge.example. */
  readonly edgeClient: GeneratedCertificate;
  /** Kamailio of kam.example: server and client certificate; also names fo.example (the failover domain). */
  readonly kam: GeneratedCertificate;
  /** A Kamailio whose certificate chains to the same CA but names another SIP domain (other.example). */
  readonly other: GeneratedCertificate;
}

export function federationPki(): FederationPki {
  const ca = createCa({ cn: "Federation test CA" });
  return {
    ca,
    edgeServer: issueCertificate(ca, {
      cn: "edge",
      san: { uri: [`sip:${EDGE_DOMAIN}`], dns: [EDGE_DOMAIN] },
      eku: ["serverAuth"],
    }),
    edgeClient: issueCertificate(ca, {
      cn: "edge client",
      san: { uri: [`sip:${EDGE_DOMAIN}`] },
      eku: ["clientAuth"],
    }),
    kam: issueCertificate(ca, {
      cn: "kamailio",
      san: { uri: [`sip:${KAM_DOMAIN}`, "sip:fo.example"], dns: ["sip.kam.example"] },
      eku: ["serverAuth", "clientAuth"],
    }),
    other: issueCertificate(ca, {
      cn: "kamailio-other",
      san: { uri: ["sip:other.example"], dns: ["other.example"] },
      eku: ["serverAuth", "clientAuth"],
    }),
  };
}

export interface EdgeConfigInput {
  readonly dir: TempDir;
  readonly pki: FederationPki;
  readonly tlsPort: number;
  readonly insidePort: number;
  /** Inner UDP server (SIPp UAS) the edge forwards outside requests to. */
  readonly innerPort: number;
  /** Admin API port (the schema enables it on 8061 by default, which parallel tests would share). */
  readonly adminPort: number;
  /** Outbound TLS: the lab's validating resolver `host:port`; absent = no outbound section. */
  readonly resolver?: string;
  /** Destination domains the edge presents its client certificate to. */
  readonly clientCertificateDomains?: readonly string[];
  readonly accountingFile?: string;
}

/** The daemon's configuration file (YAML), written into `dir`; returns its path. */
export function writeEdgeConfig(input: EdgeConfigInput): string {
  const { dir, pki } = input;
  const caFile = dir.write("federation-ca.pem", pki.ca.certificatePem);
  const server = dir.writeCredential("edge-server", pki.edgeServer);
  const client = dir.writeCredential("edge-client", pki.edgeClient);
  const config: Record<string, unknown> = {
    caSets: { federation: { files: [caFile] } },
    listeners: [
      {
        name: "federation",
        address: "127.0.0.1",
        port: input.tlsPort,
        certificates: [{ cert: server.cert, key: server.key }],
        clientCertificates: "required",
        clientCaSet: "federation",
      },
    ],
    proxy: {
      inside: { address: "127.0.0.1", port: input.insidePort, transport: "udp" },
      innerServers: { default: [{ address: "127.0.0.1", port: input.innerPort, transport: "udp" }] },
      identityHeader: IDENTITY_HEADER,
    },
    admin: { address: "127.0.0.1", port: input.adminPort },
    ...(input.accountingFile === undefined ? {} : { accounting: { file: input.accountingFile } }),
  };
  if (input.resolver !== undefined) {
    config.outbound = {
      serverCaSet: "federation",
      resolver: input.resolver,
      clientCertificates: [
        {
          name: "edge",
          cert: client.cert,
          key: client.key,
          domains: [...(input.clientCertificateDomains ?? [])],
        },
      ],
      defaultClientCertificate: "edge",
      handshakeTimeout: "3s",
    };
  }
  return dir.write("siptrust.yaml", stringify(config));
}

export interface KamailioPorts {
  /** Kamailio's listener with the kam.example certificate. */
  readonly right: number;
  /** Where the SRV records send clients for the other.example listener (a counting relay in front of it). */
  readonly wrong: number;
}

const sipsNaptr = (zone: string): ReturnType<typeof naptr> =>
  naptr("@", 10, 50, "s", "SIPS+D2T", `_sips._tcp.${zone}`);

/**
 * RFC 3263 worlds, all insecure (unsigned zones outside the lab's anchor), so the edge decides by RFC 5922:
 * - kam.example: NAPTR → SRV → Kamailio's kam.example listener; the apex A serves Kamailio's Record-Route;
 * - fo.example: SRV priority 10 → the other.example listener, priority 20 → the kam.example listener;
 * - wrong.example: SRV → only the other.example listener.
 */
export function federationZones(ports: KamailioPorts): LabZone[] {
  return [
    {
      name: "kam.example.",
      security: "unsigned",
      records: [
        sipsNaptr("kam.example."),
        srv("_sips._tcp", 10, 50, ports.right, "sip.kam.example."),
        a("sip", "127.0.0.1"),
        a("@", "127.0.0.1"),
      ],
    },
    {
      name: "fo.example.",
      security: "unsigned",
      records: [
        sipsNaptr("fo.example."),
        srv("_sips._tcp", 10, 50, ports.wrong, "first.fo.example."),
        srv("_sips._tcp", 20, 50, ports.right, "second.fo.example."),
        a("first", "127.0.0.1"),
        a("second", "127.0.0.1"),
      ],
    },
    {
      name: "wrong.example.",
      security: "unsigned",
      records: [
        sipsNaptr("wrong.example."),
        srv("_sips._tcp", 10, 50, ports.wrong, "sip.wrong.example."),
        a("sip", "127.0.0.1"),
      ],
    },
  ];
}
