/**
 * Size limits applied while parsing and framing. Each limit is checked before the bytes it guards are buffered,
 * so a peer cannot make the parser hold more than `maxHeaderBytes + maxBodyBytes` per message.
 */

export interface SipLimits {
  /** Start line plus header section plus the empty line, in bytes. */
  readonly maxHeaderBytes: number;
  /** One physical line (start line or header line, folded continuations counted separately), in bytes. */
  readonly maxLineLength: number;
  /** Number of header fields (folded continuations belong to their field). */
  readonly maxHeaders: number;
  /** Message body, in bytes. */
  readonly maxBodyBytes: number;
}

/**
 * Defaults. 16 KiB of headers is 4× the RFC 4475 long-request torture test (3.5 KB) and well above what real
 * traffic carries (a few hundred bytes to ~2 KB); UDP datagrams are bounded by 65,535 bytes anyway. 8 KiB per
 * line covers long Route sets folded on one line. 128 headers is far beyond normal use (10–30). 64 KiB of
 * body covers SDP, PIDF and multipart MESSAGE bodies; an operator raises it explicitly when needed.
 */
export const DEFAULT_LIMITS: SipLimits = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxLineLength: 8 * 1024,
  maxHeaders: 128,
  maxBodyBytes: 64 * 1024,
});

/** Merges caller overrides into the defaults; non-positive or non-integer values are rejected. */
export function resolveLimits(overrides?: Partial<SipLimits>): SipLimits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  const merged = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`SIP limit ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(merged);
}
