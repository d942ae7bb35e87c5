/**
 * DNS wire format: query encoding and a defensive response decoder.
 *
 * dns-packet does the per-record RDATA decoding, but its message decoder trusts the section counts and lets some
 * record decoders read past RDLENGTH. So the message structure is walked here first (RFC 1035 §4.1): every record's
 * extent comes from its RDLENGTH, section counts are checked against the bytes present before anything is allocated,
 * and a record whose dns-packet decoding does not consume exactly its RDATA makes the whole message malformed.
 * Each record keeps its raw RDATA, so types dns-packet does not model (or models loosely, like TLSA) are decoded from
 * the octets themselves.
 */
import dnsPacket from "dns-packet";
import type { Answer, RecordType } from "dns-packet";
import { canonicalName } from "./names.js";

export type QueryType =
  "A" | "AAAA" | "CNAME" | "NAPTR" | "SRV" | "TLSA" | "SOA" | "TXT" | "NS" | "DS" | "DNSKEY";

/** RFC 8914-era guidance (DNS flag day 2020): 1232 octets avoids IP fragmentation on common paths. */
export const EDNS_UDP_PAYLOAD = 1232;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const HEADER_BYTES = 12;
const MIN_QUESTION_BYTES = 5;
const MIN_RECORD_BYTES = 11;
/** RFC 1035 §4.1.4 pointers may chain; bound the walk so a crafted loop cannot spin. */
const MAX_NAME_HOPS = 128;

export interface WireRecord {
  /** Owner name, canonical (lower case, no trailing dot). */
  readonly name: string;
  readonly type: string;
  readonly typeCode: number;
  readonly ttl: number;
  /** dns-packet's decoded RDATA (type-specific shape); for unknown types the raw bytes. */
  readonly data: unknown;
  /** The RDATA octets exactly as received. */
  readonly rdata: Buffer;
}

export interface OptRecord {
  readonly udpPayloadSize: number;
  readonly extendedRcode: number;
  readonly version: number;
  readonly doBit: boolean;
  readonly options: readonly { code: number; data: Buffer }[];
}

export interface DnsMessage {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** Full RCODE: header RCODE plus the OPT extended bits (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly questions: readonly { name: string; typeCode: number; classCode: number }[];
  readonly answers: readonly WireRecord[];
  readonly authorities: readonly WireRecord[];
  readonly additionals: readonly WireRecord[];
  readonly opt: OptRecord | undefined;
}

export type DecodeResult =
  { ok: true; message: DnsMessage } | { ok: false; code: "malformed"; detail: string };

class WireError extends Error {}

/** dns-packet's per-item codecs exist at runtime but are missing from its type declarations. */
interface Decoder<T> {
  decode: ((buf: Buffer, offset: number) => T) & { bytes: number };
}
const codecs = dnsPacket as unknown as { name: Decoder<string>; answer: Decoder<Answer> };

/** Encodes a recursive query with EDNS0, the DO bit (RFC 3225) and AD=1 (RFC 6840 §5.7: "I understand AD"). */
export function encodeQuery(id: number, name: string, type: QueryType): Buffer {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ name, type: type as RecordType, class: "IN" }],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: EDNS_UDP_PAYLOAD,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK,
        flag_do: true,
        options: [],
      },
    ],
  });
}

/** RFC 1035 §3.2.2 and the IANA RR type registry, for the types this layer asks for. */
const TYPE_CODES: Readonly<Record<QueryType, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  DNSKEY: 48,
  TLSA: 52,
};

export function typeCodeOf(type: QueryType): number {
  return TYPE_CODES[type];
}

/** Decodes a response; never throws. */
export function decodeMessage(buf: Buffer): DecodeResult {
  try {
    return { ok: true, message: walkMessage(buf) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, code: "malformed", detail };
  }
}

