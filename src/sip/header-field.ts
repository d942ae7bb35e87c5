/** One header line (with its folded continuations) located in the message buffer by byte offsets. */
export interface HeaderField {
  /** Name exactly as received ("v", "MaX-fOrWaRdS"). */
  readonly name: string;
  /** Lower-case long name: compact forms expanded ("v" → "via"); unknown names lower-cased. */
  readonly key: string;
  /** Offset of the first byte of the line. */
  readonly start: number;
  /** Offset just after the CRLF that ends the field (after its last continuation line). */
  readonly end: number;
  /** Offset of the first value byte (leading whitespace and folds skipped). */
  readonly valueStart: number;
  /** Offset just after the last non-whitespace value byte. */
  readonly valueEnd: number;
  /** The value spans a fold (CRLF + WSP), so it must be unfolded before it is read (RFC 3261 §7.3.1). */
  readonly folded: boolean;
}
