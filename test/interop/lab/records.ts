// Builders for lab records, so tests write `srv("_sips._tcp", 10, 50, 5061, "a.sip.test.")`
// instead of presentation-format strings, and TLSA association data computed from a real certificate.
import { createHash, type X509Certificate } from "node:crypto";
import type { LabRecord } from "./lab-spec.js";

export function a(name: string, address: string, ttl?: number): LabRecord {
  return withTtl({ name, type: "A", data: address }, ttl);
}

export function aaaa(name: string, address: string, ttl?: number): LabRecord {
  return withTtl({ name, type: "AAAA", data: address }, ttl);
}

export function cname(name: string, target: string, ttl?: number): LabRecord {
  return withTtl({ name, type: "CNAME", data: target }, ttl);
}

export function txt(name: string, text: string, ttl?: number): LabRecord {
  return withTtl({ name, type: "TXT", data: `"${text}"` }, ttl);
}

/** RFC 3403 §4.1 / RFC 3263 §4.1: e.g. naptr("@", 10, 50, "s", "SIPS+D2T", "_sips._tcp.sip.test."). */
export function naptr(
  name: string,
  order: number,
  preference: number,
  flags: string,
  service: string,
  replacement: string,
  ttl?: number,
): LabRecord {
  const data = `${order} ${preference} "${flags}" "${service}" "" ${replacement}`;
  return withTtl({ name, type: "NAPTR", data }, ttl);
}

/** RFC 2782: priority, weight, port, target. */
export function srv(
  name: string,
  priority: number,
  weight: number,
  port: number,
  target: string,
  ttl?: number,
): LabRecord {
  return withTtl({ name, type: "SRV", data: `${priority} ${weight} ${port} ${target}` }, ttl);
}

/** RFC 6698 §2.1 fields; data as hex or bytes. */
export function tlsa(
  name: string,
  usage: number,
  selector: number,
  matchingType: number,
  data: string | Buffer,
  ttl?: number,
): LabRecord {
  const hex = typeof data === "string" ? data : data.toString("hex");
  return withTtl({ name, type: "TLSA", data: `${usage} ${selector} ${matchingType} ${hex}` }, ttl);
}

/**
 * RFC 6698 §2.1.2–2.1.3: association data for a certificate. Selector 0 = whole certificate DER,
 * 1 = SubjectPublicKeyInfo DER; matching type 0 = exact, 1 = SHA-256, 2 = SHA-512.
 * Written independently of src/dane so interop tests do not check the code with itself.
 */
export function tlsaAssociation(cert: X509Certificate, selector: 0 | 1, matchingType: 0 | 1 | 2): Buffer {
  const selected = selector === 0 ? cert.raw : cert.publicKey.export({ type: "spki", format: "der" });
  if (matchingType === 0) return selected;
  return createHash(matchingType === 1 ? "sha256" : "sha512")
    .update(selected)
    .digest();
}

function withTtl(record: LabRecord, ttl: number | undefined): LabRecord {
  return ttl === undefined ? record : { ...record, ttl };
}
