/**
 * Unfolding (RFC 3261 §7.3.1): "a line break and the whitespace at the beginning of the next line [are] treated
 * as a single SP"; LWS = [*WSP CRLF] 1*WSP, so whitespace before the line break goes too. Written as a scan,
 * not a regular expression: `[ \t]*\r\n` backtracks quadratically on long runs of spaces.
 */
export function unfold(text: string): string {
  let out = "";
  let from = 0;
  for (let crlf = text.indexOf("\r\n"); crlf >= 0; crlf = text.indexOf("\r\n", from)) {
    let before = crlf;
    while (before > from && isWsp(text.charCodeAt(before - 1))) before--;
    let after = crlf + 2;
    while (after < text.length && isWsp(text.charCodeAt(after))) after++;
    out += text.slice(from, before) + " ";
    from = after;
  }
  return out + text.slice(from);
}

function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
