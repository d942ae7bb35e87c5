/**
 * Which client certificate to present to which destination SIP domain (DESIGN.md "federation"): an edge
 * that belongs to several federations presents federation A's certificate to A's members and B's to B's.
 * Lookup is by exact SIP domain (normalized like RFC 5922 identities), then the default entry; there is no
 * suffix matching, so adding a domain is always an explicit line in the table.
 */
import { createHash } from "node:crypto";
import { normalizeDomain } from "../pki/identities.js";
import type { ClientCredentials } from "./client-handshake.js";

export interface NamedClientCredentials extends ClientCredentials {
  /** Name of the entry in the configuration, for logs and /connections. */
  readonly name: string;
  /** SHA-256 of the certificate chain PEM: the connection table's "same client certificate" key. */
  readonly fingerprint: string;
}

export interface ClientCredentialTable {
  readonly byDomain: ReadonlyMap<string, NamedClientCredentials>;
  readonly fallback?: NamedClientCredentials;
}

export type ClientCredentialChoice =
  | { readonly code: "per-domain" | "default"; readonly credentials: NamedClientCredentials }
  | { readonly code: "none"; readonly credentials?: undefined };

export class ClientCredentialTableError extends Error {
  override readonly name = "ClientCredentialTableError";
  readonly code = "duplicate-destination";
}

export function namedCredentials(name: string, cert: string, key: string): NamedClientCredentials {
  return { name, cert, key, fingerprint: createHash("sha256").update(cert).digest("hex") };
}

export function buildClientCredentialTable(
  entries: ReadonlyArray<{
    readonly domains: readonly string[];
    readonly credentials: NamedClientCredentials;
  }>,
  fallback?: NamedClientCredentials,
): ClientCredentialTable {
  const byDomain = new Map<string, NamedClientCredentials>();
  for (const entry of entries) {
    for (const domain of entry.domains) {
      const key = normalizeDomain(domain);
      const existing = byDomain.get(key);
      if (existing && existing !== entry.credentials) {
        throw new ClientCredentialTableError(
          `destination ${key} has two client certificates: ${existing.name} and ${entry.credentials.name}`,
        );
      }
      byDomain.set(key, entry.credentials);
    }
  }
  return { byDomain, fallback };
}

export function chooseClientCredentials(
  table: ClientCredentialTable,
  sipDomain: string,
): ClientCredentialChoice {
  const exact = table.byDomain.get(normalizeDomain(sipDomain));
  if (exact) return { code: "per-domain", credentials: exact };
  if (table.fallback) return { code: "default", credentials: table.fallback };
  return { code: "none" };
}
