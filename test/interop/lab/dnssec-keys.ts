// DS records for the lab's delegations. Knot makes and uses the zone keys itself (automatic policy);
// the lab reads each child's DNSKEY from Knot and computes the DS its parent publishes (RFC 4034 §5).
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";

/** RFC 6605 §2: ECDSA P-256 with SHA-256 is DNSSEC algorithm 13. */
export const ALGORITHM_ECDSAP256SHA256 = 13;
/** RFC 4034 §2.1.1: Zone Key (bit 7) + Secure Entry Point (bit 15) = 257, a KSK/CSK. */
export const FLAGS_KSK = 257;
const PROTOCOL = 3;
/** RFC 4509: DS digest type 2 = SHA-256. */
const DIGEST_SHA256 = 2;

export interface DnskeyFields {
  readonly flags: number;
  readonly algorithm: number;
  readonly publicKey: Buffer;
}

/** RFC 4034 §2.1: flags | protocol (3) | algorithm | public key. */
export function dnskeyRdata(key: DnskeyFields): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(key.flags, 0);
  head.writeUInt8(PROTOCOL, 2);
  head.writeUInt8(key.algorithm, 3);
  return Buffer.concat([head, key.publicKey]);
}

/** RFC 4034 Appendix B: ones-complement-style sum over the RDATA. */
export function keyTag(rdata: Buffer): number {
  let acc = 0;
  for (let i = 0; i < rdata.length; i++)
    acc += i % 2 === 0 ? (rdata[i] as number) << 8 : (rdata[i] as number);
  acc += (acc >> 16) & 0xffff;
  return acc & 0xffff;
}

/** RFC 4034 §6.2: canonical (lower-case) wire form of an absolute name. */
export function nameToWire(fqdn: string): Buffer {
  const labels = fqdn.toLowerCase().replace(/\.$/, "").split(".").filter(Boolean);
  const parts = labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** RFC 4034 §5.1.4: digest = hash(owner name wire form | DNSKEY RDATA). */
export function dsDigest(zone: string, rdata: Buffer): Buffer {
  return createHash("sha256").update(nameToWire(zone)).update(rdata).digest();
}

/** `<zone> DS <tag> <alg> 2 <hex>` in presentation format, for a zone file or a trust anchor. */
export function dsRecord(zone: string, key: DnskeyFields): string {
  const rdata = dnskeyRdata(key);
  const digest = dsDigest(zone, rdata).toString("hex");
  return `${zone} DS ${keyTag(rdata)} ${key.algorithm} ${DIGEST_SHA256} ${digest}`;
}

/** RFC 6605 §4: the public key field is the uncompressed point without its 0x04 prefix: x || y. */
function p256PublicKeyField(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (typeof jwk.x !== "string" || typeof jwk.y !== "string") throw new Error("not an EC public key");
  return Buffer.concat([Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
}

/** A fresh P-256 key as DNSKEY fields, with its private key (PKCS#8 PEM) for tools that want it. */
export function makeP256Key(): { readonly fields: DnskeyFields; readonly privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    fields: {
      flags: FLAGS_KSK,
      algorithm: ALGORITHM_ECDSAP256SHA256,
      publicKey: p256PublicKeyField(publicKey),
    },
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** A DS naming the key's tag and algorithm but with a wrong digest: validators find no matching DNSKEY. */
export function corruptDs(ds: string): string {
  const fields = ds.split(" ");
  const digest = Buffer.from(fields[5] as string, "hex");
  digest[0] = (digest[0] as number) ^ 0xff;
  return [...fields.slice(0, 5), digest.toString("hex")].join(" ");
}
