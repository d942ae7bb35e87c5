/**
 * A minimal, bounds-checked DER reader (X.690 §8.1, definite lengths only, as DER requires).
 * Used where a library would re-encode or hide the bytes we need verbatim: the SubjectPublicKeyInfo of a
 * certificate (TLSA selector 1 hashes the exact encoding), GeneralNames of subjectAltName (IA5String bytes),
 * and the certificate prefix of OpenSSL's "TRUSTED CERTIFICATE" blobs.
 */

/** One TLV: `tag` is the identifier octet, `value` the contents, `whole` the full encoding. */
export interface DerElement {
  readonly tag: number;
  readonly value: Buffer;
  readonly whole: Buffer;
}

export class DerError extends Error {
  override readonly name = "DerError";
  readonly code = "bad-der";
}

/** Reads the element that starts at `offset` of `data`; throws DerError when it does not fit. */
export function readElement(data: Buffer, offset = 0): DerElement {
  const tag = byteAt(data, offset);
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used in X.509 structures we read");
  const { length, headerLength } = readLength(data, offset + 1);
  const start = offset + 1 + headerLength;
  const end = start + length;
  if (end > data.length) throw new DerError(`element at offset ${offset} runs past the end of the data`);
  return { tag, value: data.subarray(start, end), whole: data.subarray(offset, end) };
}

/** The elements inside a constructed element's contents, in order. */
export function readChildren(content: Buffer): DerElement[] {
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < content.length) {
    const el = readElement(content, offset);
    out.push(el);
    offset += el.whole.length;
  }
  return out;
}

function byteAt(data: Buffer, offset: number): number {
  const b = data[offset];
  if (b === undefined) throw new DerError(`truncated DER at offset ${offset}`);
  return b;
}

// X.690 §8.1.3: short form (< 0x80) or long form with up to 4 length octets here (no indefinite length in DER).
function readLength(data: Buffer, offset: number): { length: number; headerLength: number } {
  const first = byteAt(data, offset);
  if (first < 0x80) return { length: first, headerLength: 1 };
  const count = first & 0x7f;
  if (count === 0) throw new DerError("indefinite length is not allowed in DER");
  if (count > 4) throw new DerError("length field too large");
  let length = 0;
  for (let i = 1; i <= count; i++) length = length * 256 + byteAt(data, offset + i);
  return { length, headerLength: 1 + count };
}

// RFC 5280 §4.1: TBSCertificate ::= SEQUENCE { version [0] EXPLICIT (optional), serialNumber, signature,
// issuer, validity, subject, subjectPublicKeyInfo, … }. Positions count from serialNumber.
const TBS_FIELDS = {
  serialNumber: { position: 0, tag: 0x02 },
  issuer: { position: 2, tag: 0x30 },
  validity: { position: 3, tag: 0x30 },
  subject: { position: 4, tag: 0x30 },
  subjectPublicKeyInfo: { position: 5, tag: 0x30 },
} as const;

/** One field of a DER certificate's TBSCertificate, verbatim; throws DerError when missing or mistagged. */
export function tbsCertificateField(certDer: Buffer, field: keyof typeof TBS_FIELDS): DerElement {
  const tbs = readChildren(readElement(certDer).value)[0];
  if (!tbs || tbs.tag !== 0x30) throw new DerError("certificate has no TBSCertificate");
  const fields = readChildren(tbs.value);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
  const { position, tag } = TBS_FIELDS[field];
  const element = fields[skip + position];
  if (!element || element.tag !== tag) throw new DerError(`certificate has no ${field}`);
  return element;
}

/** X.509 Certificate → TBSCertificate → subjectPublicKeyInfo, verbatim (RFC 5280 §4.1). */
export function subjectPublicKeyInfoDer(certDer: Buffer): Buffer {
  return tbsCertificateField(certDer, "subjectPublicKeyInfo").whole;
}
