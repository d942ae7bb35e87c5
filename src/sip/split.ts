/**
 * Splitting a list-valued header at its separating commas (RFC 3261 §7.3.1). A comma inside a quoted-string
 * (with backslash quoted-pairs, §25.1) or inside `<...>` (a URI in a name-addr) does not separate.
 */

/** Start and end (exclusive) of one list item inside the text it was split from, whitespace trimmed. */
export interface ItemBounds {
  readonly start: number;
  readonly end: number;
}

function isSpace(c: number): boolean {
  // CR and LF count as whitespace so raw folded text (CRLF + WSP) can be split without unfolding first.
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** text[start,end) without surrounding white space (SP, HTAB, CR, LF). */
export function trimmedBounds(text: string, start: number, end: number): ItemBounds {
  let s = start;
  let e = end;
  while (s < e && isSpace(text.charCodeAt(s))) s++;
  while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
  return { start: s, end: e };
}

/**
 * Bounds of the comma-separated items of `text` (empty items included, so callers can reject them).
 * `max` stops after that many items; the rest of `text` is not looked at.
 */
export function splitListBounds(text: string, max = Infinity): ItemBounds[] {
  const items: ItemBounds[] = [];
  let itemStart = 0;
  for (;;) {
    const comma = nextSeparator(text, itemStart);
    items.push(trimmedBounds(text, itemStart, comma));
    if (comma === text.length || items.length >= max) return items;
    itemStart = comma + 1;
  }
}

/** End of the first item of `text` (the offset of its separating comma, or text.length). */
export function firstItemEnd(text: string): number {
  return nextSeparator(text, 0);
}

/** Offset of the first separating comma at or after `from` (outside quotes and `<...>`), or text.length. */
function nextSeparator(text: string, from: number): number {
  // Most values hold no comma at all: one native search settles that without a per-character scan. (It
  // stops at the next comma, so over a whole list these searches stay linear.)
  if (text.indexOf(",", from) < 0) return text.length;
  let inQuote = false;
  let inAngle = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c)
        i++; // quoted-pair: skip the escaped character
      else if (c === 0x22) inQuote = false;
    } else if (inAngle) {
      if (c === 0x3e) inAngle = false;
    } else if (c === 0x22) {
      inQuote = true;
    } else if (c === 0x3c) {
      inAngle = true;
    } else if (c === 0x2c) {
      return i;
    }
  }
  return text.length;
}

/** The comma-separated items of `text`, trimmed (empty items kept). */
export function splitList(text: string): string[] {
  return splitListBounds(text).map((b) => text.slice(b.start, b.end));
}

/** The first item only: the hot path for the top Via, which needs no allocation for the rest of the list. */
export function firstListItem(text: string): string {
  const [first] = splitListBounds(text, 1);
  return first === undefined ? "" : text.slice(first.start, first.end);
}
