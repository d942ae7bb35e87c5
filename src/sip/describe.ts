/**
 * A JSON-ready description of a parsed message: start line, headers in received order with their typed
 * values where this layer knows the grammar, and the body length. Used by `siptrust sip parse` and for logs.
 */
import { parseCallId } from "./call-id.js";
import { parseCSeq } from "./cseq.js";
import type { ValueResult } from "./errors.js";
import type { HeaderField } from "./header-field.js";
import { parseMediaType } from "./media-type.js";
import type { SipMessage } from "./message.js";
import { parseNameAddr } from "./name-addr.js";
import { parseOptionTags } from "./option-tags.js";
import { parseDeltaSeconds, parseMaxForwards } from "./scalars.js";
import { parseSipDate } from "./sip-date.js";
import { splitList } from "./split.js";
import { parseUri } from "./uri.js";
import { parseVia } from "./via.js";

export interface HeaderDescription {
  readonly name: string;
  readonly key: string;
  readonly value: string;
  /** Typed value (list headers: one entry per item); absent for headers without a known grammar. */
  readonly parsed?: unknown;
  /** Why the typed value could not be read. */
  readonly error?: string;
}

export interface MessageDescription {
  readonly kind: "request" | "response";
  readonly version: string;
  readonly method?: string;
  readonly requestUri?: string;
  readonly requestUriParsed?: unknown;
  readonly status?: number;
  readonly reason?: string;
  readonly headers: readonly HeaderDescription[];
  readonly contentLength?: number;
  readonly bodyLength: number;
}

type Reader = (text: string) => { ok: true; value: unknown } | { ok: false; detail: string };

const one = (parse: (t: string) => ValueResult<unknown>): Reader => parse;
const each =
  (parse: Reader): Reader =>
  (text) => {
    const out: unknown[] = [];
    for (const item of splitList(text)) {
      const r = parse(item);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  };
const nameAddr: Reader = (t) => parseNameAddr(t);
const via: Reader = (t) => parseVia(t);
const contact: Reader = (t) =>
  t === "*" ? { ok: true, value: "*" } : each((i) => parseNameAddr(i, { contact: true }))(t);

const READERS: Record<string, Reader> = {
  via: each(via),
  from: nameAddr,
  to: nameAddr,
  contact,
  route: each((t) => parseNameAddr(t, { requireNameAddr: true })),
  "record-route": each((t) => parseNameAddr(t, { requireNameAddr: true })),
  "call-id": one(parseCallId),
  cseq: one(parseCSeq),
  "max-forwards": one(parseMaxForwards),
  expires: one(parseDeltaSeconds),
  "content-type": one(parseMediaType),
  require: (t) => parseOptionTags(t, false),
  "proxy-require": (t) => parseOptionTags(t, false),
  supported: (t) => parseOptionTags(t, true),
  unsupported: (t) => parseOptionTags(t, false),
  date: one(parseSipDate),
};

function describeField(msg: SipMessage, f: HeaderField): HeaderDescription {
  const value = msg.valueOf(f);
  const reader = READERS[f.key];
  if (f.key === "content-length") return { name: f.name, key: f.key, value, parsed: msg.contentLength };
  if (reader === undefined) return { name: f.name, key: f.key, value };
  const r = reader(value);
  return r.ok
    ? { name: f.name, key: f.key, value, parsed: r.value }
    : { name: f.name, key: f.key, value, error: r.detail };
}

export function describeMessage(msg: SipMessage): MessageDescription {
  const headers = msg.headers.map((f) => describeField(msg, f));
  const common = {
    version: msg.version,
    headers,
    contentLength: msg.contentLength,
    bodyLength: msg.body.length,
  };
  const sl = msg.startLine;
  if (sl.kind === "response") return { kind: "response", status: sl.status, reason: msg.reason!, ...common };
  const uriText = msg.requestUriText!;
  const uri = parseUri(uriText);
  return {
    kind: "request",
    method: sl.method,
    requestUri: uriText,
    requestUriParsed: uri.ok ? uri.uri : { error: uri.detail },
    ...common,
  };
}
