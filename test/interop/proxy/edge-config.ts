// The edge's YAML configuration for one lab (docs/config.md; proxy, accounting and admin sections from
// src/config/proxy-schema.ts): one TLS listener trusting the lab CA, the inner server group `default`,
// the identity header, timers, accounting file and admin port. Paths are absolute (the file lives in the lab dir).
import { stringify } from "yaml";
import type { PkiFiles } from "./proxy-pki.js";

export interface InnerTargetConfig {
  readonly transport: "udp" | "tcp";
  readonly address: string;
  readonly port: number;
}

export interface EdgeTimersConfig {
  /** RFC 3261 T1 (Timer B = 64·T1). */
  readonly t1?: string;
  /** How long the edge waits for any response from an inner target before trying the next one. */
  readonly failoverAfter?: string;
}

export interface EdgeConfigInput {
  readonly pki: PkiFiles;
  readonly listenerName: string;
  readonly listenerPort: number;
  readonly clientCertificates: "ignore" | "optional" | "required";
  readonly insidePort: number;
  readonly innerServers: readonly InnerTargetConfig[];
  readonly identityHeader: string;
  readonly timers?: EdgeTimersConfig;
  readonly accountingFile: string;
  readonly adminPort: number;
}

export function edgeConfig(input: EdgeConfigInput): Record<string, unknown> {
  return {
    caSets: { lab: { files: [input.pki.caFile] } },
    listeners: [
      {
        name: input.listenerName,
        address: "127.0.0.1",
        port: input.listenerPort,
        certificates: [{ cert: input.pki.edge.cert, key: input.pki.edge.key }],
        clientCertificates: input.clientCertificates,
        clientCaSet: input.clientCertificates === "ignore" ? undefined : "lab",
      },
    ],
    authorization: {},
    // No OCSP responder in the lab; the test CA names none.
    ocsp: { policy: "off" },
    proxy: {
      inside: { address: "127.0.0.1", port: input.insidePort, transport: "udp" },
      innerServers: { default: input.innerServers.map((t) => ({ ...t })) },
      identityHeader: input.identityHeader,
      ...(input.timers === undefined ? {} : { timers: { ...input.timers } }),
    },
    accounting: { file: input.accountingFile },
    admin: { address: "127.0.0.1", port: input.adminPort },
  };
}

export function edgeConfigYaml(input: EdgeConfigInput): string {
  return stringify(edgeConfig(input));
}
