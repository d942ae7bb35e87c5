/**
 * Building the copy of a request that goes to the next hop (RFC 3261 §16.6), as serializeMessage edits over
 * the received bytes: every header we do not touch is copied byte for byte.
 *
 * - step 2/§16.4: Request-URI and Route as route preprocessing left them;
 * - step 3: Max-Forwards decremented (added as 70 when absent);
 * - step 4: Record-Route, double per RFC 5658 §3.2 when the request changes side (interface and transport):
 *   the entry for the receiving interface first, the entry for the sending interface on top, so each side's
 *   route set names the interface it reaches us on and no rewriting of responses is needed;
 * - step 8: our Via on top, for the outgoing interface, with a fresh branch; the received top Via gets
 *   received/rport (RFC 3261 §18.2.1, RFC 3581 §4);
 * - the identity header: every copy from outside removed, our value added on the way inside;
 * - RFC 3261 §18.3: Content-Length added when a datagram without one goes onto a stream.
 */
import { formatVia, serializeMessage, type ProxyEdits, type SipMessage, type Via } from "../../sip/index.js";
import type { Flow } from "./flow.js";
import type { LocalInterfaces } from "./hops.js";
import type { RoutePlan } from "./route-preprocess.js";

export interface ForwardSpec {
  readonly request: SipMessage;
  readonly source: Flow;
  readonly out: Flow;
  readonly route: RoutePlan;
  readonly branch: string;
  readonly interfaces: LocalInterfaces;
  /**
   * Record-Route twice (RFC 5658); `token` goes into the outside-facing entry, which is a SIPS URI when
   * `secure` (RFC 3261 §16.6 step 4: a SIPS Request-URI or next-hop Route needs a SIPS Record-Route).
   */
  readonly recordRoute?: { readonly token?: string; readonly secure?: boolean };
  readonly identityHeader: string;
  /** Added when the request goes inside. */
  readonly identityValue?: string;
}

export function forwardedRequest(spec: ForwardSpec): Buffer {
  return serializeMessage(spec.request, forwardEdits(spec));
}

export function forwardEdits(spec: ForwardSpec): ProxyEdits {
  const { request, source, out, route, interfaces } = spec;
  const ours = ourVia(out, interfaces, spec.branch);
  const updatedTop = receivedTopVia(request.topVia, source);
  const removeHeaders: string[] = [];
  if (source.side === "outside") removeHeaders.push(spec.identityHeader);
  if (route.routes !== undefined) removeHeaders.push("route");
  const addHeaders: Array<readonly [string, string]> = [];
  if (out.side === "inside" && spec.identityValue !== undefined)
    addHeaders.push([spec.identityHeader, spec.identityValue]);
  return {
    requestUri: route.requestUri,
    addVia: updatedTop === undefined ? ours : `${ours}, ${updatedTop}`,
    removeTopVia: updatedTop !== undefined,
    addRecordRoute:
      spec.recordRoute === undefined
        ? undefined
        : doubleRecordRoute(
            source,
            out,
            interfaces,
            spec.recordRoute.token,
            spec.recordRoute.secure === true,
          ),
    addRoute: route.routes,
    decrementMaxForwards: true,
    removeHeaders,
    addHeaders,
    ensureContentLength: out.reliable,
  };
}

/** §16.6 step 8 / §18.1.1: the sent-by of the interface the request leaves on; rport asked for on UDP. */
export function ourVia(out: Flow, interfaces: LocalInterfaces, branch: string): string {
  if (out.side === "outside") {
    return `SIP/2.0/TLS ${hostText(interfaces.outside.host)}:${interfaces.outside.port};branch=${branch}`;
  }
  const t = out.transport === "tcp" ? "TCP" : "UDP";
  const rport = t === "UDP" ? ";rport" : "";
  return `SIP/2.0/${t} ${hostText(interfaces.inside.host)}:${interfaces.inside.port};branch=${branch}${rport}`;
}

/** RFC 5658 §3.2 double Record-Route: sending interface on top, receiving interface below it. */
export function doubleRecordRoute(
  source: Flow,
  out: Flow,
  interfaces: LocalInterfaces,
  token: string | undefined,
  secure = false,
): string {
  const top = recordRouteEntry(out.side, interfaces, token, secure);
  return `${top}, ${recordRouteEntry(source.side, interfaces, token, secure)}`;
}

function recordRouteEntry(
  side: Flow["side"],
  interfaces: LocalInterfaces,
  token: string | undefined,
  secure: boolean,
): string {
  if (side === "outside") {
    const user = token === undefined ? "" : `${token}@`;
    const host = `${hostText(interfaces.outside.host)}:${interfaces.outside.port}`;
    // A SIPS URI implies TLS; transport=tls is deprecated with it (RFC 3261 §26.2.2, RFC 5630).
    return secure ? `<sips:${user}${host};lr>` : `<sip:${user}${host};transport=tls;lr>`;
  }
  const i = interfaces.inside;
  return `<sip:${hostText(i.host)}:${i.port};transport=${i.transport};lr>`;
}

/**
 * RFC 3261 §18.2.1: "If the host portion of the "sent-by" parameter contains a domain name, or if it
 * contains an IP address that differs from the packet source address, the server MUST add a "received"
 * parameter"; RFC 3581 §4: with rport, received is added always and rport gets the source port.
 * Returns the rewritten Via value, or undefined when it stays as received.
 */
export function receivedTopVia(via: Via, source: Flow): string | undefined {
  const address = normalizeAddress(source.remoteAddress);
  const needReceived = via.hasRport || via.host !== address;
  if (!needReceived) return undefined;
  const params: Array<readonly [string, string | null]> = [];
  for (const p of via.params) if (p[0] !== "received" && p[0] !== "rport") params.push(p);
  params.push(["received", address.startsWith("[") ? address.slice(1, -1) : address]);
  if (via.hasRport) params.push(["rport", String(source.remotePort)]);
  return formatVia({ ...via, params });
}

/** Socket addresses as Via stores hosts: IPv4-mapped IPv6 unwrapped, IPv6 in brackets. */
export function normalizeAddress(address: string): string {
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice(7);
  if (address.includes(":") && !address.startsWith("[")) return `[${address.toLowerCase()}]`;
  return address;
}

/** A configured host as it is written in a URI or Via: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
export function hostText(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
