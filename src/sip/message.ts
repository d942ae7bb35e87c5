/**
 * The parsed SIP message. It keeps the received bytes and the offsets found by the scanner; every typed
 * accessor parses its header on first use and caches the result, so a proxy pays only for the headers it
 * reads. Accessors throw SipParseError ("bad-header", "missing-header", "duplicate-header",
 * "bad-request-uri") with the byte offset of the offending value.
 */
import * as bufferModule from "node:buffer";
import { parseCallId } from "./call-id.js";
import { parseCSeq, type CSeq } from "./cseq.js";
import { SipParseError, type ValueResult } from "./errors.js";
import type { HeaderField } from "./header-field.js";
import { headerDisplayName, headerKey, headerKind } from "./headers.js";
import { parseMediaType, type MediaType } from "./media-type.js";
import { parseNameAddr, type NameAddr, type NameAddrOptions } from "./name-addr.js";
import { parseOptionTags } from "./option-tags.js";
import type { ScannedHead } from "./head.js";
import { parseDeltaSeconds, parseMaxForwards } from "./scalars.js";
import { parseSipDate } from "./sip-date.js";
import { firstItemEnd, splitListBounds, trimmedBounds, type ItemBounds } from "./split.js";
import type { StartLine } from "./start-line.js";
import { parseUri, type Uri } from "./uri.js";
import { unfold } from "./unfold.js";
import { parseVia, type Via } from "./via.js";

/** From / To: a name-addr or addr-spec with its tag parameter (RFC 3261 §19.3). */
export type AddressHeader = NameAddr;

/** Contact (RFC 3261 §20.10): `*` (REGISTER removal of all bindings) or a list of addresses. */
export type ContactHeader =
  | { readonly star: true; readonly values: readonly [] }
  | { readonly star: false; readonly values: readonly NameAddr[] };

const NON_ASCII = /[^\x00-\x7f]/;

// node:buffer isAscii (Node >= 20.6) checks a whole message natively; older Node falls back to a per-value test.
const wholeIsAscii: ((b: Buffer) => boolean) | undefined = (
  bufferModule as { isAscii?: (b: Buffer) => boolean }
).isAscii;

/** Where one list item of a header sits: in which field, and its text range within that field's raw value. */
interface ListItem {
  readonly field: HeaderField;
  readonly text: string;
  readonly offset: number;
}

export class SipMessage {
  /** The message's bytes exactly as received: header section and body (datagram trailing octets excluded). */
  readonly raw: Buffer;
  readonly startLine: StartLine;
  /** Header fields in received order. */
  readonly headers: readonly HeaderField[];
  /** Offset of the first body byte. */
  readonly headEnd: number;
  /** Content-Length as received; undefined when absent (allowed on datagrams only). */
  readonly contentLength: number | undefined;
  /** latin1 view of the header section (one conversion per message; internal). */
  private readonly text: string;

  /** Whether the whole message is ASCII: -1 not checked yet, 1 yes, 0 no or unknown. */
  private ascii = -1;
  private requestUriCache: Uri | undefined = undefined;
  private viaCache: readonly Via[] | undefined = undefined;
  private topViaCache: Via | undefined = undefined;
  private fromCache: AddressHeader | undefined = undefined;
  private toCache: AddressHeader | undefined = undefined;
  private callIdCache: string | undefined = undefined;
  private cseqCache: CSeq | undefined = undefined;
  private routeCache: readonly NameAddr[] | undefined = undefined;

  constructor(raw: Buffer, head: ScannedHead, contentLength: number | undefined) {
    this.raw = raw;
    this.text = head.text;
    this.startLine = head.startLine;
    this.headers = head.fields;
    this.headEnd = head.headEnd;
    this.contentLength = contentLength;
  }

  // ---- start line -----------------------------------------------------------------------------------------

  get isRequest(): boolean {
    return this.startLine.kind === "request";
  }

  /** Request method; undefined for responses. */
  get method(): string | undefined {
    return this.startLine.kind === "request" ? this.startLine.method : undefined;
  }

  /** Status code; undefined for requests. */
  get status(): number | undefined {
    return this.startLine.kind === "response" ? this.startLine.status : undefined;
  }

  get version(): string {
    return this.startLine.version;
  }

  /** Reason phrase of a response, read as UTF-8 (RFC 3261 §7.2); undefined for requests. */
  get reason(): string | undefined {
    const sl = this.startLine;
    return sl.kind === "response" ? this.raw.toString("utf8", sl.reasonStart, sl.reasonEnd) : undefined;
  }

