/**
 * Classifies a subjectAltName URI the way RFC 5922 §7.1 needs: its scheme, whether it has a user part, and
 * its host. The URI grammar is the SIP layer's (sip/uri.ts parseUri, RFC 3261 §19.1 and §25.1): a SAN URI
 * is read exactly as a SIP URI on the wire is, and this file adds only the §7.1 decision.
 */
import { isSipUri, parseUri, type SipUri } from "../sip/uri.js";
import { normalizeDomain } from "./dns-name.js";

export type SanUri =
  | { readonly kind: "other-scheme"; readonly scheme: string }
  | { readonly kind: "sip-domain"; readonly host: string }
  | { readonly kind: "sip-user"; readonly uri: string }
  | { readonly kind: "invalid"; readonly reason: string };

/** Classifies one SAN URI value (already checked to be printable IA5 text). */
export function classifySanUri(text: string): SanUri {
  const colon = text.indexOf(":");
  if (colon <= 0) return { kind: "invalid", reason: "no URI scheme" };
  const scheme = text.slice(0, colon).toLowerCase(); // RFC 3986 §3.1: schemes are case-insensitive
  // RFC 5922 §7.1: only "sip" URIs are identities; any other scheme (sips included) is ignored, unparsed.
  if (scheme !== "sip") return { kind: "other-scheme", scheme };
  const parsed = parseUri(text);
  if (!parsed.ok) return { kind: "invalid", reason: `"${text}" is not a valid sip URI: ${parsed.detail}` };
  if (!isSipUri(parsed.uri)) return { kind: "invalid", reason: `"${text}" is not a sip URI` };
  // RFC 5922 §7.1: a "sip" URI with a userpart ("there is an '@'") is not a domain identity.
  return parsed.uri.user === undefined
    ? domainUri(text, parsed.uri)
    : userUri(text.slice(colon + 1), parsed.uri);
}

// RFC 5922 §7.2 compares the host only, never port or parameters; a SIP domain is a DNS name, not an address.
function domainUri(text: string, uri: SipUri): SanUri {
  if (uri.hostKind !== "hostname") return { kind: "invalid", reason: `"${text}": host is not a DNS name` };
  return { kind: "sip-domain", host: normalizeDomain(uri.host) };
}

/**
 * `sip:user@host`: the user part as the certificate wrote it (auth compares it per RFC 3261 §19.1.4 after
 * parsing), the host normalized; a password, port, parameters and headers never belong in an identity.
 */
function userUri(afterScheme: string, uri: SipUri): SanUri {
  const userinfo = afterScheme.slice(0, afterScheme.indexOf("@"));
  const user = userinfo.split(":")[0] ?? "";
  const host = uri.hostKind === "hostname" ? normalizeDomain(uri.host) : uri.host;
  return { kind: "sip-user", uri: `sip:${user}@${host}` };
}
