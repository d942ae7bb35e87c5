/**
 * RFC 3261 §16.4 route information preprocessing, with RFC 5658 double Record-Route:
 *
 * - "If the Request-URI contains a value this proxy previously placed into a Record-Route header field ...
 *   the proxy MUST replace the Request-URI in the request with the last value from the Route header field,
 *   and remove that value from the Route header field" (a strict router upstream).
 * - "If the first value in the Route header field indicates this proxy, the proxy MUST remove that value."
 *   We record-route twice (one entry per interface, RFC 5658 §3.2), so up to two consecutive top entries are
 *   ours and both go.
 *
 * The user part of a removed entry may be our flow token; the caller decides whether to honour it.
 */
import { getUriParam, isSipUri, type SipMessage, type SipUri, type Uri } from "../../sip/index.js";
import { FlowTokens } from "./flow-token.js";
import type { LocalNames } from "./local-names.js";

/** RFC 5658 §3.2: at most two entries per pass through a double-record-routing proxy. */
const MAX_OWN_ENTRIES = 2;

export interface RoutePlan {
  /** New Request-URI text (strict-router fix-up), when it changes. */
  readonly requestUri?: string;
  /** The Route values to send, when they differ from the received ones (undefined = unchanged). */
  readonly routes?: readonly string[];
  /** One of our Route entries (or our Record-Route in the Request-URI) was present: an in-dialog request. */
  readonly viaOurRoute: boolean;
  /** A flow token found in the user part of one of our entries (unverified). */
  readonly flowToken?: string;
  /** The URI that names the next hop (§16.5/§16.6 step 7): the first remaining Route, else the Request-URI. */
  readonly nextHopUri: Uri;
  /** Text of nextHopUri as written. */
  readonly nextHopText: string;
  /** Whether nextHopUri came from a Route entry. */
  readonly nextHopIsRoute: boolean;
  /** The Request-URI after preprocessing, when it is a SIP URI (for matching inner targets). */
  readonly requestUriParsed?: SipUri;
}

export function preprocessRoute(request: SipMessage, names: LocalNames): RoutePlan {
  const routes = request.route;
  const texts = routes.length === 0 ? [] : request.values("route");
  let requestUriText = request.requestUriText!;
  let requestUri = request.requestUri!;
  let list = texts;
  let listUris = routes.map((r) => r.uri);
  let changed = false;
  let token: string | undefined;
  let viaOurRoute = false;

  if (isOurRecordRoute(requestUri, names) && listUris.length > 0) {
    // Strict-router fix-up (§16.4): the last Route value is the real Request-URI.
    viaOurRoute = true;
    token = tokenOf(requestUri);
    const last = routes[routes.length - 1]!;
    requestUri = last.uri;
    requestUriText = last.uriText;
    list = list.slice(0, -1);
    listUris = listUris.slice(0, -1);
    changed = true;
  }
  let removed = 0;
  while (removed < MAX_OWN_ENTRIES && removed < listUris.length && isOurs(listUris[removed]!, names)) {
    token ??= tokenOf(listUris[removed]!);
    removed++;
  }
  if (removed > 0) {
    viaOurRoute = true;
    list = list.slice(removed);
    listUris = listUris.slice(removed);
    changed = true;
  }
  const nextIsRoute = listUris.length > 0;
  const nextHopUri = nextIsRoute ? listUris[0]! : requestUri;
  return {
    requestUri: requestUriText !== request.requestUriText ? requestUriText : undefined,
    routes: changed ? list : undefined,
    viaOurRoute,
    flowToken: token,
    nextHopUri,
    nextHopText: nextIsRoute ? routes[removed]!.uriText : requestUriText,
    nextHopIsRoute: nextIsRoute,
    requestUriParsed: isSipUri(requestUri) ? requestUri : undefined,
  };
}

function isOurs(uri: Uri, names: LocalNames): boolean {
  return isSipUri(uri) && names.isOurUri(uri);
}

/** Our Record-Route entries always carry `lr` (RFC 3261 §16.6 step 4); a plain `sip:alice@us` is not one. */
function isOurRecordRoute(uri: Uri, names: LocalNames): boolean {
  return isSipUri(uri) && names.isOurUri(uri) && getUriParam(uri, "lr") !== undefined;
}

function tokenOf(uri: Uri): string | undefined {
  return isSipUri(uri) && FlowTokens.looksLike(uri.user) ? uri.user : undefined;
}