  /** The Request-URI exactly as received; undefined for responses. */
  get requestUriText(): string | undefined {
    const sl = this.startLine;
    return sl.kind === "request" ? this.text.slice(sl.uriStart, sl.uriEnd) : undefined;
  }

  /** The parsed Request-URI. Throws "bad-request-uri"; undefined for responses. */
  get requestUri(): Uri | undefined {
    const sl = this.startLine;
    if (sl.kind !== "request") return undefined;
    if (this.requestUriCache === undefined) {
      const r = parseUri(this.text.slice(sl.uriStart, sl.uriEnd));
      if (!r.ok)
        throw new SipParseError("bad-request-uri", `Request-URI: ${r.detail}`, sl.uriStart + r.offset);
      this.requestUriCache = r.uri;
    }
    return this.requestUriCache;
  }

  /** The body bytes (framed by Content-Length, or the rest of the datagram). */
  get body(): Buffer {
    return this.raw.subarray(this.headEnd);
  }

  // ---- generic header access --------------------------------------------------------------------------------

  /** All fields with this name (any spelling or compact form), in order. */
  fields(name: string): HeaderField[] {
    const key = headerKey(name);
    const out: HeaderField[] = [];
    for (const f of this.headers) if (f.key === key) out.push(f);
    return out;
  }

  /** The value text of a field: unfolded (RFC 3261 §7.3.1), UTF-8 decoded when it has non-ASCII bytes. */
  valueOf(field: HeaderField): string {
    let s = this.text.slice(field.valueStart, field.valueEnd);
    // The header section was read as latin1 (one byte, one character); a value with bytes >= 0x80 is
    // TEXT-UTF8 (RFC 3261 §25.1) and is decoded again from the bytes.
    if (this.ascii < 0) this.ascii = wholeIsAscii !== undefined && wholeIsAscii(this.raw) ? 1 : 0;
    if (this.ascii === 0 && NON_ASCII.test(s))
      s = this.raw.toString("utf8", field.valueStart, field.valueEnd);
    if (field.folded) s = unfold(s);
    return s;
  }

  /** The value of the first field with this name; undefined when absent. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.headers) if (f.key === key) return this.valueOf(f);
    return undefined;
  }

  /** The values of every field with this name (one per header line, not split at commas). */
  getAll(name: string): string[] {
    return this.fields(name).map((f) => this.valueOf(f));
  }

  /**
   * The list items of a header whose grammar is a comma list (RFC 3261 §7.3.1: "Via: a, b" equals two Via
   * lines). For other headers this is getAll(): their values are never split.
   */
  values(name: string): string[] {
    const key = headerKey(name);
    if (headerKind(key) !== "list") return this.getAll(name);
    return this.listItems(key).map((i) => i.text);
  }

  /** Raw bytes of a field's whole line(s), CRLF included: what the serializer copies untouched. */
  rawField(field: HeaderField): Buffer {
    return this.raw.subarray(field.start, field.end);
  }

  // ---- typed accessors --------------------------------------------------------------------------------------

  /** Every Via value, top first (RFC 3261 §20.42). Throws "missing-header" when there is none. */
  get via(): readonly Via[] {
    if (this.viaCache === undefined) {
      const items = this.listItems("via");
      if (items.length === 0) throw this.missing("via");
      this.viaCache = items.map((item) => this.parseItem(item, "via", parseViaValue));
    }
    return this.viaCache;
  }

  /** The top Via only: parses just the first value of the first Via line (the proxy hot path). */
  get topVia(): Via {
    if (this.topViaCache === undefined) {
      if (this.viaCache !== undefined) {
        this.topViaCache = this.viaCache[0]!;
      } else {
        const field = this.single("via", true);
        const item = this.firstItem(field);
        this.topViaCache = this.parseItem(item, "via", parseViaValue);
      }
    }
    return this.topViaCache;
  }

  /** From (RFC 3261 §20.20). Throws "missing-header" / "duplicate-header" / "bad-header". */
  get from(): AddressHeader {
    if (this.fromCache === undefined) this.fromCache = this.addressHeader("from");
    return this.fromCache;
  }

  /** To (RFC 3261 §20.39). */
  get to(): AddressHeader {
    if (this.toCache === undefined) this.toCache = this.addressHeader("to");
    return this.toCache;
  }

