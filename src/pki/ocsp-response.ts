/**
 * Decoding of an OCSPResponse and its BasicOCSPResponse (RFC 6960 §4.2.1, ASN.1 module in Appendix B.1,
 * EXPLICIT TAGS) into plain data. Read with the project's bounds-checked DER reader so that the signed
 * ResponseData bytes are kept verbatim for the signature check. Decoding judges nothing: ocsp.ts validates.
 */
import { X509Certificate } from "node:crypto";
import { DerError, readChildren, readElement, type DerElement } from "./der.js";
import { decodeOid } from "./extensions.js";
import { CRL_REASONS } from "./crl.js";
import { HASH_OIDS, OID_OCSP_NONCE, type CertId, type CertIdHash } from "./ocsp-request.js";

/** RFC 6960 §4.2.1 / Appendix B: id-pkix-ocsp-basic. */
export const OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";

/** Larger inputs are refused before decoding (a real response with its signer certificate is a few KiB). */
export const MAX_OCSP_RESPONSE_BYTES = 1024 * 1024;
/** More embedded certificates or single responses than this are refused (bounded work per response). */
export const MAX_OCSP_CERTS = 8;
export const MAX_OCSP_SINGLE_RESPONSES = 256;

/** RFC 6960 §4.2.1 OCSPResponseStatus (4 is not used). */
export const OCSP_RESPONSE_STATUS: Readonly<Record<number, string>> = {
  0: "successful",
  1: "malformedRequest",
  2: "internalError",
  3: "tryLater",
  5: "sigRequired",
  6: "unauthorized",
};

export type CertStatus = "good" | "revoked" | "unknown";

export interface OcspExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

export interface SingleOcspResponse {
  /** undefined when the CertID uses a hash this implementation does not compute. */
  readonly certId?: CertId;
  readonly hashOid: string;
  readonly status: CertStatus;
  readonly revocationTime?: Date;
  /** RFC 5280 §5.3.1 CRLReason name, when the responder gave one. */
  readonly revocationReason?: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly extensions: readonly OcspExtension[];
}

export type ResponderId = { readonly byName: Buffer } | { readonly byKey: Buffer };

export interface BasicOcspResponse {
  /** The DER of ResponseData, over which the signature is computed (RFC 6960 §4.2.1). */
  readonly tbsResponseData: Buffer;
  readonly responderId: ResponderId;
  readonly producedAt: Date;
  readonly responses: readonly SingleOcspResponse[];
  readonly extensions: readonly OcspExtension[];
  /** extnValue of the id-pkix-ocsp-nonce response extension, when present. */
  readonly nonce?: Buffer;
  /** DER of the signatureAlgorithm AlgorithmIdentifier. */
  readonly signatureAlgorithm: Buffer;
  readonly signature: Buffer;
  readonly certs: readonly X509Certificate[];
}

export type OcspResponse =
  | { readonly status: "successful"; readonly basic: BasicOcspResponse; readonly der: Buffer }
  | { readonly status: string; readonly basic?: undefined; readonly der: Buffer };

export class OcspParseError extends Error {
  override readonly name = "OcspParseError";
  readonly code = "ocsp-malformed";
}

/** Decodes an OCSPResponse. Throws OcspParseError on any structural problem. */
export function parseOcspResponse(der: Buffer): OcspResponse {
  if (der.length > MAX_OCSP_RESPONSE_BYTES) {
    throw new OcspParseError(`response of ${der.length} bytes exceeds ${MAX_OCSP_RESPONSE_BYTES}`);
  }
  try {
    return decodeResponse(der);
  } catch (err) {
    if (err instanceof OcspParseError) throw err;
    if (err instanceof DerError) throw new OcspParseError(err.message);
    throw new OcspParseError(`undecodable OCSP response: ${(err as Error).message}`);
  }
}

