/**
 * Loading certificates and private keys from PEM or DER bytes. Pure: the caller reads the file and passes
 * its bytes plus a `source` name (usually the path), which every error names.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { DerError, readChildren, readElement, subjectPublicKeyInfoDer } from "./der.js";
import { decodeOid } from "./extensions.js";
import { PemError, looksLikePem, parsePemBlocks, type PemBlock } from "./pem.js";

export type CertificateLoadErrorCode =
  | "empty"
  | "too-large"
  | "not-pem-or-der"
  | "bad-pem"
  | "no-certificate"
  | "too-many-certificates"
  | "bad-certificate"
  | "no-private-key"
  | "multiple-private-keys"
  | "bad-private-key"
  | "encrypted-private-key"
  | "unsupported-algorithm"
  | "key-mismatch";

/** Any failure to load a certificate or key: `code` names the problem, `source` the input. */
export class CertificateLoadError extends Error {
  override readonly name = "CertificateLoadError";
  constructor(
    readonly code: CertificateLoadErrorCode,
    readonly source: string,
    readonly detail: string,
  ) {
    super(`${source}: ${detail}`);
  }
}

/** Inputs larger than this are refused before parsing (no legitimate chain file comes close). */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
/** More certificates than this in one input are refused (bounded work per file). */
export const MAX_CERTIFICATES = 1000;

