// Starts Unbound for a lab and waits until it validates the anchor zone through Knot.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Daemon } from "./daemon.js";
import { probe } from "./dns-probe.js";
import type { NormalizedSpec } from "./lab-spec.js";
import { Fatal, LAB_HOST, remaining, startOnFreePort } from "./readiness.js";
import { renderUnboundConfig } from "./unbound-config.js";

export interface UnboundSetup {
  readonly spec: NormalizedSpec;
  readonly dir: string;
  readonly pidDir: string;
  readonly authoritativePort: number;
  readonly trustAnchor: string;
  readonly deadline: number;
  readonly onSpawn: (daemon: Daemon) => void;
}

const BIND_FAILURE = /could not open ports|can't bind/i;

async function validatesAnchor(unbound: Daemon, port: number, setup: UnboundSetup): Promise<boolean> {
  if (!unbound.running) throw new Fatal(unbound.describeExit(), BIND_FAILURE.test(unbound.log()));
  const timeoutMs = Math.min(500, remaining(setup.deadline));
  const answer = await probe({
    host: LAB_HOST,
    port,
    name: setup.spec.anchor,
    type: "SOA",
    recursion: true,
    timeoutMs,
  });
  // AD on the anchor's SOA proves the trust anchor matches Knot's key and the resolver path works.
  return answer !== undefined && answer.rcode === "NOERROR" && answer.ad;
}

export function startUnbound(setup: UnboundSetup): Promise<{ daemon: Daemon; port: number }> {
  const conf = join(setup.dir, "unbound.conf");
  return startOnFreePort(
    (port) => {
      const text = renderUnboundConfig(
        setup.spec,
        setup.dir,
        port,
        setup.authoritativePort,
        setup.trustAnchor,
      );
      writeFileSync(conf, text);
      const unbound = Daemon.start(
        "unbound",
        "unbound",
        ["-d", "-c", conf],
        join(setup.dir, "unbound.log"),
        setup.pidDir,
      );
      setup.onSpawn(unbound);
      return unbound;
    },
    (unbound, port) => validatesAnchor(unbound, port, setup),
    setup.deadline,
  );
}