function decodeResponse(der: Buffer): OcspResponse {
  const outer = expect(readElement(der), 0x30, "OCSPResponse");
  if (outer.whole.length !== der.length) throw new OcspParseError("trailing data after OCSPResponse");
  const [statusEl, bytesEl] = readChildren(outer.value);
  const code = enumerated(expect(statusEl, 0x0a, "responseStatus"));
  const status = OCSP_RESPONSE_STATUS[code];
  if (status === undefined) throw new OcspParseError(`unknown responseStatus ${code}`);
  if (status !== "successful") return { status, der };
  // responseBytes [0] EXPLICIT ResponseBytes: MUST be present for a successful response (§4.2.1).
  const wrapper = expect(bytesEl, 0xa0, "responseBytes");
  const [typeEl, octets] = readChildren(expect(readElement(wrapper.value), 0x30, "ResponseBytes").value);
  const type = decodeOid(expect(typeEl, 0x06, "responseType").value);
  if (type !== OID_OCSP_BASIC) throw new OcspParseError(`unsupported responseType ${type}`);
  return { status, basic: decodeBasic(expect(octets, 0x04, "response").value), der };
}

function decodeBasic(der: Buffer): BasicOcspResponse {
  const outer = expect(readElement(der), 0x30, "BasicOCSPResponse");
  if (outer.whole.length !== der.length) throw new OcspParseError("trailing data after BasicOCSPResponse");
  const [tbs, sigAlg, sig, certsEl] = readChildren(outer.value);
  const data = decodeResponseData(expect(tbs, 0x30, "tbsResponseData"));
  const signatureBits = expect(sig, 0x03, "signature").value;
  if (signatureBits[0] !== 0) throw new OcspParseError("signature BIT STRING has unused bits");
  return {
    ...data,
    tbsResponseData: Buffer.from((tbs as DerElement).whole),
    signatureAlgorithm: Buffer.from(expect(sigAlg, 0x30, "signatureAlgorithm").whole),
    signature: Buffer.from(signatureBits.subarray(1)),
    certs: certsEl ? decodeCerts(expect(certsEl, 0xa0, "certs")) : [],
  };
}

type ResponseData = Omit<BasicOcspResponse, "tbsResponseData" | "signatureAlgorithm" | "signature" | "certs">;

function decodeResponseData(tbs: DerElement): ResponseData {
  const fields = readChildren(tbs.value);
  let i = 0;
  if (fields[0]?.tag === 0xa0) {
    // version [0] EXPLICIT Version DEFAULT v1: only v1 (0) exists.
    if (enumerated(readElement(fields[0].value)) !== 0) throw new OcspParseError("unsupported version");
    i = 1;
  }
  const responderId = decodeResponderId(fields[i]);
  const producedAt = generalizedTime(fields[i + 1], "producedAt");
  const list = expect(fields[i + 2], 0x30, "responses");
  const items = readChildren(list.value);
  if (items.length === 0) throw new OcspParseError("responses is empty");
  if (items.length > MAX_OCSP_SINGLE_RESPONSES) throw new OcspParseError("too many single responses");
  const extEl = fields[i + 3];
  const extensions = extEl ? decodeExtensions(expect(extEl, 0xa1, "responseExtensions")) : [];
  const nonce = extensions.find((e) => e.oid === OID_OCSP_NONCE)?.value;
  const base = { responderId, producedAt, responses: items.map(decodeSingle), extensions };
  return nonce ? { ...base, nonce } : base;
}

// ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } — EXPLICIT, so the tags are constructed.
function decodeResponderId(el: DerElement | undefined): ResponderId {
  if (el?.tag === 0xa1) return { byName: Buffer.from(expect(readElement(el.value), 0x30, "byName").whole) };
  if (el?.tag === 0xa2) return { byKey: Buffer.from(expect(readElement(el.value), 0x04, "byKey").value) };
  throw new OcspParseError("responderID is neither byName nor byKey");
}

function decodeSingle(el: DerElement): SingleOcspResponse {
  const [idEl, statusEl, thisEl, ...rest] = readChildren(expect(el, 0x30, "SingleResponse").value);
  const { certId, hashOid } = decodeCertId(expect(idEl, 0x30, "certID"));
  const status = decodeCertStatus(statusEl);
  const thisUpdate = generalizedTime(thisEl, "thisUpdate");
  let nextUpdate: Date | undefined;
  let extensions: OcspExtension[] = [];
  for (const field of rest) {
    if (field.tag === 0xa0) nextUpdate = generalizedTime(readElement(field.value), "nextUpdate");
    else if (field.tag === 0xa1) extensions = decodeExtensions(field);
    else throw new OcspParseError(`unexpected field 0x${field.tag.toString(16)} in SingleResponse`);
  }
  return {
    ...(certId ? { certId } : {}),
    hashOid,
    ...status,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    extensions,
  };
}

