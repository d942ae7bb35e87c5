// SIP bytes as a peer sees them, parsed by a few lines of our own (not the edge's parser under test): split a
// stream into messages by Content-Length (RFC 3261 §18.3), read the start line and header fields (folded
// continuations joined, §7.3.1; compact names expanded, §7.3.3), and write the requests the tests send.

/** RFC 3261 §7.3.3 compact forms. */
const COMPACT: Readonly<Record<string, string>> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
  l: "content-length",
  c: "content-type",
  k: "supported",
  s: "subject",
  e: "content-encoding",
};

export interface WireMessage {
  /** The status code of a response; undefined for a request. */
  readonly status: number | undefined;
  /** The method of a request; undefined for a response. */
  readonly method: string | undefined;
  readonly startLine: string;
  /** Header fields in order: lower-case long names, values trimmed (a line with commas stays one entry). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly raw: Buffer;
  readonly at: number;
}

export function header(message: WireMessage, name: string): string | undefined {
  return message.headers.find(([n]) => n === name)?.[1];
}

export function headers(message: WireMessage, name: string): string[] {
  return message.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** The CSeq method, e.g. "INVITE" for `CSeq: 4 INVITE`. */
export function cseqMethod(message: WireMessage): string {
  return (header(message, "cseq") ?? "").trim().split(/\s+/)[1] ?? "";
}

/** Parses the head of one message (start line and header fields); the body is not looked at. */
export function parseWire(raw: Buffer): WireMessage | undefined {
  const text = raw.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n");
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const [startLine = "", ...lines] = head.split("\r\n");
  const response = /^SIP\/2\.0 (\d{3}) /.exec(`${startLine} `);
  const request = /^(\S+) \S+ SIP\/2\.0$/.exec(startLine);
  if (response === null && request === null) return undefined;
  const fields: Array<[string, string]> = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields[fields.length - 1]!;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
  }
  return {
    status: response === null ? undefined : Number(response[1]),
    method: request === null ? undefined : request[1],
    startLine,
    headers: fields,
    raw,
    at: Date.now(),
  };
}

/**
 * Splits a byte stream into messages. Leading CRLFs (keep-alive pongs, RFC 5626 §4.4.1) are skipped; a
 * message without Content-Length counts as having no body (the edge always sends it on a stream).
 */
export class StreamSplitter {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0d || this.buffer[start] === 0x0a))
        start++;
      this.buffer = this.buffer.subarray(start);
      const headEnd = this.buffer.indexOf("\r\n\r\n", 0, "latin1");
      if (headEnd < 0) return out;
      const head = parseWire(this.buffer.subarray(0, headEnd + 4));
      const length = Number(head === undefined ? 0 : (header(head, "content-length") ?? 0));
      const end = headEnd + 4 + (Number.isSafeInteger(length) && length > 0 ? length : 0);
      if (this.buffer.length < end) return out;
      out.push(Buffer.from(this.buffer.subarray(0, end)));
      this.buffer = this.buffer.subarray(end);
    }
  }
}

export interface RequestSpec {
  readonly method: string;
  readonly requestUri: string;
  /** Via transport and sent-by, e.g. `TLS 127.0.0.1:40000`. */
  readonly via: string;
  readonly branch: string;
  readonly callId: string;
  readonly from?: string;
  readonly to?: string;
  readonly cseq?: number;
  readonly extra?: readonly string[];
}

function tagFor(callId: string): string {
  return (callId.split("@")[0] ?? "").replace(/[^A-Za-z0-9.-]/g, "").slice(-24) || "t";
}

/** A well-formed request (RFC 3261 §8.1.1) with an empty body. */
export function requestText(spec: RequestSpec): string {
  const lines = [
    `${spec.method} ${spec.requestUri} SIP/2.0`,
    `Via: SIP/2.0/${spec.via};branch=${spec.branch}`,
    "Max-Forwards: 70",
    // RFC 3261 §19.3: the tag is a token; the Call-ID's local part, stripped to token characters.
    `From: ${spec.from ?? "<sip:hostile@a.example>"};tag=${tagFor(spec.callId)}`,
    `To: ${spec.to ?? `<${spec.requestUri}>`}`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
    ...(spec.extra ?? []),
    "Content-Length: 0",
  ];
  return `${lines.join("\r\n")}\r\n\r\n`;
}
