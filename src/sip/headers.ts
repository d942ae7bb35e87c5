/**
 * Header names: canonical spellings, compact forms and how each header's value may be split into a list.
 * RFC 3261 §7.3.1: names are case-insensitive; §7.3.3: compact forms; §7.3.1: a header whose grammar is a
 * comma-separated list may be split over several header lines (and joined again) without changing meaning.
 */

/**
 * How a header's value relates to commas:
 * - `list`: `x *(COMMA x)` in its grammar; values from several lines and comma-separated items are equivalent.
 * - `single`: exactly one value per message; a second line is an error (RFC 3261 §7.3.1).
 * - `opaque`: commas belong to the value's own grammar (credentials, challenges, dates); never split.
 */
export type HeaderKind = "list" | "single" | "opaque";

export interface HeaderSpec {
  /** Lower-case long name: the key used everywhere in this layer. */
  readonly key: string;
  /** Conventional spelling, used when this layer writes the header. */
  readonly display: string;
  readonly kind: HeaderKind;
}

const SPECS: ReadonlyArray<readonly [display: string, kind: HeaderKind, compact?: string]> = [
  // RFC 3261 §20
  ["Accept", "list"],
  ["Accept-Encoding", "list"],
  ["Accept-Language", "list"],
  ["Alert-Info", "list"],
  ["Allow", "list"],
  ["Authentication-Info", "opaque"],
  ["Authorization", "opaque"],
  ["Call-ID", "single", "i"],
  ["Call-Info", "list"],
  ["Contact", "list", "m"],
  ["Content-Disposition", "single"],
  ["Content-Encoding", "list", "e"],
  ["Content-Language", "list"],
  ["Content-Length", "single", "l"],
  ["Content-Type", "single", "c"],
  ["CSeq", "single"],
  ["Date", "opaque"],
  ["Error-Info", "list"],
  ["Expires", "single"],
  ["From", "single", "f"],
  ["In-Reply-To", "list"],
  ["Max-Forwards", "single"],
  ["MIME-Version", "single"],
  ["Min-Expires", "single"],
  ["Organization", "single"],
  ["Priority", "single"],
  ["Proxy-Authenticate", "opaque"],
  ["Proxy-Authorization", "opaque"],
  ["Proxy-Require", "list"],
  ["Record-Route", "list"],
  ["Reply-To", "single"],
  ["Require", "list"],
  ["Retry-After", "single"],
  ["Route", "list"],
  ["Server", "single"],
  ["Subject", "single", "s"],
  ["Supported", "list", "k"],
  ["Timestamp", "single"],
  ["To", "single", "t"],
  ["Unsupported", "list"],
  ["User-Agent", "single"],
  ["Via", "list", "v"],
  ["Warning", "list"],
  ["WWW-Authenticate", "opaque"],
  // Extensions with compact forms (IANA SIP parameters registry)
  ["Event", "single", "o"], // RFC 6665
  ["Allow-Events", "list", "u"], // RFC 6665
  ["Refer-To", "single", "r"], // RFC 3515
  ["Referred-By", "single", "b"], // RFC 3892
  ["Session-Expires", "single", "x"], // RFC 4028
  ["Identity", "opaque", "y"], // RFC 8224: base64 and params, no list semantics we rely on
  ["Accept-Contact", "list", "a"], // RFC 3841
  ["Reject-Contact", "list", "j"], // RFC 3841
  ["Request-Disposition", "list", "d"], // RFC 3841
  // Common extensions without compact forms
  ["Path", "list"], // RFC 3327
  ["Service-Route", "list"], // RFC 3608
  ["P-Asserted-Identity", "list"], // RFC 3325
  ["P-Preferred-Identity", "list"], // RFC 3325
  ["Privacy", "opaque"], // RFC 3323: ";"-separated
  ["Reason", "list"], // RFC 3326
  ["History-Info", "list"], // RFC 7044
  ["Security-Client", "list"], // RFC 3329
  ["Security-Server", "list"],
  ["Security-Verify", "list"],
  ["Subscription-State", "single"], // RFC 6665
  ["Min-SE", "single"], // RFC 4028
  ["RSeq", "single"], // RFC 3262
  ["RAck", "single"], // RFC 3262
];

const BY_NAME = new Map<string, HeaderSpec>();
for (const [display, kind, compact] of SPECS) {
  const spec: HeaderSpec = Object.freeze({ key: display.toLowerCase(), display, kind });
  BY_NAME.set(spec.key, spec);
  if (compact !== undefined) BY_NAME.set(compact, spec);
}

/** The spec of a known header, by any spelling or compact form; undefined for unknown headers. */
export function headerSpec(name: string): HeaderSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

// Cache of "name exactly as received" → key. Real traffic uses a few dozen spellings; the bound keeps a peer
// that sends endless distinct names from growing it.
const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 2048;

/** Lower-case long name for a header name as received: compact forms expanded, unknown names lower-cased. */
export function headerKey(name: string): string {
  const cached = KEY_CACHE.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const key = BY_NAME.get(lower)?.key ?? lower;
  // Long names are not kept, so the cache holds at most KEY_CACHE_MAX × 64 characters.
  if (KEY_CACHE.size < KEY_CACHE_MAX && name.length <= 64) KEY_CACHE.set(name, key);
  return key;
}

/** How the header with this key treats commas; unknown headers are `opaque` (never split blindly). */
export function headerKind(key: string): HeaderKind {
  return BY_NAME.get(key)?.kind ?? "opaque";
}

/** Conventional spelling for a key (unknown keys are returned unchanged). */
export function headerDisplayName(key: string): string {
  return BY_NAME.get(key)?.display ?? key;
}
