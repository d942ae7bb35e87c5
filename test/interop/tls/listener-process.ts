/**
 * A TlsListener in its own process, for the hostile-peer test (its RSS is read from /proc/<pid>/status, and a
 * flood cannot disturb the test runner's event loop). Started as
 *   node --import tsx test/interop/tls/listener-process.ts <config.json>
 * with an IPC channel. Messages to the parent: { type: "listening", port }, and { type: "counters", counters,
 * connections } in answer to { type: "counters" }. Every request is answered with 200 OK carrying a body of
 * `responseBodyBytes`, so a peer that never reads fills its write buffer. Exits when the parent goes away.
 */
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { buildServerProfile } from "../../../src/tls/server-profile.js";
import { TlsListener, type ListenerLimits } from "../../../src/transport/tls-listener.js";
import { okResponse } from "./sip-text.js";

export interface ListenerProcessConfig {
  readonly certPem: string;
  readonly keyPem: string;
  readonly clientCaPem: string;
  readonly limits: Partial<ListenerLimits>;
  readonly responseBodyBytes: number;
}

export type ListenerProcessMessage =
  | { readonly type: "listening"; readonly port: number }
  | { readonly type: "counters"; readonly counters: Record<string, number>; readonly connections: number };

function send(message: ListenerProcessMessage): void {
  process.send?.(message);
}

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, "utf8")) as ListenerProcessConfig;
  const profile = buildServerProfile({
    credentials: [{ certPem: config.certPem, keyPem: config.keyPem }],
    clientCertificates: "optional",
    clientCaPems: [config.clientCaPem],
  });
  const anchors = [{ cert: new X509Certificate(config.clientCaPem) }];
  const body = "x".repeat(config.responseBodyBytes);
  const listener = new TlsListener({
    host: "127.0.0.1",
    port: 0,
    profile: () => profile,
    clientPolicy: () => ({ mode: "optional", anchors }),
    limits: config.limits,
    onMessage: (connection, message) => {
      if (message.isRequest) connection.send(okResponse(message, body));
    },
  });
  const { port } = await listener.listen();
  process.on("message", (request: { type?: string }) => {
    if (request.type === "counters") {
      send({
        type: "counters",
        counters: listener.counters.snapshot(),
        connections: listener.connections.size,
      });
    }
  });
  // The parent owns this process: when its IPC channel closes (normal end or crash), stop.
  process.on("disconnect", () => process.exit(0));
  send({ type: "listening", port });
}

const configFile = process.argv[2];
if (configFile === undefined) {
  console.error("usage: listener-process.ts <config.json>");
  process.exit(2);
}
main(configFile).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
