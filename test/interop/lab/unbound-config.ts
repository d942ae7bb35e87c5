// unbound.conf for a lab: a validating recursive resolver on loopback whose only trust anchor is the
// lab's anchor zone, reaching Knot through one stub-zone per lab zone (delegations in the zones name
// port 53; stub-addr carries Knot's real port).
import type { NormalizedSpec } from "./lab-spec.js";

export function renderUnboundConfig(
  spec: NormalizedSpec,
  dir: string,
  port: number,
  authoritativePort: number,
  trustAnchorDs: string,
): string {
  const topZones = spec.zones.filter((z) => z.parent === undefined).map((z) => z.name);
  return [
    "server:",
    "  interface: 127.0.0.1",
    `  port: ${port}`,
    "  do-ip4: yes",
    "  do-ip6: no",
    "  do-udp: yes",
    "  do-tcp: yes",
    `  directory: "${dir}"`,
    '  chroot: ""',
    '  username: ""',
    `  pidfile: "${dir}/unbound.pid"`,
    "  use-syslog: no",
    '  logfile: ""',
    "  verbosity: 1",
    "  log-servfail: yes",
    "  val-log-level: 2",
    // RFC 8914 Extended DNS Errors, so a client can tell validation failures from other SERVFAILs
    "  ede: yes",
    "  num-threads: 1",
    "  so-reuseport: no",
    "  msg-cache-size: 4m",
    "  rrset-cache-size: 4m",
    // Knot is on 127.0.0.1, which Unbound refuses to query by default
    "  do-not-query-localhost: no",
    '  module-config: "validator iterator"',
    `  trust-anchor: "${trustAnchorDs}"`,
    "  harden-dnssec-stripped: yes",
    // Hermetic: names outside the lab are refused here, so no query leaves the machine; the lab's own top
    // zones are transparent (also needed because Unbound answers special-use names such as test. itself).
    '  local-zone: "." refuse',
    ...topZones.map((z) => `  local-zone: "${z}" transparent`),
    "remote-control:",
    "  control-enable: no",
    ...spec.zones.flatMap((z) => [
      "stub-zone:",
      `  name: "${z.name}"`,
      `  stub-addr: 127.0.0.1@${authoritativePort}`,
    ]),
    "",
  ].join("\n");
}
