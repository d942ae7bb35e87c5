/**
 * Syntax check for SIP domain names written by operators (CN mapping files, CA rights, trusted peers).
 *
 * The check is strict on purpose: a name that can never equal a certificate identity is a configuration
 * mistake, and silently keeping it would make a rule look active when it is not.
 */
import { normalizeDomain } from "../pki/identities.js";

export type DomainCheck = { ok: true; domain: string } | { ok: false; reason: string };

/** RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in text form without the trailing dot. */
const MAX_NAME = 253;
/** RFC 1035 §2.3.4: labels are 63 octets or less. */
const MAX_LABEL = 63;
/** RFC 1123 §2.1 / RFC 3261 §25.1 `domainlabel`: letters, digits, hyphen; no hyphen at either end. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** RFC 3261 §25.1 `toplabel` starts with ALPHA: an all-numeric last label is an IPv4 literal, not a name. */
const NUMERIC_LABEL = /^[0-9]+$/;

export function checkDomainName(text: string): DomainCheck {
  if (text.length === 0) return { ok: false, reason: "empty domain" };
  if (text.includes("*")) {
    // Issue 4 §2: wildcards are never implied; a suffix rule must be written out explicitly.
    return { ok: false, reason: `wildcard in "${text}" is not allowed; name domains explicitly` };
  }
  if (text.includes(":") || text.startsWith("[")) {
    return { ok: false, reason: `"${text}" is an IP address, not a SIP domain` };
  }
  const domain = toALabel(text);
  if (domain === undefined) return { ok: false, reason: `"${text}" is not a valid domain name` };
  return checkLabels(text, domain);
}

function toALabel(text: string): string | undefined {
  try {
    const normalized = normalizeDomain(text);
    return normalized.length > 0 ? normalized : undefined;
  } catch {
    return undefined;
  }
}

function checkLabels(text: string, domain: string): DomainCheck {
  if (domain.length > MAX_NAME)
    return { ok: false, reason: `"${text}" is longer than ${MAX_NAME} characters` };
  const labels = domain.split(".");
  for (const label of labels) {
    if (label.length === 0) return { ok: false, reason: `"${text}" has an empty label` };
    if (label.length > MAX_LABEL)
      return { ok: false, reason: `"${text}" has a label longer than ${MAX_LABEL}` };
    if (!LDH_LABEL.test(label)) return { ok: false, reason: `"${text}" has an invalid label "${label}"` };
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1] ?? "")) {
    return { ok: false, reason: `"${text}" is an IP address, not a SIP domain` };
  }
  return { ok: true, domain };
}
