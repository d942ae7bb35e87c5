/**
 * The subject commonName values of a certificate, read from the DER Name (RFC 5280 §4.1.2.6) so that no
 * string rendering (escaping, multi-valued RDNs) can blur where one value ends.
 */
import { DerError, readChildren, readElement } from "./der.js";
import { decodeOid } from "./extensions.js";

const OID_COMMON_NAME = "2.5.4.3";

/** Every CN attribute of the subject, in encoding order; values that are not text are skipped. */
export function readSubjectCommonNames(certDer: Buffer): string[] {
  const tbs = readChildren(readElement(certDer).value)[0];
  if (!tbs || tbs.tag !== 0x30) throw new DerError("certificate has no TBSCertificate");
  const fields = readChildren(tbs.value);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[skip + 4]; // serial, signature, issuer, validity, subject
  if (!subject || subject.tag !== 0x30) throw new DerError("certificate has no subject Name");
  const out: string[] = [];
  for (const rdn of readChildren(subject.value)) {
    for (const atv of readChildren(rdn.value)) {
      const [type, value] = readChildren(atv.value);
      if (type?.tag !== 0x06 || value === undefined || decodeOid(type.value) !== OID_COMMON_NAME) continue;
      const text = directoryString(value.tag, value.value);
      if (text !== undefined) out.push(text);
    }
  }
  return out;
}

// RFC 5280 §4.1.2.4 DirectoryString choices plus IA5String.
function directoryString(tag: number, value: Buffer): string | undefined {
  switch (tag) {
    case 0x0c: // UTF8String
      return value.toString("utf8");
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString (treated as Latin-1, as OpenSSL does)
      return value.toString("latin1");
    case 0x1e: // BMPString, UCS-2 big-endian
      return value.length % 2 === 0 ? Buffer.from(value).swap16().toString("utf16le") : undefined;
    default:
      return undefined;
  }
}