// RFC 7468 §5 "CERTIFICATE"; "X509 CERTIFICATE" is the legacy label; "TRUSTED CERTIFICATE" is OpenSSL's
// certificate followed by its auxiliary trust settings (we keep the certificate and drop the settings).
const CERT_LABELS = new Set(["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"]);
const KEY_LABELS = new Set(["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);

/** Every certificate in `data` (PEM with one or more blocks, or a single DER certificate), in order. */
export function parseCertificates(data: Buffer | string, source: string): X509Certificate[] {
  const bytes = checkSize(data, source);
  const text = bytes.toString("latin1");
  if (!looksLikePem(text)) return [certificateFromDer(bytes, source, "DER input")];
  const blocks = pemBlocks(text, source).filter((b) => CERT_LABELS.has(b.label));
  if (blocks.length === 0)
    throw new CertificateLoadError("no-certificate", source, "no CERTIFICATE block found");
  if (blocks.length > MAX_CERTIFICATES) {
    throw new CertificateLoadError(
      "too-many-certificates",
      source,
      `more than ${MAX_CERTIFICATES} certificates`,
    );
  }
  return blocks.map((b) => certificateFromDer(certificatePrefix(b, source), source, `PEM block ${b.index}`));
}

/** The one private key in `data`: PKCS#8, SEC1 EC or PKCS#1 RSA, PEM or DER. */
export function parsePrivateKey(data: Buffer | string, source: string): KeyObject {
  const bytes = checkSize(data, source);
  const text = bytes.toString("latin1");
  if (!looksLikePem(text)) return privateKeyFromDer(bytes, source);
  const blocks = pemBlocks(text, source).filter((b) => KEY_LABELS.has(b.label));
  if (blocks.length === 0)
    throw new CertificateLoadError("no-private-key", source, "no PRIVATE KEY block found");
  if (blocks.length > 1) {
    throw new CertificateLoadError(
      "multiple-private-keys",
      source,
      `${blocks.length} private keys, expected one`,
    );
  }
  return privateKeyFromPem(blocks[0] as PemBlock, source);
}

/** Throws `key-mismatch` unless `key` is the private half of `cert`'s public key. */
export function checkKeyMatchesCertificate(key: KeyObject, cert: X509Certificate, source: string): void {
  let matches = false;
  try {
    matches = cert.checkPrivateKey(key);
  } catch {
    matches = false; // OpenSSL throws for a key of another type: that is a mismatch too
  }
  if (!matches) {
    throw new CertificateLoadError(
      "key-mismatch",
      source,
      `private key (${describeKey(key)}) does not match the certificate "${(cert.subject ?? "").replace(/\n/g, ", ")}"`,
    );
  }
}

/** A certificate chain file plus its key file, checked against each other (leaf first). */
export function loadCertificateAndKey(
  cert: { data: Buffer | string; source: string },
  key: { data: Buffer | string; source: string },
): { chain: X509Certificate[]; key: KeyObject } {
  const chain = parseCertificates(cert.data, cert.source);
  const privateKey = parsePrivateKey(key.data, key.source);
  checkKeyMatchesCertificate(privateKey, chain[0] as X509Certificate, key.source);
  return { chain, key: privateKey };
}

function checkSize(data: Buffer | string, source: string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (bytes.length === 0) throw new CertificateLoadError("empty", source, "input is empty");
  if (bytes.length > MAX_INPUT_BYTES) {
    throw new CertificateLoadError("too-large", source, `input is larger than ${MAX_INPUT_BYTES} bytes`);
  }
  return bytes;
}

function pemBlocks(text: string, source: string): PemBlock[] {
  try {
    return parsePemBlocks(text);
  } catch (err) {
    if (err instanceof PemError) throw new CertificateLoadError("bad-pem", source, err.message);
    throw err;
  }
}

// A TRUSTED CERTIFICATE blob is `Certificate || X509_CERT_AUX`: keep the first DER element only.
function certificatePrefix(block: PemBlock, source: string): Buffer {
  if (block.label !== "TRUSTED CERTIFICATE") return block.der;
  try {
    return readElement(block.der).whole;
  } catch (err) {
    if (err instanceof DerError) {
      throw new CertificateLoadError("bad-certificate", source, `PEM block ${block.index}: ${err.message}`);
    }
    throw err;
  }
}

function certificateFromDer(der: Buffer, source: string, where: string): X509Certificate {
  if (der[0] !== 0x30) {
    const code = where === "DER input" ? "not-pem-or-der" : "bad-certificate";
    throw new CertificateLoadError(code, source, `${where}: neither PEM nor a DER certificate`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    const code = where === "DER input" ? "not-pem-or-der" : "bad-certificate";
    throw new CertificateLoadError(code, source, `${where}: not a valid X.509 certificate (${message(err)})`);
  }
  checkPublicKeySupported(cert, source, where);
  return cert;
}

// OpenSSL parses certificates with public keys it cannot use (e.g. GOST); reading the key exposes that.
function checkPublicKeySupported(cert: X509Certificate, source: string, where: string): void {
  try {
    void cert.publicKey.asymmetricKeyType;
  } catch (err) {
    const algorithm = spkiAlgorithm(cert.raw);
    if (algorithm !== undefined && !KNOWN_KEY_ALGORITHMS.has(algorithm)) {
      throw new CertificateLoadError(
        "unsupported-algorithm",
        source,
        `${where}: unsupported public key algorithm ${algorithm}`,
      );
    }
    throw new CertificateLoadError(
      "bad-certificate",
      source,
      `${where}: public key unreadable (${message(err)})`,
    );
  }
}

function spkiAlgorithm(certDer: Buffer): string | undefined {
  try {
    const algorithm = readChildren(readElement(subjectPublicKeyInfoDer(certDer)).value)[0];
    const algOid = algorithm?.tag === 0x30 ? readChildren(algorithm.value)[0] : undefined;
    return algOid?.tag === 0x06 ? decodeOid(algOid.value) : undefined;
  } catch {
    return undefined;
  }
}

function privateKeyFromPem(block: PemBlock, source: string): KeyObject {
  if (block.label === "ENCRYPTED PRIVATE KEY" || /ENCRYPTED/i.test(block.headers.get("Proc-Type") ?? "")) {
    throw new CertificateLoadError(
      "encrypted-private-key",
      source,
      "the private key is encrypted; supply it decrypted",
    );
  }
  const type =
    block.label === "EC PRIVATE KEY" ? "sec1" : block.label === "RSA PRIVATE KEY" ? "pkcs1" : "pkcs8";
  return createKey(block.der, type, source);
}

function privateKeyFromDer(der: Buffer, source: string): KeyObject {
  if (der[0] !== 0x30)
    throw new CertificateLoadError("not-pem-or-der", source, "neither PEM nor a DER private key");
  for (const type of ["pkcs8", "sec1", "pkcs1"] as const) {
    try {
      return createPrivateKey({ key: der, format: "der", type });
    } catch {
      // try the next encoding
    }
  }
  const algorithm = pkcs8Algorithm(der);
  if (algorithm !== undefined && !KNOWN_KEY_ALGORITHMS.has(algorithm))
    throw unsupportedKey(algorithm, source);
  throw new CertificateLoadError(
    "not-pem-or-der",
    source,
    "DER input is not a PKCS#8, SEC1 or PKCS#1 private key",
  );
}

function createKey(der: Buffer, type: "pkcs8" | "sec1" | "pkcs1", source: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: "der", type });
  } catch (err) {
    // OpenSSL says "unsupported" for any undecodable key, so the algorithm is read from the PKCS#8 itself.
    const algorithm = type === "pkcs8" ? pkcs8Algorithm(der) : undefined;
    if (algorithm !== undefined && !KNOWN_KEY_ALGORITHMS.has(algorithm))
      throw unsupportedKey(algorithm, source);
    throw new CertificateLoadError(
      "bad-private-key",
      source,
      `cannot read ${type.toUpperCase()} private key (${message(err)})`,
    );
  }
}

// Key algorithms OpenSSL 3 reads: RSA, RSASSA-PSS, DSA, EC, X25519, X448, Ed25519, Ed448, DH, X9.42 DH.
const KNOWN_KEY_ALGORITHMS = new Set([
  "1.2.840.113549.1.1.1",
  "1.2.840.113549.1.1.10",
  "1.2.840.10040.4.1",
  "1.2.840.10045.2.1",
  "1.3.101.110",
  "1.3.101.111",
  "1.3.101.112",
  "1.3.101.113",
  "1.2.840.113549.1.3.1",
  "1.2.840.10046.2.1",
]);

// RFC 5208 §5: PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm AlgorithmIdentifier, privateKey }
function pkcs8Algorithm(der: Buffer): string | undefined {
  try {
    const [version, algorithm] = readChildren(readElement(der).value);
    const algOid = algorithm?.tag === 0x30 ? readChildren(algorithm.value)[0] : undefined;
    if (version?.tag !== 0x02 || algOid?.tag !== 0x06) return undefined;
    return decodeOid(algOid.value);
  } catch {
    return undefined;
  }
}

function unsupportedKey(algorithm: string, source: string): CertificateLoadError {
  return new CertificateLoadError(
    "unsupported-algorithm",
    source,
    `unsupported private key algorithm ${algorithm}`,
  );
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
