// Renders one lab zone as an RFC 1035 §5 master file for Knot: SOA, NS, the zone's own records,
// and for each child zone its delegation (NS) and, once known, the DS its security mode calls for.
import type { NormalizedSpec, NormalizedZone } from "./lab-spec.js";

/** Every zone names this host as its server; the resolver reaches Knot through stub-addr anyway. */
export function nameServerName(anchor: string): string {
  return `ns.${anchor}`;
}

/**
 * @param publishedDs DS line per child zone, exactly as the parent publishes it (RFC 4035 §5.2: a
 *   matching DS makes the child secure, a wrong one bogus, none insecure). Empty on the first pass.
 * @param serial SOA serial; raised when the file is rewritten with the DS records.
 */
export function renderZoneFile(
  zone: NormalizedZone,
  spec: NormalizedSpec,
  publishedDs: ReadonlyMap<string, string>,
  serial: number,
): string {
  const ns = nameServerName(spec.anchor);
  const lines = [
    `$ORIGIN ${zone.name}`,
    `$TTL ${spec.ttl}`,
    // Negative TTL (last field, RFC 2308 §4) kept short so tests that re-query see changes soon.
    `@ SOA ${ns} hostmaster.${spec.anchor} ${serial} 3600 600 86400 60`,
    `@ NS ${ns}`,
  ];
  if (zone.name === spec.anchor) lines.push(`${ns} A 127.0.0.1`);
  for (const r of zone.records) lines.push(`${r.owner} ${r.ttl} ${r.type} ${r.data}`);
  for (const child of spec.zones.filter((z) => z.parent === zone.name)) {
    const ds = publishedDs.get(child.name);
    lines.push(`${child.name} NS ${ns}`, ...(ds === undefined ? [] : [ds]));
  }
  return `${lines.join("\n")}\n`;
}