function walkMessage(buf: Buffer): DnsMessage {
  if (buf.length < HEADER_BYTES) throw new WireError(`message shorter than the ${HEADER_BYTES}-octet header`);
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((at) => buf.readUInt16BE(at)) as [number, number, number, number];
  checkCounts(buf.length, counts);
  let offset = HEADER_BYTES;
  const questions = [];
  for (let i = 0; i < counts[0]; i++) {
    const { question, next } = readQuestion(buf, offset);
    questions.push(question);
    offset = next;
  }
  const sections: WireRecord[][] = [[], [], []];
  let opt: OptRecord | undefined;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] ?? 0); i++) {
      const read = readRecord(buf, offset, s === 2);
      offset = read.next;
      if (read.kind === "record") sections[s]?.push(read.record);
      else if (opt !== undefined) throw new WireError("more than one OPT record (RFC 6891 §6.1.1)");
      else opt = read.opt;
    }
  }
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: ((opt?.extendedRcode ?? 0) << 4) | (flags & 0xf),
    questions,
    answers: sections[0] ?? [],
    authorities: sections[1] ?? [],
    additionals: sections[2] ?? [],
    opt,
  };
}

/** Rejects counts that cannot fit in the bytes present, before any per-record allocation. */
function checkCounts(length: number, [qd, an, ns, ar]: [number, number, number, number]): void {
  const minimum = HEADER_BYTES + qd * MIN_QUESTION_BYTES + (an + ns + ar) * MIN_RECORD_BYTES;
  if (minimum > length)
    throw new WireError(`section counts need at least ${minimum} octets, message has ${length}`);
}

/** Offset just past the (possibly compressed) name starting at `offset`. */
function skipName(buf: Buffer, offset: number): number {
  let at = offset;
  for (let hops = 0; hops < MAX_NAME_HOPS; hops++) {
    const len = byteAt(buf, at);
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) {
      byteAt(buf, at + 1);
      return at + 2;
    }
    if ((len & 0xc0) !== 0) throw new WireError(`bad label type 0x${len.toString(16)} at ${at}`);
    at += 1 + len;
  }
  throw new WireError("name has too many labels");
}

function byteAt(buf: Buffer, at: number): number {
  const value = buf[at];
  if (value === undefined) throw new WireError(`name runs past the end of the message at ${at}`);
  return value;
}

