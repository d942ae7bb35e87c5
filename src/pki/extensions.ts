/**
 * The extensions of a certificate, read verbatim from its DER (RFC 5280 §4.1, §4.2). Node's X509Certificate
 * exposes only OpenSSL's text rendering of a few of them, which is ambiguous (e.g. a "," inside a URI).
 */
import { DerError, readChildren, readElement } from "./der.js";

export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The contents of extnValue (the DER of the extension's own structure). */
  readonly value: Buffer;
}

export const OID_SUBJECT_ALT_NAME = "2.5.29.17";
export const OID_EXTENDED_KEY_USAGE = "2.5.29.37";

/** Every extension of the certificate, in order. Throws DerError when the encoding is broken. */
export function readExtensions(certDer: Buffer): RawExtension[] {
  const tbs = readChildren(readElement(certDer).value)[0];
  if (!tbs || tbs.tag !== 0x30) throw new DerError("certificate has no TBSCertificate");
  // extensions [3] EXPLICIT Extensions, the last optional field of TBSCertificate (v3 only)
  const wrapper = readChildren(tbs.value).find((f) => f.tag === 0xa3);
  if (!wrapper) return [];
  const list = readElement(wrapper.value);
  if (list.tag !== 0x30) throw new DerError("extensions are not a SEQUENCE");
  return readChildren(list.value).map(readExtension);
}

/**
 * The one extension with `oid`, or undefined. RFC 5280 §4.2: "A certificate MUST NOT include more than one
 * instance of a particular extension" — a duplicate throws DerError rather than letting us pick one.
 */
export function findExtension(extensions: readonly RawExtension[], oid: string): RawExtension | undefined {
  const found = extensions.filter((e) => e.oid === oid);
  if (found.length > 1) throw new DerError(`extension ${oid} appears ${found.length} times`);
  return found[0];
}

function readExtension(ext: { tag: number; value: Buffer }): RawExtension {
  if (ext.tag !== 0x30) throw new DerError("extension is not a SEQUENCE");
  const parts = readChildren(ext.value);
  const oid = parts[0];
  if (!oid || oid.tag !== 0x06) throw new DerError("extension has no OID");
  const critical = parts[1]?.tag === 0x01 ? parts[1].value[0] !== 0 : false;
  const octets = parts[parts.length - 1];
  if (!octets || octets.tag !== 0x04) throw new DerError("extension has no extnValue OCTET STRING");
  return { oid: decodeOid(oid.value), critical, value: octets.value };
}

/** X.690 §8.19: the dotted form of an OBJECT IDENTIFIER's contents. */
export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError("OBJECT IDENTIFIER arc too large");
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if ((bytes[bytes.length - 1] ?? 0) & 0x80) throw new DerError("truncated OBJECT IDENTIFIER");
  const first = arcs[0] ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}
