/**
 * Whether a bind address keeps the admin API on this machine. Only literal loopback addresses and
 * `localhost` count: any other name could resolve anywhere, and 0.0.0.0 / :: listen on every interface.
 */
import { isIPv4, isIPv6 } from "node:net";

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  // RFC 1122 §3.2.1.3: all of 127.0.0.0/8 is loopback.
  if (isIPv4(h)) return h.startsWith("127.");
  if (!isIPv6(h)) return false;
  // RFC 4291 §2.5.3 (::1) and §2.5.5.2 (IPv4-mapped loopback).
  return h === "::1" || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
}
