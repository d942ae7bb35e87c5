/**
 * The value of the identity header the edge adds to requests it forwards inside (issue 7 §2, DESIGN.md
 * "Routing and accounting"): the verified peer identity and how it was verified, for the inner SIP server.
 *
 *   X-Siptrust-Identity: <sip:example.com>;method=pkix+rfc5922;auth=covered-by-domain;listener=public;fp=0f1e2d3c4b5a6978
 *
 * The syntax is a SIP name-addr with generic parameters (RFC 3261 §25.1 `name-addr *(SEMI generic-param)`),
 * so any SIP stack's parser (and a regex) reads it:
 * - `<uri>`: the identity that authorized the request (the one covering From), else the peer's first
 *   verified identity, else `sip:anonymous.invalid` (RFC 2606 reserved name: a peer trusted by CA that
 *   holds no SIP identity);
 * - `method`: dane-ee | dane-ta | pkix+rfc5922 | mapping | none (how the connection's peer was verified);
 * - `auth`: the authorization code (auth/authorize.ts), e.g. covered-by-domain, trusted-peer;
 * - `listener`, `sni`, `ca-set`: where the connection arrived, when known;
 * - `fp`: the first 16 hex digits (64 bits) of the SHA-256 fingerprint of the peer's certificate.
 * A value that is not an RFC 3261 token is written as a quoted-string; characters outside printable ASCII
 * are percent-encoded, so no CR/LF (or anything else that could end or split the header) can appear.
 */
import type { AuthResult } from "../../auth/authorize.js";
import { identityText } from "../../auth/identity.js";
import type { TlsAttributes } from "./tls-attributes.js";

export const ANONYMOUS_IDENTITY = "sip:anonymous.invalid";

/** Hex digits of the fingerprint carried in `fp`: enough to tell certificates apart in logs, short on the wire. */
export const SHORT_FINGERPRINT_LENGTH = 16;

/**
 * Values by connection attributes, then by "auth code + identity": per request only the pair changes, and
 * a peer has few identities and there are five codes, so each connection's map stays tiny.
 */
const byAttributes = new WeakMap<TlsAttributes, Map<string, string>>();
const MAX_PER_CONNECTION = 64;

export function identityHeaderValue(tls: TlsAttributes | undefined, auth: AuthResult): string {
  if (tls === undefined) return buildValue(tls, auth);
  const key = `${auth.code}\n${identityUri(tls, auth)}`;
  let values = byAttributes.get(tls);
  if (values === undefined) {
    values = new Map();
    byAttributes.set(tls, values);
  }
  let value = values.get(key);
  if (value === undefined) {
    value = buildValue(tls, auth);
    if (values.size >= MAX_PER_CONNECTION) values.clear();
    values.set(key, value);
  }
  return value;
}

function buildValue(tls: TlsAttributes | undefined, auth: AuthResult): string {
  const params: Array<readonly [string, string | undefined]> = [
    ["method", tls?.method ?? "none"],
    ["auth", auth.code],
    ["listener", tls?.listener],
    ["sni", tls?.sni],
    ["ca-set", tls?.caSet],
    ["fp", tls?.fingerprint?.slice(0, SHORT_FINGERPRINT_LENGTH)],
  ];
  let value = `<${uriText(identityUri(tls, auth))}>`;
  for (const [name, v] of params) if (v !== undefined && v.length > 0) value += `;${name}=${paramValue(v)}`;
  return value;
}

function identityUri(tls: TlsAttributes | undefined, auth: AuthResult): string {
  const identity = auth.ok && auth.matched !== undefined ? identityText(auth.matched) : tls?.identities[0];
  if (identity === undefined) return ANONYMOUS_IDENTITY;
  // A domain identity is named by its SIP URI without user part (RFC 5922 §7.1).
  return identity.startsWith("sip:") ? identity : `sip:${identity}`;
}

// RFC 3261 §25.1 token characters.
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/** A token as is; anything else a quoted-string with `"` and `\` escaped and non-printables encoded. */
export function paramValue(value: string): string {
  if (TOKEN.test(value)) return value;
  return `"${safeText(value).replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Inside <>: a URI from our own formatting; encoded again defensively (no `>` or control characters). */
function uriText(uri: string): string {
  return safeText(uri).replace(/[<>"]/g, (c) => percent(c));
}

/** Printable ASCII stays; everything else (controls, DEL, non-ASCII) becomes %XX of its UTF-8 bytes. */
function safeText(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, (c) => percent(c));
}

function percent(c: string): string {
  return [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}
