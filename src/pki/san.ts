/**
 * subjectAltName (RFC 5280 §4.2.1.6) decoded from the extension's DER, entry by entry. Entries that are not
 * what their type promises (non-IA5 text, an embedded NUL, a bad IP length) are dropped with a warning
 * rather than guessed at: they must never become identities.
 */
import { DerError, readChildren, readElement } from "./der.js";
import { OID_SUBJECT_ALT_NAME, findExtension, readExtensions, type RawExtension } from "./extensions.js";

export interface SubjectAltNames {
  /** True when the certificate has a subjectAltName extension at all (even one we could not use). */
  readonly present: boolean;
  readonly uri: string[];
  readonly dns: string[];
  readonly email: string[];
  readonly ip: string[];
  readonly warnings: string[];
}

// GeneralName context tags: [1] rfc822Name, [2] dNSName, [6] uniformResourceIdentifier (IA5String,
// IMPLICIT, primitive) and [7] iPAddress (OCTET STRING, IMPLICIT, primitive).
const TAG_EMAIL = 0x81;
const TAG_DNS = 0x82;
const TAG_URI = 0x86;
const TAG_IP = 0x87;

/**
 * Reads the subjectAltName of a DER certificate. Broken encodings yield `present: true`, no names, a warning.
 * `extensions`: the certificate's extensions already decoded (parsed-cert.ts), to skip decoding them again.
 */
export function readSubjectAltNames(certDer: Buffer, extensions?: readonly RawExtension[]): SubjectAltNames {
  const out: Mutable = { present: false, uri: [], dns: [], email: [], ip: [], warnings: [] };
  let value: Buffer | undefined;
  try {
    value = findExtension(extensions ?? readExtensions(certDer), OID_SUBJECT_ALT_NAME)?.value;
  } catch (err) {
    out.present = true; // be strict: an unreadable extension list may hide a SAN, so the CN must not be used
    out.warnings.push(`extensions unreadable: ${(err as Error).message}`);
    return out;
  }
  if (value === undefined) return out;
  out.present = true;
  try {
    const names = readElement(value);
    if (names.tag !== 0x30) throw new DerError("subjectAltName is not a SEQUENCE");
    readChildren(names.value).forEach((name, i) => addName(out, name.tag, name.value, i + 1));
  } catch (err) {
    out.uri.length = out.dns.length = out.email.length = out.ip.length = 0;
    out.warnings.push(`subjectAltName unreadable, no entry used: ${(err as Error).message}`);
  }
  return out;
}

type Mutable = { -readonly [K in keyof SubjectAltNames]: SubjectAltNames[K] };

function addName(out: Mutable, tag: number, value: Buffer, position: number): void {
  const target =
    tag === TAG_URI ? out.uri : tag === TAG_DNS ? out.dns : tag === TAG_EMAIL ? out.email : undefined;
  if (target) {
    const text = ia5(value);
    if (text === undefined)
      out.warnings.push(`subjectAltName entry ${position} is not printable IA5 text, ignored`);
    else target.push(text);
    return;
  }
  if (tag === TAG_IP) {
    const ip = ipText(value);
    if (ip === undefined)
      out.warnings.push(`subjectAltName entry ${position} has an IP address of bad length`);
    else out.ip.push(ip);
  }
  // otherName, x400Address, directoryName, ediPartyName, registeredID: never SIP identities (RFC 5922 §7.1)
}

// IA5String is 7-bit; control characters (an embedded NUL above all) are refused outright.
function ia5(value: Buffer): string | undefined {
  for (const b of value) if (b < 0x20 || b > 0x7e) return undefined;
  return value.toString("latin1");
}

function ipText(value: Buffer): string | undefined {
  if (value.length === 4) return [...value].join(".");
  if (value.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(value.readUInt16BE(i).toString(16));
  return compressIpv6(groups);
}

// RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes "::".
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (bestStart < 0) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLength).join(":")}`;
}
