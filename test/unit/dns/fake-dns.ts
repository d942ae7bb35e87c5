/**
 * In-process fake DNS servers for unit tests: UDP and TCP on the same random loopback port, answering through a
 * handler. Handlers can return a packet, raw bytes (garbage), several datagrams, a truncated TCP frame, or silence.
 */
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import dnsPacket from "dns-packet";
import type { Answer, DecodedPacket, Packet } from "dns-packet";
import { encodeEde } from "../../../src/dns/ede.js";

export type Reply =
  | { packet: Packet }
  | { raw: Buffer }
  | { datagrams: Buffer[] }
  /** TCP only: write these bytes (already framed or deliberately short) and close. */
  | { tcpRaw: Buffer }
  | "silent";

export interface QueryContext {
  readonly transport: "udp" | "tcp";
  readonly query: DecodedPacket;
  readonly raw: Buffer;
}

export type Handler = (ctx: QueryContext) => Reply;

export interface FakeDns {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly log: {
    transport: "udp" | "tcp";
    name: string;
    type: string;
    id: number;
    doBit: boolean;
    ad: boolean;
  }[];
  close(): Promise<void>;
}

export async function startFakeDns(handler: Handler, host = "127.0.0.1"): Promise<FakeDns> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket(host.includes(":") ? "udp6" : "udp4");
    const port = await new Promise<number>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(0, host, () => resolve(udp.address().port));
    });
    const tcp = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    if (ok) return wire(handler, host, port, udp, tcp);
    udp.close();
  }
  throw new Error("no free port for the fake DNS server");
}

function wire(handler: Handler, host: string, port: number, udp: Socket, tcp: Server): FakeDns {
  const log: FakeDns["log"] = [];
  const sockets = new Set<TcpSocket>();
  const note = (transport: "udp" | "tcp", raw: Buffer): QueryContext | undefined => {
    try {
      const query = dnsPacket.decode(raw);
      const q = query.questions?.[0];
      const opt = query.additionals?.find((a) => a.type === "OPT") as { flag_do?: boolean } | undefined;
      log.push({
        transport,
        name: q?.name ?? "",
        type: q?.type ?? "",
        id: query.id ?? 0,
        doBit: opt?.flag_do === true,
        ad: query.flag_ad,
      });
      return { transport, query, raw };
    } catch {
      return undefined;
    }
  };
  udp.on("message", (raw, rinfo) => {
    const ctx = note("udp", raw);
    if (ctx === undefined) return;
    const reply = handler(ctx);
    for (const d of datagramsOf(reply)) udp.send(d, rinfo.port, rinfo.address);
  });
  tcp.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const ctx = note("tcp", buf.subarray(2, 2 + buf.readUInt16BE(0)));
      if (ctx === undefined) return void socket.destroy();
      const reply = handler(ctx);
      if (reply === "silent") return;
      if ("tcpRaw" in reply) return void socket.end(reply.tcpRaw);
      for (const d of datagramsOf(reply)) socket.write(frame(d));
      socket.end();
    });
  });
  return {
    host,
    port,
    address: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
    log,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

function datagramsOf(reply: Reply): Buffer[] {
  if (reply === "silent" || "tcpRaw" in reply) return [];
  if ("packet" in reply) return [dnsPacket.encode(reply.packet)];
  if ("raw" in reply) return [reply.raw];
  return reply.datagrams;
}

export function frame(message: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length, 0);
  return Buffer.concat([len, message]);
}

export interface ResponseOptions {
  answers?: Answer[];
  authorities?: Answer[];
  rcode?: number;
  ad?: boolean;
  tc?: boolean;
  ede?: { code: number; text?: string }[];
  id?: number;
  questionName?: string;
}

