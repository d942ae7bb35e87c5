/**
 * The subject commonName values of a certificate, read from the DER Name (RFC 5280 §4.1.2.6) so that no
 * string rendering (escaping, multi-valued RDNs) can blur where one value ends. The Name itself is decoded by
 * distinguished-name.ts, the one DirectoryString reader of the pki layer.
 */
import { tbsCertificateField } from "./der.js";
import { canonicalName } from "./distinguished-name.js";

const OID_COMMON_NAME = "2.5.4.3";

/** Every CN attribute of the subject, in encoding order; values that are not text are skipped. Throws DerError. */
export function readSubjectCommonNames(certDer: Buffer): string[] {
  const subject = canonicalName(tbsCertificateField(certDer, "subject").whole);
  return subject.attributes.flatMap((a) =>
    a.type === OID_COMMON_NAME && a.text !== undefined ? [a.text] : [],
  );
}
