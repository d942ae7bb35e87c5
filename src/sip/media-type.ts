/**
 * Content-Type (RFC 3261 §20.15): media-type = m-type SLASH m-subtype *(SEMI m-parameter),
 * m-parameter = m-attribute EQUAL m-value, m-value = token / quoted-string. SLASH, SEMI and EQUAL allow
 * whitespace around them (§25.1). Type, subtype and attribute names are case-insensitive and lower-cased here.
 */
import { TOKEN } from "./chars.js";
import { valueError, type ValueResult } from "./errors.js";

export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  /** Parameters in order; names lower-cased, quoted values unquoted. */
  readonly params: ReadonlyArray<readonly [name: string, value: string]>;
}

class Cursor {
  i = 0;
  constructor(readonly text: string) {}
  skipWs(): void {
    while (
      this.i < this.text.length &&
      (this.text.charCodeAt(this.i) === 0x20 || this.text.charCodeAt(this.i) === 0x09)
    )
      this.i++;
  }
  token(): string {
    const start = this.i;
    while (this.i < this.text.length && TOKEN[this.text.charCodeAt(this.i)] === 1) this.i++;
    return this.text.slice(start, this.i);
  }
  /** Consumes `ch` surrounded by optional whitespace; false when it is not next. */
  separator(ch: number): boolean {
    const save = this.i;
    this.skipWs();
    if (this.text.charCodeAt(this.i) !== ch) {
      this.i = save;
      return false;
    }
    this.i++;
    this.skipWs();
    return true;
  }
  /** quoted-string with quoted-pairs (RFC 3261 §25.1); undefined when unterminated. */
  quoted(): string | undefined {
    let out = "";
    for (this.i++; this.i < this.text.length; this.i++) {
      const c = this.text.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return out;
      }
      if (c === 0x5c) this.i++;
      out += this.text.charAt(this.i);
    }
    return undefined;
  }
}

export function parseMediaType(text: string): ValueResult<MediaType> {
  const cur = new Cursor(text);
  const type = cur.token();
  if (type.length === 0) return valueError("expected a media type", 0);
  if (!cur.separator(0x2f)) return valueError("expected '/' after the media type", cur.i);
  const subtype = cur.token();
  if (subtype.length === 0) return valueError("expected a media subtype", cur.i);
  const params: Array<readonly [string, string]> = [];
  while (cur.separator(0x3b)) {
    const name = cur.token();
    if (name.length === 0) return valueError("expected a parameter name", cur.i);
    if (!cur.separator(0x3d)) return valueError("expected '=' after the parameter name", cur.i);
    const value = text.charCodeAt(cur.i) === 0x22 ? cur.quoted() : cur.token();
    if (value === undefined) return valueError("unterminated quoted string", cur.i);
    if (value.length === 0 && text.charCodeAt(cur.i - 1) !== 0x22)
      return valueError("expected a value", cur.i);
    params.push([name.toLowerCase(), value]);
  }
  cur.skipWs();
  if (cur.i !== text.length) return valueError("unexpected characters in media type", cur.i);
  return { ok: true, value: { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params } };
}
