/**
 * Distinguished names, just enough to let an operator name a CA by its subject in configuration.
 *
 * Two text forms meet here: Node's `X509Certificate.subject` (one RDN per line, most significant first,
 * values escaped as in RFC 4514) and an RFC 4514 string written by the operator (`CN=Fed A Root, O=Fed A`,
 * least significant first). Both become a canonical key: a sorted list of TYPE=value pairs, values compared
 * case-insensitively with blanks collapsed, which is the "basic" comparison RFC 5280 §7.1 permits for
 * names in certificates (RFC 4518 caseIgnoreMatch, simplified to what operators type).
 * Order-insensitive on purpose: the two forms list RDNs in opposite orders.
 */

export type DnParse = { ok: true; key: string } | { ok: false; reason: string };

/** RFC 4514 §3: special characters that appear escaped with a backslash. */
const ESCAPABLE = new Set([...' "#+,;<=>\\']);

/** Key of a subject as Node prints it. */
export function subjectKey(nodeSubject: string): DnParse {
  const rdns = nodeSubject.split("\n").filter((line) => line.length > 0);
  return keyOf(rdns.flatMap((rdn) => splitUnescaped(rdn, "+")));
}

/** Key of an RFC 4514 string written in configuration. */
export function dnStringKey(text: string): DnParse {
  if (text.trim().length === 0) return { ok: false, reason: "empty distinguished name" };
  const rdns = splitUnescaped(text, ",");
  return keyOf(rdns.flatMap((rdn) => splitUnescaped(rdn, "+")));
}

function keyOf(attributes: readonly string[]): DnParse {
  const pairs: string[] = [];
  for (const attribute of attributes) {
    const pair = canonicalPair(attribute);
    if (pair === undefined) return { ok: false, reason: `"${attribute.trim()}" is not TYPE=value` };
    pairs.push(pair);
  }
  if (pairs.length === 0) return { ok: false, reason: "empty distinguished name" };
  return { ok: true, key: pairs.sort().join("\n") };
}

function canonicalPair(attribute: string): string | undefined {
  const eq = attribute.indexOf("=");
  if (eq <= 0) return undefined;
  const type = attribute.slice(0, eq).trim().toUpperCase();
  if (!/^[A-Z][A-Z0-9-]*$|^[0-9]+(\.[0-9]+)+$/.test(type)) return undefined;
  const value = unescapeValue(attribute.slice(eq + 1).trim());
  if (value === undefined) return undefined;
  return `${type}=${value.replace(/\s+/g, " ").trim().toLowerCase()}`;
}

/** Splits at separators not preceded by an escaping backslash (RFC 4514 §2.4). */
function splitUnescaped(text: string, separator: "," | "+"): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + (text[i + 1] ?? "");
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** RFC 4514 §2.4: `\` followed by a special character or by two hex digits (one UTF-8 octet). */
function unescapeValue(value: string): string | undefined {
  const chars = [...value];
  const bytes: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] ?? "";
    if (ch !== "\\") {
      bytes.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const next = chars[i + 1] ?? "";
    const hex = next + (chars[i + 2] ?? "");
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ESCAPABLE.has(next)) {
      bytes.push(next.charCodeAt(0));
      i += 1;
    } else return undefined;
  }
  return Buffer.from(bytes).toString("utf8");
}