function readName(buf: Buffer, offset: number): string {
  try {
    return canonicalName(codecs.name.decode(buf, offset));
  } catch (err) {
    throw new WireError(`bad name at ${offset}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function readQuestion(buf: Buffer, offset: number) {
  const end = skipName(buf, offset);
  if (end + 4 > buf.length) throw new WireError("question runs past the end of the message");
  const question = {
    name: readName(buf, offset),
    typeCode: buf.readUInt16BE(end),
    classCode: buf.readUInt16BE(end + 2),
  };
  return { question, next: end + 4 };
}

type ReadRecord =
  { kind: "record"; record: WireRecord; next: number } | { kind: "opt"; opt: OptRecord; next: number };

function readRecord(buf: Buffer, offset: number, additional: boolean): ReadRecord {
  const fixed = skipName(buf, offset);
  if (fixed + 10 > buf.length) throw new WireError(`record at ${offset} runs past the end of the message`);
  const typeCodeValue = buf.readUInt16BE(fixed);
  const rdlength = buf.readUInt16BE(fixed + 8);
  const next = fixed + 10 + rdlength;
  if (next > buf.length) throw new WireError(`RDATA at ${fixed + 10} (${rdlength} octets) runs past the end`);
  const rdata = buf.subarray(fixed + 10, next);
  if (typeCodeValue === TYPE_OPT) {
    if (!additional) throw new WireError("OPT record outside the additional section (RFC 6891 §6.1.1)");
    return { kind: "opt", opt: readOpt(buf, fixed, rdata), next };
  }
  const record = decodeRecord(buf, offset, next, rdata, typeCodeValue, buf.readUInt32BE(fixed + 4));
  return { kind: "record", record, next };
}

/** Types whose RDATA this layer decodes itself from the raw octets (see tlsa.ts). */
const RAW_TYPES: Readonly<Record<number, string>> = { 52: "TLSA" };

function decodeRecord(
  buf: Buffer,
  start: number,
  end: number,
  rdata: Buffer,
  code: number,
  ttlRaw: number,
): WireRecord {
  // RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
  const ttl = ttlRaw > 0x7fffffff ? 0 : ttlRaw;
  const raw = RAW_TYPES[code];
  if (raw !== undefined)
    return { name: readName(buf, start), type: raw, typeCode: code, ttl, data: rdata, rdata };
  checkRdataShape(buf, code, end - rdata.length, end);
  let answer: Answer;
  try {
    // Decoding against a buffer that ends with this record stops any decoder from reading into the next one
    // (compression pointers only point backwards, so earlier names stay reachable).
    answer = codecs.answer.decode(buf.subarray(0, end), start);
  } catch (err) {
    throw new WireError(`record at ${start}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (codecs.answer.decode.bytes !== end - start) {
    throw new WireError(`record at ${start}: RDATA does not match its RDLENGTH`);
  }
  const data = "data" in answer ? answer.data : undefined;
  return { name: canonicalName(answer.name), type: answer.type, typeCode: code, ttl, data, rdata };
}

/**
 * Exact RDATA layouts of the types location depends on (RFC 1035 §3.3/§3.4, RFC 3596, RFC 2782, RFC 3403). Some
 * dns-packet decoders report RDLENGTH as consumed whatever they read, so padding or a short RDATA would pass unseen.
 */
function checkRdataShape(buf: Buffer, code: number, start: number, end: number): void {
  const ends = (at: number) => {
    if (at !== end) throw new WireError(`RDATA at ${start} does not match its RDLENGTH`);
  };
  const nameEnd = (at: number) => skipNameWithin(buf, at, end);
  if (code === 1)
    ends(start + 4); // A
  else if (code === 28)
    ends(start + 16); // AAAA
  else if (code === 2 || code === 5 || code === 12)
    ends(nameEnd(start)); // NS, CNAME, PTR
  else if (code === 33)
    ends(nameEnd(start + 6)); // SRV: priority, weight, port, target
  else if (code === 6)
    ends(nameEnd(nameEnd(start)) + 20); // SOA: two names, five 32-bit fields
  else if (code === 35) ends(nameEnd(skipStrings(buf, start + 4, 3, end))); // NAPTR: order, pref, 3 strings, name
}

function skipNameWithin(buf: Buffer, at: number, end: number): number {
  const next = skipName(buf.subarray(0, end), at);
  if (next > end) throw new WireError(`name at ${at} runs past its RDATA`);
  return next;
}

/** Skips `count` <character-string>s (RFC 1035 §3.3: one length octet, then that many octets). */
function skipStrings(buf: Buffer, at: number, count: number, end: number): number {
  let next = at;
  for (let i = 0; i < count; i++) {
    if (next >= end) throw new WireError(`character-string at ${next} runs past its RDATA`);
    next += 1 + (buf[next] ?? 0);
  }
  return next;
}

function readOpt(buf: Buffer, fixed: number, rdata: Buffer): OptRecord {
  const options: { code: number; data: Buffer }[] = [];
  let at = 0;
  while (at < rdata.length) {
    if (at + 4 > rdata.length) throw new WireError("truncated EDNS option header");
    const code = rdata.readUInt16BE(at);
    const len = rdata.readUInt16BE(at + 2);
    if (at + 4 + len > rdata.length) throw new WireError("EDNS option runs past the OPT RDATA");
    options.push({ code, data: rdata.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  const ttlField = buf.readUInt32BE(fixed + 4);
  return {
    udpPayloadSize: buf.readUInt16BE(fixed + 2),
    extendedRcode: ttlField >>> 24,
    version: (ttlField >>> 16) & 0xff,
    doBit: (ttlField & 0x8000) !== 0,
    options,
  };
}

/** RFC 5452 §4.1 / RFC 1035 §7.3: a response must echo our ID and our question exactly (name, type, class IN). */
export function matchesQuery(message: DnsMessage, id: number, name: string, type: QueryType): boolean {
  if (message.id !== id || !message.qr || message.opcode !== 0 || message.questions.length !== 1)
    return false;
  const q = message.questions[0];
  return (
    q !== undefined &&
    q.name === canonicalName(name) &&
    q.typeCode === typeCodeOf(type) &&
    q.classCode === CLASS_IN
  );
}