/** A response to `query` echoing its ID and question, with an OPT record (and EDE options when asked). */
export function respond(query: DecodedPacket, o: ResponseOptions = {}): Packet {
  const q = query.questions?.[0];
  const flags =
    dnsPacket.RECURSION_DESIRED |
    dnsPacket.RECURSION_AVAILABLE |
    (o.ad ? dnsPacket.AUTHENTIC_DATA : 0) |
    (o.tc ? dnsPacket.TRUNCATED_RESPONSE : 0) |
    (o.rcode ?? 0);
  return {
    type: "response",
    id: o.id ?? query.id,
    flags,
    questions: q ? [{ ...q, name: o.questionName ?? q.name }] : [],
    answers: o.answers ?? [],
    authorities: o.authorities ?? [],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        flags: dnsPacket.DNSSEC_OK,
        options: (o.ede ?? []).map((e) => ({ code: 15, data: encodeEde(e.code, e.text ?? "") })),
      } as unknown as Answer,
    ],
  };
}

/** A toy recursive resolver over an in-memory zone set: secure/insecure per zone, bogus names, CNAME chasing. */
export interface FakeZone {
  readonly records: Answer[];
  /** Names (or suffixes, written with a leading dot) whose answers carry AD=1. */
  readonly secure: readonly string[];
  /** Names whose answers are SERVFAIL + EDE 6 (DNSSEC Bogus). */
  readonly bogus?: readonly string[];
  /** Names whose answers are SERVFAIL without EDE. */
  readonly servfail?: readonly string[];
  /** Negative-answer SOA TTL and MINIMUM. */
  readonly soa?: { ttl: number; minimum: number };
  /** Do not chase CNAMEs (answer with the CNAME only). */
  readonly noChase?: boolean;
}

function covered(list: readonly string[], name: string): boolean {
  const n = name.toLowerCase();
  return list.some((entry) =>
    entry.startsWith(".") ? n.endsWith(entry) || n === entry.slice(1) : n === entry,
  );
}

export function zoneHandler(zone: FakeZone): Handler {
  return ({ query }) => {
    const q = query.questions?.[0];
    if (q === undefined) return "silent";
    const qname = q.name.toLowerCase();
    if (covered(zone.bogus ?? [], qname))
      return { packet: respond(query, { rcode: 2, ede: [{ code: 6, text: "signature invalid" }] }) };
    if (covered(zone.servfail ?? [], qname)) return { packet: respond(query, { rcode: 2 }) };
    const answers: Answer[] = [];
    const names = [qname];
    let current = qname;
    for (let i = 0; i < 10; i++) {
      const hits = zone.records.filter((r) => r.name.toLowerCase() === current && r.type === q.type);
      if (hits.length > 0) {
        answers.push(...hits);
        break;
      }
      const cname = zone.records.find((r) => r.name.toLowerCase() === current && r.type === "CNAME");
      if (cname === undefined) break;
      answers.push(cname);
      current = String((cname as { data: string }).data).toLowerCase();
      // An un-chased CNAME answer holds only the CNAME: AD covers that RRset alone.
      if (zone.noChase) break;
      names.push(current);
      if (covered(zone.bogus ?? [], current))
        return { packet: respond(query, { rcode: 2, ede: [{ code: 6 }] }) };
    }
    const ad = names.every((n) => covered(zone.secure, n));
    const exists = zone.records.some((r) => r.name.toLowerCase() === current);
    const negative = answers.every((a) => a.type === "CNAME");
    const soa = zone.soa ?? { ttl: 300, minimum: 60 };
    const authorities: Answer[] = negative
      ? [
          {
            type: "SOA",
            name: "example",
            ttl: soa.ttl,
            data: {
              mname: "ns.example",
              rname: "hostmaster.example",
              serial: 1,
              refresh: 3600,
              retry: 600,
              expire: 86400,
              minimum: soa.minimum,
            },
          },
        ]
      : [];
    return { packet: respond(query, { answers, authorities, ad, rcode: negative && !exists ? 3 : 0 }) };
  };
}

/** mulberry32: a small seeded PRNG for deterministic RFC 2782 ordering tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
