/**
 * TLSA lookup for a TLS endpoint (RFC 6698 §3: owner `_<port>._tcp.<host>`; RFC 7673 §3.2: for SRV, `<host>` is the
 * SRV target). The RDATA is decoded here from the raw octets (RFC 6698 §2.1: usage, selector, matching type, then the
 * certificate association data), so nothing depends on how a DNS library models the type.
 */
import type { DnssecStatus } from "./answer.js";
import type { DnsQuerier } from "./client.js";
import { canonicalName } from "./names.js";
import { resolveFollowing, type Step } from "./resolve.js";
import type { TlsaRecord } from "../dane/tlsa.js";

/** One TLSA RDATA as it came from DNS; the model is dane/'s, which judges it. */
export type { TlsaRecord };

export interface TlsaLookup {
  readonly name: string;
  /**
   * `secure` with records → DANE applies; `secure` without (`nodata`/`nxdomain`) → securely absent; `insecure` →
   * treat as no TLSA (RFC 6698 §4.1); `bogus` → hard failure; `error` → lookup failed.
   */
  readonly status: DnssecStatus;
  readonly code: string;
  readonly ttl: number;
  readonly records: readonly TlsaRecord[];
  /** RDATA too short to be a TLSA record (fewer than 3 octets), skipped. */
  readonly malformed: number;
  readonly steps: readonly Step[];
}

/** RFC 6698 §2.1 wire format; undefined when the RDATA cannot hold the three one-octet fields. */
export function decodeTlsaRdata(rdata: Buffer): TlsaRecord | undefined {
  if (rdata.length < 3) return undefined;
  return {
    usage: rdata[0] ?? 0,
    selector: rdata[1] ?? 0,
    matchingType: rdata[2] ?? 0,
    data: Buffer.from(rdata.subarray(3)),
  };
}

export function tlsaName(port: number, host: string): string {
  return `_${port}._tcp.${canonicalName(host)}`;
}

export async function lookupTlsa(client: DnsQuerier, port: number, host: string): Promise<TlsaLookup> {
  const name = tlsaName(port, host);
  const res = await resolveFollowing(client, name, "TLSA");
  const decoded = res.records.map((r) => decodeTlsaRdata(r.rdata));
  const records = decoded.filter((r): r is TlsaRecord => r !== undefined);
  const ttl = Math.min(...res.steps.map((s) => s.ttl));
  return {
    name,
    status: res.status,
    code: res.code,
    ttl: Number.isFinite(ttl) ? ttl : 0,
    records,
    malformed: decoded.length - records.length,
    steps: res.steps,
  };
}
