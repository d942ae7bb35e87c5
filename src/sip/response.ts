/**
 * Building the response a server sends to a request it answers itself (a 4xx from validateRequest, a 100
 * Trying). RFC 3261 §8.2.6.2: the response copies From, Call-ID, CSeq and every Via value in order, and To,
 * adding a To tag when the request had none (except for 100, §8.2.6.1). Values are copied as received.
 */
import type { HeaderField } from "./header-field.js";
import type { SipMessage } from "./message.js";
import { formatMessage } from "./serializer.js";

export interface ResponseOptions {
  /** To tag to add when the request's To has none (RFC 3261 §8.2.6.2); not added to a 100. */
  readonly toTag?: string;
  /** Further header fields, e.g. ["Unsupported", "foo"] for a 420 (RFC 3261 §8.2.2.3). */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: Buffer | string;
}

const COPIED = new Set(["via", "from", "call-id", "cseq"]);

export function createResponse(
  request: SipMessage,
  status: number,
  reason: string,
  options: ResponseOptions = {},
): Buffer {
  if (!request.isRequest) throw new TypeError("createResponse needs a request");
  if (!Number.isInteger(status) || status < 100 || status > 699)
    throw new RangeError(`bad status code ${status}`);
  const headers: Array<readonly [string, string]> = [];
  for (const f of request.headers) {
    if (COPIED.has(f.key)) headers.push([canonical(f), request.valueOf(f)]);
    else if (f.key === "to") headers.push(["To", toValue(request, f, status, options.toTag)]);
  }
  // RFC 3261 §8.2.6.1: a 100 Trying copies the request's Timestamp.
  const timestamp = request.get("timestamp");
  if (status === 100 && timestamp !== undefined) headers.push(["Timestamp", timestamp]);
  headers.push(...(options.headers ?? []));
  return formatMessage({ startLine: `SIP/2.0 ${status} ${reason}`, headers, body: options.body });
}

function canonical(f: HeaderField): string {
  return { via: "Via", from: "From", "call-id": "Call-ID", cseq: "CSeq" }[f.key] ?? f.name;
}

function toValue(request: SipMessage, f: HeaderField, status: number, toTag: string | undefined): string {
  const value = request.valueOf(f);
  if (status === 100 || toTag === undefined) return value;
  let hasTag: boolean;
  try {
    hasTag = request.to.tag !== undefined;
  } catch {
    hasTag = /;\s*tag\s*=/i.test(value);
  }
  return hasTag ? value : `${value};tag=${toTag}`;
}