function decodeCertId(el: DerElement): { certId?: CertId; hashOid: string } {
  const [alg, nameHash, keyHash, serial] = readChildren(el.value);
  const hashOid = decodeOid(
    expect(readChildren(expect(alg, 0x30, "hashAlgorithm").value)[0], 0x06, "hash").value,
  );
  const hash = (Object.keys(HASH_OIDS) as CertIdHash[]).find((h) => HASH_OIDS[h] === hashOid);
  const ids = {
    issuerNameHash: Buffer.from(expect(nameHash, 0x04, "issuerNameHash").value),
    issuerKeyHash: Buffer.from(expect(keyHash, 0x04, "issuerKeyHash").value),
    serialNumber: Buffer.from(expect(serial, 0x02, "serialNumber").value),
  };
  return hash ? { certId: { hash, ...ids }, hashOid } : { hashOid };
}

// CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
function decodeCertStatus(
  el: DerElement | undefined,
): Pick<SingleOcspResponse, "status" | "revocationTime" | "revocationReason"> {
  if (el?.tag === 0x80) return { status: "good" };
  if (el?.tag === 0x82) return { status: "unknown" };
  if (el?.tag !== 0xa1) throw new OcspParseError("certStatus is not good, revoked or unknown");
  const [timeEl, reasonEl] = readChildren(el.value);
  const revocationTime = generalizedTime(timeEl, "revocationTime");
  if (!reasonEl) return { status: "revoked", revocationTime };
  // revocationReason [0] EXPLICIT CRLReason (ENUMERATED)
  const reason = enumerated(
    expect(readElement(expect(reasonEl, 0xa0, "revocationReason").value), 0x0a, "CRLReason"),
  );
  return { status: "revoked", revocationTime, revocationReason: CRL_REASONS[reason] ?? `reason-${reason}` };
}

function decodeExtensions(wrapper: DerElement): OcspExtension[] {
  const list = expect(readElement(wrapper.value), 0x30, "Extensions");
  return readChildren(list.value).map((ext) => {
    const parts = readChildren(expect(ext, 0x30, "Extension").value);
    const oidText = decodeOid(expect(parts[0], 0x06, "extnID").value);
    const critical = parts[1]?.tag === 0x01 ? parts[1].value[0] !== 0 : false;
    const value = expect(parts[parts.length - 1], 0x04, "extnValue").value;
    return { oid: oidText, critical, value: Buffer.from(value) };
  });
}

function decodeCerts(wrapper: DerElement): X509Certificate[] {
  const items = readChildren(expect(readElement(wrapper.value), 0x30, "certs").value);
  if (items.length > MAX_OCSP_CERTS) throw new OcspParseError(`more than ${MAX_OCSP_CERTS} certificates`);
  return items.map((el) => {
    try {
      return new X509Certificate(el.whole);
    } catch (err) {
      throw new OcspParseError(`embedded certificate undecodable: ${(err as Error).message}`);
    }
  });
}

function expect(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el) throw new OcspParseError(`${what} missing`);
  if (el.tag !== tag)
    throw new OcspParseError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${el.tag.toString(16)}`);
  return el;
}

function enumerated(el: DerElement): number {
  if ((el.tag !== 0x0a && el.tag !== 0x02) || el.value.length < 1 || el.value.length > 2) {
    throw new OcspParseError("expected a small ENUMERATED/INTEGER");
  }
  return el.value.readUIntBE(0, el.value.length);
}

// X.680 GeneralizedTime as RFC 5280 §4.1.2.5.2 profiles it (UTC, "Z"); fractional seconds tolerated.
function generalizedTime(el: DerElement | undefined, what: string): Date {
  const text = expect(el, 0x18, what).value.toString("latin1");
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!m) throw new OcspParseError(`${what}: bad GeneralizedTime "${text}"`);
  const [, y, mo, d, h, mi, s, frac] = m.map((v) => v ?? "0");
  const ms = Math.floor(Number(`0.${frac}`) * 1000);
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
  if (Number.isNaN(date.getTime())) throw new OcspParseError(`${what}: invalid date "${text}"`);
  return date;
}