  /** Call-ID (RFC 3261 §20.8). */
  get callId(): string {
    if (this.callIdCache === undefined) this.callIdCache = this.typed("call-id", parseCallId);
    return this.callIdCache;
  }

  /** CSeq (RFC 3261 §20.16): number 0..2^32-1 and method. The method check is validateRequest's job. */
  get cseq(): CSeq {
    if (this.cseqCache === undefined) this.cseqCache = this.typed("cseq", parseCSeq);
    return this.cseqCache;
  }

  /** Max-Forwards 0..255 (RFC 3261 §20.22); undefined when absent. */
  get maxForwards(): number | undefined {
    return this.optionalTyped("max-forwards", parseMaxForwards);
  }

  /** Expires in seconds, 0..2^32-1 (RFC 3261 §20.19); undefined when absent. */
  get expires(): number | undefined {
    return this.optionalTyped("expires", parseDeltaSeconds);
  }

  /** Content-Type (RFC 3261 §20.15); undefined when absent. */
  get contentType(): MediaType | undefined {
    return this.optionalTyped("content-type", parseMediaType);
  }

  /** Date (RFC 3261 §20.17), GMT only; undefined when absent. */
  get date(): Date | undefined {
    return this.optionalTyped("date", parseSipDate);
  }

  /** Contact (RFC 3261 §20.10): `*` or the list of addresses; undefined when absent. */
  get contact(): ContactHeader | undefined {
    const items = this.listItems("contact");
    if (items.length === 0) return undefined;
    // RFC 3261 §20.10: "*" stands alone; it cannot be mixed with addresses.
    if (items.some((i) => i.text === "*")) {
      if (items.length > 1)
        throw this.badItem(items[1]!, "contact", "'*' cannot be combined with other values");
      return { star: true, values: [] };
    }
    return { star: false, values: items.map((item) => this.parseItem(item, "contact", parseContactValue)) };
  }

  /** Route values, top first (RFC 3261 §20.34); empty when absent. */
  get route(): readonly NameAddr[] {
    if (this.routeCache === undefined) this.routeCache = this.parsedList("route", parseRouteValue);
    return this.routeCache;
  }

  /** Record-Route values, top first (RFC 3261 §20.30); empty when absent. */
  get recordRoute(): readonly NameAddr[] {
    return this.parsedList("record-route", parseRouteValue);
  }

  /** Require option tags (RFC 3261 §20.32); empty when absent. */
  get require(): readonly string[] {
    return this.optionTags("require", false);
  }

  /** Proxy-Require option tags (RFC 3261 §20.29); empty when absent. */
  get proxyRequire(): readonly string[] {
    return this.optionTags("proxy-require", false);
  }

