// Issue 7: the running edge (`siptrust serve`) against bad input from both sides. One daemon serves three
// suites in order (each starts its own connections and reads counters as differences, except the first):
// RFC 4475 torture messages from a TLS partner (torture-suite.ts), one branch from two connections
// (cross-connection-suite.ts), hostile datagrams and inner responses (inside-suite.ts), and the slowloris
// guard under steady traffic (partial-timeout-suite.ts). The INVITE
// flood needs another configuration and has its own daemon (flood.test.ts).
import { after, before, describe } from "node:test";
import { startHostileLab, type HostileLab } from "./hostile-lab.js";
import { crossConnectionSuite } from "./cross-connection-suite.js";
import { insideSuite } from "./inside-suite.js";
import { partialTimeoutSuite } from "./partial-timeout-suite.js";
import { tortureSuite } from "./torture-suite.js";

/** connections.partialMessageTimeout: short, so incomplete messages do not hold the suite long. */
const PARTIAL_TIMEOUT_MS = 1500;

describe("the running edge against hostile input", { timeout: 90_000 }, () => {
  let lab: HostileLab | undefined;
  const getLab = (): HostileLab => {
    if (lab === undefined) throw new Error("the lab did not start");
    return lab;
  };

  before(async () => {
    lab = await startHostileLab({ uasMode: "answer", partialMessageTimeout: `${PARTIAL_TIMEOUT_MS}ms` });
  });
  after(async () => {
    await lab?.close();
  });

  tortureSuite(getLab, PARTIAL_TIMEOUT_MS);
  crossConnectionSuite(getLab);
  insideSuite(getLab);
  partialTimeoutSuite(getLab, PARTIAL_TIMEOUT_MS);
});
