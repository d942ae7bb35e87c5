/**
 * Synchronous verification of an X.509 SIGNED{...} structure (RFC 5280 §4.1.1.2–4.1.1.3) with node:crypto,
 * for structures node:crypto has no object for (CRLs). Certificates use X509Certificate.verify instead.
 * Algorithms: RFC 3279 / RFC 4055 (RSA PKCS#1 v1.5 and RSASSA-PSS), RFC 5758 (ECDSA), RFC 8410 (EdDSA).
 */
import { constants, verify, type KeyObject } from "node:crypto";
import * as pkijs from "pkijs";

/** Hash and key type per signature algorithm OID (null hash: the scheme hashes itself). */
const ALGORITHMS: Readonly<Record<string, { hash: string | null; keyType: string }>> = {
  "1.2.840.113549.1.1.5": { hash: "sha1", keyType: "rsa" },
  "1.2.840.113549.1.1.14": { hash: "sha224", keyType: "rsa" },
  "1.2.840.113549.1.1.11": { hash: "sha256", keyType: "rsa" },
  "1.2.840.113549.1.1.12": { hash: "sha384", keyType: "rsa" },
  "1.2.840.113549.1.1.13": { hash: "sha512", keyType: "rsa" },
  "1.2.840.10045.4.1": { hash: "sha1", keyType: "ec" },
  "1.2.840.10045.4.3.1": { hash: "sha224", keyType: "ec" },
  "1.2.840.10045.4.3.2": { hash: "sha256", keyType: "ec" },
  "1.2.840.10045.4.3.3": { hash: "sha384", keyType: "ec" },
  "1.2.840.10045.4.3.4": { hash: "sha512", keyType: "ec" },
  "2.16.840.1.101.3.4.3.2": { hash: "sha256", keyType: "dsa" }, // dsa-with-sha256
  "1.3.101.112": { hash: null, keyType: "ed25519" },
  "1.3.101.113": { hash: null, keyType: "ed448" },
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
  const algorithm = ALGORITHMS[oid];
  if (!algorithm) throw new Error(`unsupported signature algorithm ${oid}`);
  requireKeyType(key, [algorithm.keyType], oid);
  return verify(algorithm.hash, tbs, key, signature);
}

// RFC 5280 §4.1.1.2 / §5.1.1.2: the algorithm names the key type too. node:crypto would otherwise pick the
// scheme from the key (e.g. accept an ECDSA signature labelled Ed25519), hiding a mislabelled structure.
function requireKeyType(key: KeyObject, allowed: readonly string[], oid: string): void {
  const type = key.asymmetricKeyType ?? "unknown";
  if (!allowed.includes(type)) throw new Error(`signature algorithm ${oid} does not fit a ${type} key`);
}

// RFC 4055 §3.1: RSASSA-PSS-params carry the hash and salt length; the MGF1 hash must equal the message hash
// (node:crypto uses the same hash for both).
function verifyPss(
  tbs: Uint8Array,
  algorithm: pkijs.AlgorithmIdentifier,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  requireKeyType(key, ["rsa", "rsa-pss"], RSASSA_PSS);
  const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams });
  const hash = DIGEST_BY_OID[params.hashAlgorithm.algorithmId];
  if (!hash) throw new Error(`unsupported RSASSA-PSS hash ${params.hashAlgorithm.algorithmId}`);
  const mgfHash = new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams });
  if (mgfHash.algorithmId !== params.hashAlgorithm.algorithmId) {
    throw new Error("RSASSA-PSS with an MGF1 hash other than the message hash is not supported");
  }
  return verify(
    hash,
    tbs,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
    signature,
  );
}
