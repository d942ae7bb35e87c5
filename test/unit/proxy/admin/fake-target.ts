/** A scriptable AdminTarget for the admin server and CLI tests, plus a raw HTTP helper. */
import * as http from "node:http";
import { Counters } from "../../../../src/transport/counters.js";
import type { EdgeReloadResult } from "../../../../src/transport/edge-runtime.js";
import type { AdminTarget, ConnectionView, HealthReport } from "../../../../src/proxy/admin/admin-target.js";

export const INBOUND: ConnectionView = {
  direction: "inbound",
  id: "in:public:7",
  listener: "public",
  peer: "127.0.0.1:40001",
  ageSeconds: 75,
  generation: 3,
  state: "open",
  sni: "edge.example.com",
  tls: { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" },
  verification: { code: "client-verified" },
  identities: ["peer-a.example"],
  aliases: [],
  activeTransactions: 2,
};

export const OUTBOUND: ConnectionView = {
  direction: "outbound",
  id: "out:4",
  domain: "federation.example",
  peer: "[::1]:5061",
  ageSeconds: 3700,
  generation: 2,
  state: "draining",
  sni: "sip.federation.example",
  tls: { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" },
  verification: { code: "dane-ee-match", method: "dane-ee" },
  identities: ["federation.example"],
  aliases: ["federation.example", "sip.federation.example"],
  clientCertificate: { name: "federation-client", fingerprint: "ab".repeat(32) },
  activeTransactions: 1,
};

export const REFUSED: EdgeReloadResult = {
  ok: false,
  code: "bad-config",
  generation: 3,
  problems: [
    {
      file: "/etc/siptrust/edge.yaml",
      line: 12,
      key: "listeners[0].certificates[0].key",
      message: "does not match the certificate",
    },
    { file: "/etc/siptrust/ca.pem", line: 0, key: "", message: "no certificate found" },
  ],
};

export const APPLIED: EdgeReloadResult = {
  ok: true,
  code: "reloaded",
  generation: 4,
  connections: { policy: "revalidate", kept: 5, closed: [{ listener: "public", id: 9, code: "expired" }] },
};

export class FakeTarget implements AdminTarget {
  readonly counters = new Counters();
  healthy = true;
  generation = 3;
  list: ConnectionView[] = [INBOUND, OUTBOUND];
  nextReload: EdgeReloadResult = APPLIED;
  reloads = 0;
  /** Methods that throw on their next calls (a broken edge). */
  readonly failing = new Set<"health" | "connections" | "reload" | "gauges">();

  health(): HealthReport {
    if (this.failing.has("health")) throw new Error("health exploded");
    return {
      ok: this.healthy,
      generation: this.generation,
      uptimeSeconds: 3725,
      listeners: { public: "127.0.0.1:5061" },
    };
  }

  connections(): readonly ConnectionView[] {
    if (this.failing.has("connections")) throw new Error("connection table exploded");
    return this.list;
  }

  reload(): EdgeReloadResult {
    this.reloads++;
    if (this.failing.has("reload")) throw new Error("reload exploded");
    if (this.nextReload.ok) this.generation = this.nextReload.generation;
    return this.nextReload;
  }

  gauges(): Record<string, number> {
    if (this.failing.has("gauges")) throw new Error("gauges exploded");
    return {
      "connections.inbound.open": 1,
      "connections.outbound.open": 3,
      "connections.outbound.draining": 1,
      "transactions.active": 7,
      generation: this.generation,
      "accounting.queue": 12,
    };
  }
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/** One HTTP request on a fresh connection, bounded in time. */
export function call(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers: options.headers, agent: false, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("test request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}
