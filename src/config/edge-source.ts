/**
 * Connects the TLS edge (transport/edge-runtime.ts) and the proxy (proxy/edge-proxy.ts) to the configuration
 * store: the prepared configuration becomes their plain settings, and each takes part in every reload as a
 * participant that can refuse it (its problems are reported with the configuration file's lines, like every
 * other problem).
 */
import type { EdgeConfigSource, EdgeSettings, StageProblem } from "../transport/edge-runtime.js";
import type { PeerOcspOptions } from "../tls/peer-ocsp.js";
import type { OutboundResolver } from "../tls/outbound.js";
import { DnsOutboundResolver } from "../tls/resolver-adapter.js";
import type { ProxyConfigSource, ProxySettings } from "../proxy/wiring/proxy-settings.js";
import type { ConfigStore } from "./config-store.js";
import type { ConfigProblem } from "./config-error.js";
import { formatKeyPath } from "./load-config.js";
import type { PreparedConfig } from "./prepare-config.js";

export function edgeSource(store: ConfigStore): EdgeConfigSource {
  return {
    get generation() {
      return store.generation;
    },
    get settings() {
      return edgeSettings(store.current);
    },
    participate(stage) {
      store.addParticipant({
        stage: (next) => {
          const staged = stage(edgeSettings(next));
          return staged.ok ? staged : { ok: false, problems: staged.problems.map((p) => located(next, p)) };
        },
      });
    },
    reload: () => store.reload(),
  };
}

/** The parts of a prepared configuration the edge serves with. */
export function edgeSettings(prepared: PreparedConfig): EdgeSettings {
  const { config } = prepared;
  const c = config.connections;
  return {
    listeners: config.listeners.map((l, i) => {
      const set = l.clientCaSet === undefined ? undefined : prepared.caSets.get(l.clientCaSet);
      return {
        name: l.name,
        address: l.address,
        port: l.port,
        credentials: (prepared.listenerCredentials[i] ?? []).map((cred, j) => {
          const names = l.certificates[j]?.serverNames;
          return {
            certPem: cred.certPem,
            keyPem: cred.keyPem,
            chain: cred.chain,
            ...(names ? { serverNames: names } : {}),
          };
        }),
        defaultIndex: l.defaultCertificate,
        clientCertificates: l.clientCertificates,
        ...(set ? { clientCa: set } : {}),
        minVersion: l.minVersion,
      };
    }),
    onReload: c.onReload,
    limits: {
      handshakeTimeoutMs: c.handshakeTimeout,
      partialMessageTimeoutMs: c.partialMessageTimeout,
      maxConnections: c.maxConnections,
      maxConnectionsPerIp: c.maxConnectionsPerIp,
    },
    ocsp: { policy: config.ocsp.policy, staple: config.ocsp.staple, timeoutMs: config.ocsp.timeout },
    ...(prepared.cnMapping ? { mapping: prepared.cnMapping } : {}),
    identityOptions: {
      emailAsSip: config.authorization.emailAsSip,
      legacyWildcards: config.authorization.legacyWildcards,
    },
  };
}

function located(prepared: PreparedConfig, problem: StageProblem): ConfigProblem {
  return {
    file: prepared.file,
    line: prepared.lineOf(problem.at),
    key: formatKeyPath(problem.at),
    message: problem.message,
  };
}

/** The `ocsp` section as verifyOutbound's `ocsp` option (tls/outbound.ts), for the outbound side. */
export function outboundOcspOptions(prepared: PreparedConfig): PeerOcspOptions {
  return { mode: prepared.config.ocsp.policy, timeoutMs: prepared.config.ocsp.timeout };
}

/** Addresses given on the command line that replace the file's (`siptrust serve --inside/--admin`). */
export interface ProxySourceOverrides {
  /** Added to the inside and admin ports: the worker index under `serve --workers` (docs/operations.md). */
  readonly portOffset?: number;
  /** Replaces proxy.inside address/port (port 0 = any free port). */
  readonly inside?: { readonly host: string; readonly port: number };
  /** Replaces admin address/port; null = no admin API. */
  readonly admin?: { readonly host: string; readonly port: number } | null;
  /** Further names that mean this edge (Route / Request-URI recognition). */
  readonly extraLocalNames?: readonly string[];
}

/** The configuration store as the daemon's source: the edge's settings plus the proxy's (edge-proxy.ts). */
export function proxyConfigSource(
  store: ConfigStore,
  overrides: ProxySourceOverrides = {},
): ProxyConfigSource {
  const edge = edgeSource(store);
  return {
    get generation() {
      return edge.generation;
    },
    get settings() {
      return edge.settings;
    },
    participate: (stage) => edge.participate(stage),
    reload: () => edge.reload(),
    get proxy() {
      return proxySettings(store.current, overrides);
    },
    participateProxy(stage) {
      store.addParticipant({
        stage: (next) => {
          const staged = stage(proxySettings(next, overrides));
          return staged.ok ? staged : { ok: false, problems: staged.problems.map((p) => located(next, p)) };
        },
      });
    },
  };
}

