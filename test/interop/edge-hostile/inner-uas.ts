// The inner SIP server of these tests: a UDP socket that records every request the edge forwards and, in
// "answer" mode, answers it at once (INVITE: 486 Busy Here, anything else: 200 OK; ACK never). In "silent"
// mode it answers nothing until told to. It can also send anything at all to the edge's inside port, which
// is how the tests play a hostile inner network.
import { createSocket, type Socket } from "node:dgram";
import { cseqMethod, header, headers, parseWire, type WireMessage } from "./sip-wire.js";

export type UasMode = "answer" | "silent";

export interface ResponseOptions {
  /** Replaces the top Via value (the edge's own) with this one. */
  readonly topVia?: string;
  /** Header lines added before Content-Length. */
  readonly extra?: readonly string[];
}

export class InnerUas {
  /** Requests the edge forwarded, in arrival order (retransmissions included). */
  readonly requests: WireMessage[] = [];
  /** Responses the edge sent to us (answers to requests we sent to its inside port). */
  readonly responses: WireMessage[] = [];
  /** Datagrams that were not SIP at all. */
  readonly garbage: Buffer[] = [];
  mode: UasMode;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    mode: UasMode,
    /** The edge's inside port (where our answers and hostile datagrams go). */
    private edgePort: number,
  ) {
    this.mode = mode;
    socket.on("message", (data) => this.receive(data));
  }

  static async start(mode: UasMode): Promise<InnerUas> {
    // 4 MiB (Linux's usual rmem_max): the flood sends ~1000 INVITEs plus retransmissions at once, more than
    // the default ~200 KiB buffer holds while the test process is busy reading the answers.
    const socket = createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => resolve());
    });
    return new InnerUas(socket, mode, 0);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Where hostile datagrams go: the edge's inside port (known once the edge's config is written). */
  set target(port: number) {
    this.edgePort = port;
  }

  sendRaw(data: Buffer | string): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, this.edgePort, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
    );
  }

  /** RFC 3261 §8.2.6.2: a response copying Via (all, in order), From, To (with our tag), Call-ID and CSeq. */
  responseTo(request: WireMessage, status: string, options: ResponseOptions = {}): string {
    const vias = headers(request, "via");
    if (options.topVia !== undefined) vias[0] = options.topVia;
    const to = header(request, "to") ?? "";
    const callId = header(request, "call-id") ?? "";
    const lines = [
      `SIP/2.0 ${status}`,
      ...vias.map((v) => `Via: ${v}`),
      `From: ${header(request, "from") ?? ""}`,
      `To: ${/;\s*tag=/i.test(to) ? to : `${to};tag=uas${callId.length}`}`,
      `Call-ID: ${callId}`,
      `CSeq: ${header(request, "cseq") ?? ""}`,
      ...(options.extra ?? []),
      "Content-Length: 0",
    ];
    return `${lines.join("\r\n")}\r\n\r\n`;
  }

  respond(request: WireMessage, status: string, options: ResponseOptions = {}): Promise<void> {
    return this.sendRaw(this.responseTo(request, status, options));
  }

  /** The answer "answer" mode gives. */
  answer(request: WireMessage): Promise<void> {
    return this.respond(request, request.method === "INVITE" ? "486 Busy Here" : "200 OK");
  }

  /** The first forwarded request whose raw text contains `needle` (e.g. a Call-ID), waiting up to `timeoutMs`. */
  async waitForRequest(needle: string, timeoutMs: number): Promise<WireMessage | undefined> {
    const find = (): WireMessage | undefined =>
      this.requests.find((r) => r.method !== "ACK" && r.raw.includes(needle, 0, "latin1"));
    await this.waitUntil(() => find() !== undefined, timeoutMs);
    return find();
  }

  /** Waits until `condition` holds or `timeoutMs` passed. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (condition()) done();
      };
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(data: Buffer): void {
    const message = parseWire(data);
    if (message === undefined) this.garbage.push(data);
    else if (message.status !== undefined) this.responses.push(message);
    else {
      this.requests.push(message);
      if (this.mode === "answer" && message.method !== "ACK" && cseqMethod(message) !== "ACK")
        void this.answer(message);
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
