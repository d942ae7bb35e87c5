/**
 * Recognising ourselves: a URI or a Via sent-by that names one of our interfaces. RFC 3261 §16.4 removes our
 * own Route entries and fixes up a Request-URI that a strict router filled with our Record-Route; §16.3 step 4
 * finds our earlier Via entries for loop detection.
 */
import type { SipUri, Via } from "../../sip/index.js";
import type { LocalInterfaces } from "./hops.js";

export class LocalNames {
  private readonly hosts: ReadonlySet<string>;
  private readonly ports: ReadonlySet<number>;
  private readonly outsideKey: string;
  private readonly insideKey: string;

  constructor(interfaces: LocalInterfaces) {
    const hosts = new Set(interfaces.localNames.map(normalHost));
    hosts.add(normalHost(interfaces.outside.host));
    hosts.add(normalHost(interfaces.inside.host));
    this.hosts = hosts;
    this.ports = new Set([interfaces.outside.port, interfaces.inside.port]);
    this.outsideKey = `${normalHost(interfaces.outside.host)}:${interfaces.outside.port}`;
    this.insideKey = `${normalHost(interfaces.inside.host)}:${interfaces.inside.port}`;
  }

  /** A host (lower-case, as SipUri/Via store it) and optional port that address us. */
  isOurs(host: string, port: number | undefined): boolean {
    // No port: the default port of the scheme; our names are ours whichever interface it reaches.
    return this.hosts.has(host) && (port === undefined || this.ports.has(port));
  }

  isOurUri(uri: SipUri): boolean {
    return this.isOurs(uri.host, uri.port);
  }

  /** Which of our interfaces wrote this Via (exact host:port of the Via we insert), if any. */
  viaSide(via: Via): "outside" | "inside" | undefined {
    const key = `${via.host}:${via.port ?? ""}`;
    if (key === this.insideKey) return "inside";
    if (key === this.outsideKey) return "outside";
    return undefined;
  }
}

/** Hosts as SipUri and Via store them: lower-case, IPv6 in brackets. */
function normalHost(host: string): string {
  const h = host.toLowerCase();
  return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
}
