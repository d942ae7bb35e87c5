// A scripted inner SIP server on UDP for what SIPp cannot express: one that never answers (the edge's Timer B
// must end the transaction with 408), and one that rings and then answers a CANCEL with 200 and the INVITE
// with 487 — the 487 needs the INVITE's full Via stack, which a SIPp scenario has no way to keep. It parses
// with its own few lines (not the code under test) and records everything it receives.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export type UdpUasMode = "silent" | "ring-then-cancel";

export interface ReceivedRequest {
  readonly method: string;
  readonly callId: string;
  readonly cseq: string;
  /** Top Via branch: the edge's client transaction (RFC 3261 §17.1.3). */
  readonly branch: string;
  readonly at: number;
  readonly raw: string;
}

export interface UdpUas {
  readonly port: number;
  readonly received: readonly ReceivedRequest[];
  close(): Promise<void>;
}

interface ParsedRequest {
  readonly method: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** RFC 3261 §7.3.3 compact forms the edge might use. */
const COMPACT: Readonly<Record<string, string>> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
};

function parseRequest(text: string): ParsedRequest | undefined {
  const head = text.split("\r\n\r\n", 1)[0] ?? "";
  const [startLine, ...lines] = head.split("\r\n");
  const match = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(startLine ?? "");
  if (match === null) return undefined;
  const headers = lines.flatMap((line) => {
    const colon = line.indexOf(":");
    if (colon <= 0) return [];
    const name = line.slice(0, colon).trim().toLowerCase();
    return [[COMPACT[name] ?? name, line.slice(colon + 1).trim()] as const];
  });
  return { method: match[1] ?? "", headers };
}

function all(request: ParsedRequest, name: string): string[] {
  return request.headers.filter(([n]) => n === name).map(([, v]) => v);
}

function one(request: ParsedRequest, name: string): string {
  return all(request, name)[0] ?? "";
}

function topBranch(request: ParsedRequest): string {
  return /;\s*branch=([^;,\s]+)/i.exec(one(request, "via"))?.[1] ?? "";
}

/** RFC 3261 §8.2.6.2: Via (all, in order), From, To (with our tag), Call-ID, CSeq copied from the request. */
function response(
  request: ParsedRequest,
  status: string,
  options: { cseq?: string; recordRoute?: boolean; contact?: string } = {},
): string {
  const to = one(request, "to");
  const lines = [
    `SIP/2.0 ${status}`,
    ...all(request, "via").map((v) => `Via: ${v}`),
    `From: ${one(request, "from")}`,
    `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=uas-${one(request, "call-id").slice(0, 16)}`}`,
    `Call-ID: ${one(request, "call-id")}`,
    `CSeq: ${options.cseq ?? one(request, "cseq")}`,
    ...(options.recordRoute === true ? all(request, "record-route").map((v) => `Record-Route: ${v}`) : []),
    ...(options.contact !== undefined ? [`Contact: ${options.contact}`] : []),
    "Content-Length: 0",
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

class RingThenCancel {
  private readonly invites = new Map<string, { request: ParsedRequest; ringing: string }>();

  constructor(
    private readonly socket: Socket,
    private readonly contact: string,
  ) {}

  handle(request: ParsedRequest, peer: RemoteInfo): void {
    const callId = one(request, "call-id");
    if (request.method === "INVITE") {
      // A retransmitted INVITE gets the same 180 again (RFC 3261 §17.2.1).
      const known = this.invites.get(callId);
      const ringing =
        known?.ringing ?? response(request, "180 Ringing", { recordRoute: true, contact: this.contact });
      this.invites.set(callId, { request: known?.request ?? request, ringing });
      this.reply(ringing, peer);
    } else if (request.method === "CANCEL") {
      // RFC 3261 §9.2: 200 for the CANCEL, then 487 for the INVITE it matches.
      this.reply(response(request, "200 OK"), peer);
      const invite = this.invites.get(callId);
      if (invite === undefined) return;
      const number = one(invite.request, "cseq").split(/\s+/)[0] ?? "1";
      this.reply(response(invite.request, "487 Request Terminated", { cseq: `${number} INVITE` }), peer);
    }
  }

  private reply(text: string, peer: RemoteInfo): void {
    this.socket.send(text, peer.port, peer.address);
  }
}

export async function startUdpUas(mode: UdpUasMode): Promise<UdpUas> {
  const socket = createSocket("udp4");
  const received: ReceivedRequest[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const port = socket.address().port;
  const script =
    mode === "ring-then-cancel" ? new RingThenCancel(socket, `<sip:uas@127.0.0.1:${port}>`) : undefined;
  socket.on("message", (data, peer) => {
    const raw = data.toString("latin1");
    const request = parseRequest(raw);
    if (request === undefined) return;
    received.push({
      method: request.method,
      callId: one(request, "call-id"),
      cseq: one(request, "cseq"),
      branch: topBranch(request),
      at: Date.now(),
      raw,
    });
    script?.handle(request, peer);
  });
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
