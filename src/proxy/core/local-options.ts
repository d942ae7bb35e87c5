/**
 * OPTIONS addressed to the edge itself (RFC 3261 §11.2: a UAS answers OPTIONS with its capabilities;
 * §16.3 step 3 allows a proxy to answer an OPTIONS with Max-Forwards 0 as a UAS). A Request-URI naming one of
 * our hosts without a user part is "us"; any other OPTIONS is proxied like every request.
 */
import { createResponse, isSipUri, type SipMessage } from "../../sip/index.js";
import type { LocalNames } from "./local-names.js";

const ALLOW =
  "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK, MESSAGE";

export function isOptionsToUs(request: SipMessage, names: LocalNames): boolean {
  if (request.method !== "OPTIONS") return false;
  const uri = request.requestUri;
  if (uri === undefined || !isSipUri(uri) || uri.user !== undefined) return false;
  // A Route set means the request is loose-routed through us to someone else (§16.4).
  if (request.route.some((r) => !(isSipUri(r.uri) && names.isOurUri(r.uri)))) return false;
  return names.isOurUri(uri);
}

/** §11.2: 200 with Allow, Accept and Supported; no body. */
export function optionsResponse(request: SipMessage, toTag: string): Buffer {
  return createResponse(request, 200, "OK", {
    toTag,
    headers: [
      ["Allow", ALLOW],
      ["Accept", "application/sdp"],
      ["Supported", ""],
    ],
  });
}
