/**
 * NAPTR selection for SIP (RFC 3263 §4.1 on top of RFC 3403/3404).
 *
 * Transports: a TLS edge speaks TLS outward. `SIPS+D2T` (TLS over TCP) is always usable; RFC 3263 §4.1 says a client
 * resolving a `sip:` URI SHOULD retain `SIPS` records when it supports TLS, so `sip:` URIs reach TLS targets through
 * them (and RFC 5630 §3.1 / RFC 5922 allow a `sip:` request to travel over TLS). `SIP+D2T` (plain TCP) and
 * `SIP+D2U` (UDP) name plain-text ports; they are used only when the caller allows those transports. A `sips:` URI
 * MUST discard every non-`SIPS` service (RFC 3263 §4.1).
 */
import type { WireRecord } from "./wire.js";
import { naptrData } from "./records.js";
import { canonicalName } from "./names.js";

export type Transport = "tls" | "tcp" | "udp";

const SERVICE_TRANSPORT: Readonly<Record<string, Transport>> = {
  "sips+d2t": "tls",
  "sip+d2t": "tcp",
  "sip+d2u": "udp",
};

export interface SipNaptr {
  readonly order: number;
  readonly preference: number;
  readonly service: string;
  readonly transport: Transport;
  /** The SRV owner name the record points to (canonical). */
  readonly replacement: string;
}

/**
 * Keeps the NAPTR records a SIP client can follow and orders them: first by the caller's transport preference (a TLS
 * edge prefers TLS targets), then by ORDER and PREFERENCE (RFC 3403 §4.1, lower first).
 */
export function selectSipNaptr(
  records: readonly WireRecord[],
  scheme: "sip" | "sips",
  transports: readonly Transport[],
): SipNaptr[] {
  const kept: SipNaptr[] = [];
  for (const record of records) {
    const data = naptrData(record);
    if (data === undefined) continue;
    const transport = SERVICE_TRANSPORT[data.services.toLowerCase()];
    if (transport === undefined || !transports.includes(transport)) continue;
    if (scheme === "sips" && transport !== "tls") continue;
    // RFC 3263 §4.1: SIP NAPTRs use the "S" flag and an empty regexp; the replacement names the SRV record.
    if (
      data.flags.toLowerCase() !== "s" ||
      data.regexp !== "" ||
      data.replacement === "" ||
      data.replacement === "."
    ) {
      continue;
    }
    kept.push({
      order: data.order,
      preference: data.preference,
      service: data.services.toUpperCase(),
      transport,
      replacement: canonicalName(data.replacement),
    });
  }
  const rank = (t: Transport) => transports.indexOf(t);
  return kept.sort(
    (a, b) => rank(a.transport) - rank(b.transport) || a.order - b.order || a.preference - b.preference,
  );
}

/** RFC 3263 §4.1: the SRV prefix for a transport when no NAPTR is used. */
export function srvPrefix(scheme: "sip" | "sips", transport: Transport): string {
  if (transport === "tls") return "_sips._tcp";
  return transport === "tcp" ? (scheme === "sips" ? "_sips._tcp" : "_sip._tcp") : "_sip._udp";
}

/** RFC 3263 §4.2 / RFC 3261 §19.1.2: 5061 for TLS, 5060 otherwise. */
export function defaultPort(transport: Transport): number {
  return transport === "tls" ? 5061 : 5060;
}
