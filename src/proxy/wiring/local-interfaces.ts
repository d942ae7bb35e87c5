/**
 * Who "we" are on each side (PROXY.md LocalInterfaces): the host/port put into Via and Record-Route towards
 * the outside (RFC 3261 §16.6 steps 4 and 8) and the inside, and every name that designates this edge, so
 * that route processing recognizes its own Route entries and Request-URIs (§16.4).
 */
import type { X509Certificate } from "node:crypto";
import { hostname } from "node:os";
import { extractSipIdentities, normalizeDomain } from "../../pki/identities.js";
import type { LocalInterfaces } from "../core/index.js";

export interface LocalInterfacesInput {
  /** `proxy.outsideHost`/`outsidePort` from the configuration, when set (e.g. a public DNS name). */
  readonly outsideHost?: string;
  readonly outsidePort?: number;
  /** Bound listener addresses, in configuration order. */
  readonly listeners: ReadonlyArray<{ readonly address: string; readonly port: number }>;
  /** The inside socket's bound address. */
  readonly inside: { readonly address: string; readonly port: number; readonly transport: "udp" | "tcp" };
  /** Our server certificates (leaf first per chain) and the SNI names configured for them. */
  readonly certificates: ReadonlyArray<{
    readonly chain: readonly X509Certificate[];
    readonly serverNames?: readonly string[];
  }>;
  /** Further names (e.g. `localhost`) that mean this edge. */
  readonly extraNames?: readonly string[];
}

export function localInterfaces(input: LocalInterfacesInput): LocalInterfaces {
  const first = input.listeners[0];
  const outside = {
    host: uriHost(input.outsideHost ?? outsideDefault(first?.address, input.certificates)),
    port: input.outsidePort ?? first?.port ?? 5061,
  };
  const inside = {
    host: uriHost(input.inside.address),
    port: input.inside.port,
    transport: input.inside.transport,
  };
  const names = new Set<string>();
  const add = (name: string): void => void names.add(localName(name));
  add(outside.host);
  add(inside.host);
  for (const l of input.listeners) add(l.address);
  for (const c of input.certificates) for (const n of certificateNames(c)) add(n);
  for (const n of input.extraNames ?? []) add(n);
  return { outside, inside, localNames: [...names] };
}

/**
 * A listener on the unspecified address (0.0.0.0, ::) has no address a peer could reach us at: Via and
 * Record-Route then carry the first name of our certificates (the name peers connect to), else the host name.
 */
function outsideDefault(
  address: string | undefined,
  certificates: LocalInterfacesInput["certificates"],
): string {
  if (address !== undefined && address !== "0.0.0.0" && address !== "::") return address;
  const named = certificates.map((c) => certificateNames(c)[0]).find((n) => n !== undefined);
  return named ?? hostname();
}

/** The SNI names a certificate answers: configured serverNames, else its SIP domains and DNS SANs. */
function certificateNames(c: LocalInterfacesInput["certificates"][number]): string[] {
  if (c.serverNames) return [...c.serverNames];
  const leaf = c.chain[0];
  if (!leaf) return [];
  const extracted = extractSipIdentities(leaf);
  const domains = extracted.identities.filter((i) => i.kind === "domain").map((i) => i.value);
  return [...domains, ...extracted.san.dns.filter((d) => !d.includes("*"))];
}

/** IPv6 literals appear in SIP URIs and Via in brackets (RFC 3261 §25.1, RFC 5118). */
function uriHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function localName(host: string): string {
  const h = uriHost(host);
  return h.startsWith("[") ? h.toLowerCase() : normalizeDomain(h);
}