/** The proxy's part of a prepared configuration, as the plain settings EdgeProxy serves with. */
export function proxySettings(prepared: PreparedConfig, overrides: ProxySourceOverrides = {}): ProxySettings {
  const { config } = prepared;
  const p = config.proxy;
  const offset = overrides.portOffset ?? 0;
  const inside = overrides.inside ?? { host: p.inside.address, port: p.inside.port };
  const admin =
    overrides.admin === null
      ? undefined
      : (overrides.admin ?? { host: config.admin.address, port: config.admin.port });
  return {
    inside: { host: inside.host, port: shifted(inside.port, offset), transport: p.inside.transport },
    outside: {
      ...(p.outsideHost !== undefined ? { host: p.outsideHost } : {}),
      ...(p.outsidePort !== undefined ? { port: p.outsidePort } : {}),
    },
    innerServers: new Map(Object.entries(p.innerServers)),
    identityHeader: p.identityHeader,
    timers: { t1Ms: p.timers.t1, t2Ms: p.timers.t2, t4Ms: p.timers.t4, timerCMs: p.timers.timerC },
    failoverAfterMs: p.timers.failoverAfter,
    maxTransactions: p.maxTransactions,
    policy: {
      authorization: {
        skipInDialog: config.authorization.skipInDialog,
        trustedIdentities: config.authorization.trustedIdentities,
        trustedCaFingerprints: config.authorization.trustedCaFingerprints,
        ...(prepared.caRights ? { caRights: prepared.caRights } : {}),
      },
      rules: prepared.routing,
    },
    ...(prepared.accountingFile !== undefined ? { accounting: { file: prepared.accountingFile } } : {}),
    ...(admin
      ? {
          admin: {
            host: admin.host,
            port: shifted(admin.port, offset),
            ...(prepared.adminToken !== undefined ? { token: prepared.adminToken } : {}),
          },
        }
      : {}),
    ...(config.outbound && prepared.outbound ? { outbound: outboundSettings(prepared) } : {}),
    ...(overrides.extraLocalNames ? { extraLocalNames: overrides.extraLocalNames } : {}),
  };
}

// Port 0 stays 0 (any free port) whatever the worker index.
function shifted(port: number, offset: number): number {
  return port === 0 ? 0 : port + offset;
}

function outboundSettings(prepared: PreparedConfig): NonNullable<ProxySettings["outbound"]> {
  const o = prepared.config.outbound as NonNullable<PreparedConfig["config"]["outbound"]>;
  const out = prepared.outbound as NonNullable<PreparedConfig["outbound"]>;
  const set = prepared.caSets.get(o.serverCaSet);
  const c = prepared.config.connections;
  return {
    trust: {
      resolver: o.dane ? new DnsOutboundResolver(out.resolver, resolverOptions(out)) : withoutDane(out),
      anchors: (set?.anchors ?? []).map((cert) => ({ cert })),
      clientCredentials: out.clientCredentials,
      identityOptions: {
        emailAsSip: prepared.config.authorization.emailAsSip,
        legacyWildcards: prepared.config.authorization.legacyWildcards,
      },
    },
    limits: {
      idleTimeoutMs: c.idleTimeout,
      maxAgeMs: c.maxAge,
      drainGraceMs: c.drainGrace,
      handshakeTimeoutMs: o.handshakeTimeout,
      partialMessageTimeoutMs: c.partialMessageTimeout,
    },
    onReload: c.onReload,
  };
}

function resolverOptions(out: NonNullable<PreparedConfig["outbound"]>) {
  return { resolverLabel: out.resolver.resolverLabel, adTrusted: out.resolver.endpoint.adTrusted };
}

/**
 * `outbound.dane: false`: TLSA is never consulted, every target is verified by RFC 5922 against the SIP
 * domain. The TLSA lookup answers "securely no records", which the procedure treats as "no TLSA" (DESIGN.md
 * "Outbound" 2: no usable record → RFC 5922).
 */
function withoutDane(out: NonNullable<PreparedConfig["outbound"]>): OutboundResolver {
  const real = new DnsOutboundResolver(out.resolver, resolverOptions(out));
  return {
    locate: (target) => real.locate(target),
    lookupTlsa: () => Promise.resolve({ status: "secure", records: [], steps: [] }),
  };
}
