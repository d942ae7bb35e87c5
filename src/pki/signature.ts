/**
 * Synchronous verification of an X.509 SIGNED{...} structure (RFC 5280 §4.1.1.2–4.1.1.3) with node:crypto,
 * for structures node:crypto has no object for (CRLs). Certificates use X509Certificate.verify instead.
 * Algorithms: RFC 3279 / RFC 4055 (RSA PKCS#1 v1.5 and RSASSA-PSS), RFC 5758 (ECDSA), RFC 8410 (EdDSA).
 */
import { constants, verify, type KeyObject } from "node:crypto";
import * as pkijs from "pkijs";

const HASH_BY_OID: Readonly<Record<string, string | null>> = {
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.1": "sha1",
  "1.2.840.10045.4.3.1": "sha224",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "2.16.840.1.101.3.4.3.2": "sha256", // dsa-with-sha256
  "1.3.101.112": null, // Ed25519: the hash is part of the scheme
  "1.3.101.113": null, // Ed448
};

const RSASSA_PSS = "1.2.840.113549.1.1.10";

const DIGEST_BY_OID: Readonly<Record<string, string>> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

export type SignatureVerdict = { ok: true } | { ok: false; detail: string };

/** Verifies `signature` over `tbs` made with `algorithm` by the holder of `key`. Never throws. */
export function verifySignature(
  tbs: Uint8Array,
  algorithm: pkijs.AlgorithmIdentifier,
  signature: Uint8Array,
  key: KeyObject,
): SignatureVerdict {
  try {
    const good =
      algorithm.algorithmId === RSASSA_PSS
        ? verifyPss(tbs, algorithm, signature, key)
        : verifyPlain(tbs, algorithm.algorithmId, signature, key);
    return good ? { ok: true } : { ok: false, detail: "signature does not verify with the issuer's key" };
  } catch (err) {
    return { ok: false, detail: `signature cannot be checked: ${(err as Error).message}` };
  }
}

function verifyPlain(tbs: Uint8Array, oid: string, signature: Uint8Array, key: KeyObject): boolean {
  const hash = HASH_BY_OID[oid];
  if (hash === undefined) throw new Error(`unsupported signature algorithm ${oid}`);
  return verify(hash, tbs, key, signature);
}

// RFC 4055 §3.1: RSASSA-PSS-params carry the hash and salt length; the MGF1 hash must equal the message hash
// (node:crypto uses the same hash for both).
function verifyPss(
  tbs: Uint8Array,
  algorithm: pkijs.AlgorithmIdentifier,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams });
  const hash = DIGEST_BY_OID[params.hashAlgorithm.algorithmId];
  if (!hash) throw new Error(`unsupported RSASSA-PSS hash ${params.hashAlgorithm.algorithmId}`);
  return verify(
    hash,
    tbs,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
    signature,
  );
}
