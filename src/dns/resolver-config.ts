/**
 * Which recursive resolver the stub client talks to, and whether its AD bit may be believed.
 *
 * RFC 4035 §3.2.3 / RFC 6840 §5.8: a stub can rely on the AD bit only if the path to its validating resolver is
 * trusted (same host, or a secured channel). So AD is trusted from a loopback resolver, or when the operator marks the
 * resolver `trusted: true` explicitly; any other resolver's AD bit is reported but not believed.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { DnsConfigError } from "./errors.js";

export const DEFAULT_DNS_PORT = 53;

export interface ResolverEndpoint {
  /** IPv4 or IPv6 literal (no brackets). */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** True when the AD bit of this resolver's answers is believed (loopback, or configured trusted). */
  readonly adTrusted: boolean;
  /** Why the AD bit is (not) trusted, for `check` output. */
  readonly trustReason: "loopback" | "configured" | "untrusted";
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z). */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase();
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h.startsWith("::ffff:")) return isLoopbackAddress(h.slice(7));
  return h === "::1" || h === "0:0:0:0:0:0:0:1";
}

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal. The resolver must be an IP literal:
 * resolving the resolver's own name would need a resolver.
 */
export function parseResolverAddress(text: string, options: { trusted?: boolean } = {}): ResolverEndpoint {
  const { host, port } = splitHostPort(text.trim());
  const family = isIP(host);
  if (family !== 4 && family !== 6) {
    throw new DnsConfigError(
      "bad-resolver-address",
      `resolver "${text}": host must be an IPv4 or IPv6 literal`,
    );
  }
  return endpoint(host, port, family, options.trusted === true);
}

function splitHostPort(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? "", port: parsePort(bracketed[2], text) };
  if (isIP(text) === 6) return { host: text, port: DEFAULT_DNS_PORT };
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { host: text, port: DEFAULT_DNS_PORT };
  return { host: text.slice(0, colon), port: parsePort(text.slice(colon + 1), text) };
}

function parsePort(digits: string | undefined, text: string): number {
  if (digits === undefined) return DEFAULT_DNS_PORT;
  const port = /^\d{1,5}$/.test(digits) ? Number(digits) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new DnsConfigError("bad-resolver-address", `resolver "${text}": port must be 1..65535`);
  }
  return port;
}

function endpoint(host: string, port: number, family: 4 | 6, trusted: boolean): ResolverEndpoint {
  const loopback = isLoopbackAddress(host);
  const trustReason = loopback ? "loopback" : trusted ? "configured" : "untrusted";
  return { host, port, family, adTrusted: trustReason !== "untrusted", trustReason };
}

/**
 * The first `nameserver` line of resolv.conf text (resolv.conf(5)). With none, the C library uses the name server on
 * the local machine, so do we: 127.0.0.1.
 */
export function parseResolvConf(text: string): string {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const match = /^nameserver\s+(\S+)$/.exec(line);
    if (match?.[1] !== undefined) return match[1];
  }
  return "127.0.0.1";
}

/** The system resolver from /etc/resolv.conf (or 127.0.0.1 when the file is missing or names none). */
export function systemResolver(
  options: { path?: string; trusted?: boolean; readFile?: (path: string) => string } = {},
): ResolverEndpoint {
  const path = options.path ?? "/etc/resolv.conf";
  const read = options.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  let text = "";
  try {
    text = read(path);
  } catch {
    text = "";
  }
  // A link-local IPv6 resolver carries a zone ("fe80::1%eth0"); dgram accepts the zone, isIP needs it removed.
  const address = parseResolvConf(text);
  const zoneless = address.replace(/%.*$/, "");
  const parsed = parseResolverAddress(zoneless.includes(":") ? `[${zoneless}]` : zoneless, options);
  return { ...parsed, host: address };
}
