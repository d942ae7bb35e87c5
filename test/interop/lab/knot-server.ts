// Starts knotd for a lab in two passes, because a parent's DS depends on a key Knot makes itself:
// 1. all zones without DS; Knot loads them and signs the signed ones with fresh keys (the anchor's
//    key, hence the trust anchor, is known from here on, so Unbound can start alongside pass 2);
// 2. the lab reads each child's DNSKEY, writes the DS (right, corrupted or for an absent key, per
//    security mode) into the parents, and has Knot reload them (SIGHUP: reload changed zone files).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type dnsPacket from "dns-packet";
import { Daemon } from "./daemon.js";
import { probe, type ProbeAnswer } from "./dns-probe.js";
import { corruptDs, dsRecord, makeP256Key } from "./dnssec-keys.js";
import { isSignedByKnot, renderKnotConfig, zoneFileName, type KnotPaths } from "./knot-config.js";
import type { NormalizedSpec, NormalizedZone } from "./lab-spec.js";
import { Fatal, LAB_HOST, remaining, startOnFreePort, waitUntil, withLogTail } from "./readiness.js";
import { renderZoneFile } from "./zone-file.js";

export interface KnotServer {
  readonly daemon: Daemon;
  readonly port: number;
  /** DS of the anchor's key, for Unbound's `trust-anchor:`. */
  readonly trustAnchor: string;
}

export interface KnotSetup {
  readonly spec: NormalizedSpec;
  readonly dir: string;
  readonly paths: KnotPaths;
  readonly pidDir: string;
  readonly deadline: number;
  /** Told about each daemon as soon as it is spawned, so cleanup can find it. */
  readonly onSpawn: (daemon: Daemon) => void;
}

const BIND_FAILURE = /cannot bind|address already in use/i;

function writeZoneFiles(
  setup: KnotSetup,
  zones: readonly NormalizedZone[],
  ds: ReadonlyMap<string, string>,
  serial: number,
) {
  for (const zone of zones) {
    const text = renderZoneFile(zone, setup.spec, ds, serial);
    writeFileSync(join(setup.paths.zonesDir, zoneFileName(zone.name)), text);
  }
}

function checkAlive(knot: Daemon, zones: readonly NormalizedZone[]): void {
  const log = knot.log();
  if (!knot.running) throw new Fatal(knot.describeExit(), BIND_FAILURE.test(log));
  if (BIND_FAILURE.test(log)) throw new Fatal("knotd could not bind its port", true);
  const zoneError = log.split("\n").find((l) => zones.some((z) => l.includes(`error: [${z.name}]`)));
  if (zoneError !== undefined) throw new Fatal(`knotd could not load a zone: ${zoneError}`);
}

function ask(
  port: number,
  name: string,
  type: dnsPacket.RecordType,
  deadline: number,
): Promise<ProbeAnswer | undefined> {
  return probe({
    host: LAB_HOST,
    port,
    name,
    type,
    recursion: false,
    timeoutMs: Math.min(250, remaining(deadline)),
  });
}

/** Pass 1 ready: every zone answers its SOA authoritatively, signed ones with an RRSIG. */
async function servesAllZones(knot: Daemon, port: number, setup: KnotSetup): Promise<boolean> {
  for (const zone of setup.spec.zones) {
    checkAlive(knot, setup.spec.zones);
    const answer = await ask(port, zone.name, "SOA", setup.deadline);
    if (answer === undefined || answer.rcode !== "NOERROR" || !answer.aa) return false;
    if (isSignedByKnot(zone) && !answer.answerTypes.includes("RRSIG")) return false;
  }
  return true;
}

/** RFC 4034 §2.1.1: the SEP-flagged key is the one a DS points at. */
async function sepKeyDs(port: number, zone: string, deadline: number): Promise<string> {
  let ds: string | undefined;
  await waitUntil(deadline, `DNSKEY of ${zone}`, async () => {
    const answer = await ask(port, zone, "DNSKEY", deadline);
    const keys = (answer?.answers ?? []).filter((a): a is dnsPacket.DnskeyAnswer => a.type === "DNSKEY");
    const sep = keys.find((k) => (k.data.flags & 1) === 1);
    if (sep !== undefined) ds = dsRecord(zone, { ...sep.data, publicKey: sep.data.key });
    return ds !== undefined;
  });
  return ds as string;
}

async function dsToPublish(
  port: number,
  zone: NormalizedZone,
  deadline: number,
): Promise<string | undefined> {
  if (zone.security === "unsigned" || zone.parent === undefined) return undefined;
  // stripped: a DS for a key the (unsigned) child never serves
  if (zone.security === "stripped") return dsRecord(zone.name, makeP256Key().fields);
  const ds = await sepKeyDs(port, zone.name, deadline);
  return zone.security === "bogus" ? corruptDs(ds) : ds;
}

/** Pass 2 ready: each parent serves the new DS (same digest) with its signature. */
async function servesAllDs(
  knot: Daemon,
  port: number,
  setup: KnotSetup,
  published: ReadonlyMap<string, string>,
) {
  for (const [zone, ds] of published) {
    checkAlive(knot, setup.spec.zones);
    const answer = await ask(port, zone, "DS", setup.deadline);
    const served = (answer?.answers ?? []).filter((a): a is dnsPacket.DSAnswer => a.type === "DS");
    const digest = ds.split(" ")[5];
    if (!served.some((d) => d.data.digest.toString("hex") === digest)) return false;
    if (!answer?.answerTypes.includes("RRSIG")) return false;
  }
  return true;
}

async function publishAndWait(knot: Daemon, port: number, setup: KnotSetup): Promise<Map<string, string>> {
  const { spec, deadline } = setup;
  const published = new Map<string, string>();
  for (const zone of spec.zones) {
    const ds = await dsToPublish(port, zone, deadline);
    if (ds !== undefined) published.set(zone.name, ds);
  }
  const parents = spec.zones.filter((p) =>
    spec.zones.some((z) => z.parent === p.name && published.has(z.name)),
  );
  writeZoneFiles(setup, parents, published, 2);
  knot.child.kill("SIGHUP");
  await waitUntil(deadline, "knotd to publish the DS records", () =>
    servesAllDs(knot, port, setup, published),
  );
  return published;
}

/** Pass 2: returns the DS line per delegated zone, as its parent now serves it. */
export async function publishDelegations(
  knot: KnotServer,
  setup: KnotSetup,
): Promise<ReadonlyMap<string, string>> {
  try {
    return await publishAndWait(knot.daemon, knot.port, setup);
  } catch (err) {
    throw withLogTail(knot.daemon, err);
  }
}

/** Pass 1: Knot serves every zone (signed ones signed); the anchor's key is known, so its DS too. */
export async function startKnot(setup: KnotSetup): Promise<KnotServer> {
  const conf = join(setup.dir, "knot.conf");
  writeZoneFiles(setup, setup.spec.zones, new Map(), 1);
  const { daemon, port } = await startOnFreePort(
    (p) => {
      writeFileSync(conf, renderKnotConfig(setup.spec, setup.paths, p));
      const knot = Daemon.start("knotd", "knotd", ["-c", conf], join(setup.dir, "knotd.log"), setup.pidDir);
      setup.onSpawn(knot);
      return knot;
    },
    (knot, p) => servesAllZones(knot, p, setup),
    setup.deadline,
  );
  try {
    return { daemon, port, trustAnchor: await sepKeyDs(port, setup.spec.anchor, setup.deadline) };
  } catch (err) {
    throw withLogTail(daemon, err);
  }
}
