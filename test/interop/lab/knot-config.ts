// knotd configuration for a lab: everything (rundir, LMDB databases, zone files) inside the lab
// directory, so it runs as any user without /var/lib/knot, and one small worker set so it starts fast.
import type { NormalizedSpec, NormalizedZone } from "./lab-spec.js";

export interface KnotPaths {
  readonly rundir: string;
  readonly storage: string;
  readonly zonesDir: string;
}

export function zoneFileName(zone: string): string {
  return `${zone.replace(/\.$/, "")}.zone`;
}

/** Signed in Knot: the modes whose child carries keys (bogus is signed; its parent's DS is wrong). */
export function isSignedByKnot(zone: NormalizedZone): boolean {
  return zone.security === "secure" || zone.security === "bogus";
}

function zoneSection(zone: NormalizedZone, paths: KnotPaths): string[] {
  return [
    `  - domain: "${zone.name}"`,
    `    file: "${paths.zonesDir}/${zoneFileName(zone.name)}"`,
    `    dnssec-signing: ${isSignedByKnot(zone) ? "on" : "off"}`,
    ...(isSignedByKnot(zone) ? ["    dnssec-policy: lab"] : []),
  ];
}

export function renderKnotConfig(spec: NormalizedSpec, paths: KnotPaths, port: number): string {
  return [
    "server:",
    `  rundir: "${paths.rundir}"`,
    `  listen: 127.0.0.1@${port}`,
    "  udp-workers: 1",
    "  tcp-workers: 1",
    "  background-workers: 1",
    "database:",
    `  storage: "${paths.storage}"`,
    // LMDB map sizes are address space, but keep them modest
    "  journal-db-max-size: 64M",
    "  kasp-db-max-size: 64M",
    "  timer-db-max-size: 16M",
    "  catalog-db-max-size: 16M",
    "log:",
    "  - target: stderr",
    "    any: info",
    "policy:",
    "  - id: lab",
    // Automatic key management: Knot makes one combined signing key (CSK) per zone at first load and
    // signs at once; no rollover happens within a lab's lifetime. NSEC for plain denial proofs.
    "    algorithm: ecdsap256sha256",
    "    single-type-signing: on",
    "    manual: off",
    "    nsec3: off",
    "    dnskey-ttl: 300",
    "    zone-max-ttl: 300",
    "    rrsig-lifetime: 14d",
    "    rrsig-refresh: 7d",
    "    cds-cdnskey-publish: none",
    "template:",
    "  - id: default",
    "    semantic-checks: off",
    "    zonefile-sync: -1",
    "    zonefile-load: whole",
    "    journal-content: none",
    "zone:",
    ...spec.zones.flatMap((z) => zoneSection(z, paths)),
    "",
  ].join("\n");
}
