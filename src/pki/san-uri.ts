/**
 * Classifies a subjectAltName URI the way RFC 5922 §7.1 needs: its scheme, whether it has a user part, and
 * its host. Deliberately small: only `sip:` URIs matter here and only scheme, userinfo and host are read.
 */
import { isDnsName, isIpLiteral, normalizeDomain } from "./dns-name.js";

export type SanUri =
  | { readonly kind: "other-scheme"; readonly scheme: string }
  | { readonly kind: "sip-domain"; readonly host: string }
  | { readonly kind: "sip-user"; readonly uri: string }
  | { readonly kind: "invalid"; readonly reason: string };

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ), password likewise plus "&=+$,".
const USERINFO =
  /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+(?::(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*)?$/;

/** Classifies one SAN URI value (already checked to be printable IA5 text). */
export function classifySanUri(text: string): SanUri {
  const colon = text.indexOf(":");
  if (colon <= 0) return { kind: "invalid", reason: "no URI scheme" };
  const scheme = text.slice(0, colon).toLowerCase(); // RFC 3986 §3.1: schemes are case-insensitive
  if (scheme !== "sip") return { kind: "other-scheme", scheme };
  const rest = text.slice(colon + 1);
  const at = rest.indexOf("@");
  // RFC 5922 §7.1: a "sip" URI with a userpart ("there is an '@'") is not a domain identity.
  if (at >= 0) return userUri(rest.slice(0, at), rest.slice(at + 1));
  const host = hostOf(rest);
  if (host === undefined) return { kind: "invalid", reason: `"${text}" has no valid host` };
  if (!isDnsName(host)) return { kind: "invalid", reason: `"${text}": host is not a DNS name` };
  return { kind: "sip-domain", host };
}

function userUri(userinfo: string, hostpart: string): SanUri {
  if (!USERINFO.test(userinfo))
    return { kind: "invalid", reason: `sip:${userinfo}@… has a malformed user part` };
  const host = hostOf(hostpart);
  if (host === undefined) return { kind: "invalid", reason: `sip:${userinfo}@${hostpart} has no valid host` };
  if (!isDnsName(host) && !isIpLiteral(host)) {
    return { kind: "invalid", reason: `sip:${userinfo}@${hostpart}: host is neither a DNS name nor an IP` };
  }
  const user = userinfo.split(":")[0] ?? ""; // a password never belongs in an identity
  return { kind: "sip-user", uri: `sip:${user}@${host}` };
}

// hostport [ ";" params ] [ "?" headers ]: RFC 5922 §7.2 compares the host only, never port or parameters.
function hostOf(hostpart: string): string | undefined {
  const end = hostpart.search(/[;?]/);
  const hostport = end < 0 ? hostpart : hostpart.slice(0, end);
  const host = hostport.startsWith("[") ? bracketed(hostport) : withoutPort(hostport);
  if (host === undefined || host === "") return undefined;
  return host.startsWith("[") ? host.toLowerCase() : normalizeDomain(host);
}

function bracketed(hostport: string): string | undefined {
  const close = hostport.indexOf("]");
  if (close < 0) return undefined;
  const tail = hostport.slice(close + 1);
  if (tail !== "" && !/^:[0-9]{1,5}$/.test(tail)) return undefined;
  const host = hostport.slice(0, close + 1);
  return isIpLiteral(host) ? host : undefined;
}

function withoutPort(hostport: string): string | undefined {
  const colon = hostport.indexOf(":");
  if (colon < 0) return hostport;
  return /^[0-9]{1,5}$/.test(hostport.slice(colon + 1)) ? hostport.slice(0, colon) : undefined;
}
