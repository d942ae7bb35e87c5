/**
 * Connects the TLS edge (transport/edge-runtime.ts) to the configuration store: the prepared configuration
 * becomes the edge's plain settings, and the edge takes part in every reload as a participant that can
 * refuse it (its problems are reported with the configuration file's lines, like every other problem).
 */
import type { EdgeConfigSource, EdgeSettings, StageProblem } from "../transport/edge-runtime.js";
import type { PeerOcspOptions } from "../tls/peer-ocsp.js";
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