  /** Supported option tags (RFC 3261 §20.37); empty when absent. */
  get supported(): readonly string[] {
    return this.optionTags("supported", true);
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  /** The one field with this key; a second one is "duplicate-header" unless `allowMore` (list headers). */
  private single(key: string, allowMore: boolean): HeaderField {
    let found: HeaderField | undefined;
    for (const f of this.headers) {
      if (f.key !== key) continue;
      if (found === undefined) {
        found = f;
        if (allowMore) break;
      } else {
        throw new SipParseError("duplicate-header", `more than one ${headerDisplayName(key)}`, f.start, key);
      }
    }
    if (found === undefined) throw this.missing(key);
    return found;
  }

  private optionalSingle(key: string): HeaderField | undefined {
    let found: HeaderField | undefined;
    for (const f of this.headers) {
      if (f.key !== key) continue;
      if (found !== undefined) {
        throw new SipParseError("duplicate-header", `more than one ${headerDisplayName(key)}`, f.start, key);
      }
      found = f;
    }
    return found;
  }

  private typed<T>(key: string, parse: (text: string) => ValueResult<T>): T {
    return this.parseField(this.single(key, false), key, parse);
  }

  private optionalTyped<T>(key: string, parse: (text: string) => ValueResult<T>): T | undefined {
    const f = this.optionalSingle(key);
    return f === undefined ? undefined : this.parseField(f, key, parse);
  }

  private parseField<T>(field: HeaderField, key: string, parse: (text: string) => ValueResult<T>): T {
    const r = parse(this.valueOf(field));
    if (!r.ok) throw this.bad(field, key, r.detail, this.offsetIn(field, r.offset));
    return r.value;
  }

  private addressHeader(key: string): AddressHeader {
    return this.typed(key, parseAddressValue);
  }

  private optionTags(key: string, allowEmpty: boolean): readonly string[] {
    const tags: string[] = [];
    for (const f of this.headers) {
      if (f.key !== key) continue;
      const r = parseOptionTags(this.valueOf(f), allowEmpty);
      if (!r.ok) throw this.bad(f, key, r.detail, this.offsetIn(f, r.offset));
      tags.push(...r.value);
    }
    return tags;
  }

  /** Every comma-separated item of every field with this key, in order. */
  private listItems(key: string): ListItem[] {
    const items: ListItem[] = [];
    for (const field of this.headers) {
      if (field.key !== key) continue;
      const value = this.valueOf(field);
      for (const b of splitListBounds(value)) items.push(this.item(field, value, b));
    }
    return items;
  }

  /** Every list item of every field with this key, parsed; a plain loop (no closure per call). */
  private parsedList<T>(key: string, parse: (text: string) => ValueResult<T>): T[] {
    const items = this.listItems(key);
    const out: T[] = [];
    for (let k = 0; k < items.length; k++) out.push(this.parseItem(items[k]!, key, parse));
    return out;
  }

  private firstItem(field: HeaderField): ListItem {
    const value = this.valueOf(field);
    const end = firstItemEnd(value);
    return this.item(field, value, trimmedBounds(value, 0, end));
  }

  private item(field: HeaderField, value: string, b: ItemBounds): ListItem {
    return { field, text: value.slice(b.start, b.end), offset: b.start };
  }

  private parseItem<T>(item: ListItem, key: string, parse: (text: string) => ValueResult<T>): T {
    if (item.text.length === 0) throw this.badItem(item, key, "empty list element");
    const r = parse(item.text);
    if (!r.ok) throw this.bad(item.field, key, r.detail, this.offsetIn(item.field, item.offset + r.offset));
    return r.value;
  }

  /** Maps an offset in a field's value text to a byte offset (exact unless unfolding/UTF-8 shifted it). */
  private offsetIn(field: HeaderField, valueOffset: number): number {
    return Math.min(field.valueStart + Math.max(0, valueOffset), field.valueEnd);
  }

  private bad(field: HeaderField, key: string, detail: string, offset: number): SipParseError {
    return new SipParseError("bad-header", `${headerDisplayName(key)}: ${detail}`, offset, key);
  }

  private badItem(item: ListItem, key: string, detail: string): SipParseError {
    return this.bad(item.field, key, detail, this.offsetIn(item.field, item.offset));
  }

  private missing(key: string): SipParseError {
    return new SipParseError("missing-header", `no ${headerDisplayName(key)} header`, this.headEnd, key);
  }
}

// Adapters from the URI-layer parsers' result shapes to ValueResult.

function parseViaValue(text: string): ValueResult<Via> {
  const r = parseVia(text);
  return r.ok ? r : { ok: false, detail: r.detail, offset: r.offset };
}

function nameAddrResult(text: string, options: NameAddrOptions): ValueResult<NameAddr> {
  const r = parseNameAddr(text, options);
  return r.ok ? r : { ok: false, detail: r.detail, offset: r.offset };
}

// Option objects shared by every call (these run for most messages).
const ADDRESS_OPTIONS: NameAddrOptions = Object.freeze({});
const CONTACT_OPTIONS: NameAddrOptions = Object.freeze({ contact: true });
const ROUTE_OPTIONS: NameAddrOptions = Object.freeze({ requireNameAddr: true });

function parseAddressValue(text: string): ValueResult<NameAddr> {
  return nameAddrResult(text, ADDRESS_OPTIONS);
}

// RFC 3261 §20.10: "if the URI contains a comma, question mark or semicolon, the URI MUST be enclosed in
// angle brackets". In addr-spec form a ';' already starts header parameters and a ',' the next value, so a
// URI with ?headers is the case left to reject (RFC 4475 §3.1.2.13).
function parseContactValue(text: string): ValueResult<NameAddr> {
  const r = nameAddrResult(text, CONTACT_OPTIONS);
  if (r.ok && r.value.form === "addr-spec" && r.value.uriText.includes("?")) {
    return { ok: false, detail: "a URI with headers must be enclosed in <>", offset: text.indexOf("?") };
  }
  return r;
}

// RFC 3261 §20.30/§20.34: route-param = name-addr *(SEMI rr-param): the URI is always in <>.
function parseRouteValue(text: string): ValueResult<NameAddr> {
  return nameAddrResult(text, ROUTE_OPTIONS);
}
