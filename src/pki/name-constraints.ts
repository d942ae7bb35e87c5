/**
 * Name constraints (RFC 5280 §4.2.1.10, applied per §6.1.3 (b)–(c)).
 *
 * Each CA's constraints are checked on their own against every name of a subordinate certificate; that is
 * equivalent to the intersection/union bookkeeping of §6.1.4 (g) and is how OpenSSL and Go do it.
 * Supported forms: dNSName, uniformResourceIdentifier (host part, including RFC 3261 `sip:`/`sips:` URIs
 * without `//`), rfc822Name (also the subject's emailAddress attribute), iPAddress and directoryName.
 * A constraint of any other form on a name of the same form fails closed.
 */
import { hasRdnPrefix } from "./distinguished-name.js";
import { describeGeneralName, type GeneralName } from "./general-name.js";
import type { NameConstraintSet, ParsedCert } from "./parsed-cert.js";

export type NameConstraintResult = { ok: true } | { ok: false; detail: string };

/** Upper bound on names × subtrees compared for one CA, so hostile certificates cannot make us spin. */
export const MAX_NAME_CONSTRAINT_CHECKS = 1 << 16;

/** The names of `cert` that name constraints apply to (RFC 5280 §4.2.1.10). */
export function constrainedNames(cert: ParsedCert, isLeaf: boolean): GeneralName[] {
  const names: GeneralName[] = [...(cert.subjectAltNames ?? [])];
  if (cert.subject.rdns.length > 0) names.push({ type: "dn", name: cert.subject });
  // §4.2.1.10: rfc822Name constraints also apply to the emailAddress attribute of the subject DN.
  for (const email of cert.subjectEmails) names.push({ type: "email", value: email });
  if (isLeaf && !names.some((n) => n.type === "dns")) {
    // Not in RFC 5280, but what TLS clients do (OpenSSL, Go): a leaf without DNS SANs may be matched on its
    // CN, so a host-name-like CN must honour dNSName constraints or it would bypass them.
    for (const cn of cert.subjectCommonNames)
      if (looksLikeHostname(cn)) names.push({ type: "dns", value: cn });
  }
  return names;
}

/** Checks every constrained name of `cert` against one CA's constraints. */
export function checkNameConstraints(
  cert: ParsedCert,
  constraints: NameConstraintSet,
  isLeaf: boolean,
): NameConstraintResult {
  if (constraints.hasMinMax) {
    return { ok: false, detail: "name constraints with minimum/maximum subtree bounds are not supported" };
  }
  const names = constrainedNames(cert, isLeaf);
  const work = names.length * (constraints.permitted.length + constraints.excluded.length);
  if (work > MAX_NAME_CONSTRAINT_CHECKS) {
    return { ok: false, detail: `too many names × subtrees to check (${work})` };
  }
  for (const name of names) {
    const verdict = checkName(name, constraints);
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}

function checkName(name: GeneralName, constraints: NameConstraintSet): NameConstraintResult {
  const permitted = constraints.permitted.filter((c) => sameForm(c, name));
  const excluded = constraints.excluded.filter((c) => sameForm(c, name));
  if (name.type === "other" && permitted.length + excluded.length > 0) {
    return {
      ok: false,
      detail: `${describeGeneralName(name)}: constraints of this name form are not supported`,
    };
  }
  const hit = excluded.find((c) => matches(name, c));
  if (hit) {
    return {
      ok: false,
      detail: `${describeGeneralName(name)} is in excluded subtree ${describeGeneralName(hit)}`,
    };
  }
  if (permitted.length > 0 && !permitted.some((c) => matches(name, c))) {
    const list = permitted.map(describeGeneralName).join(", ");
    return { ok: false, detail: `${describeGeneralName(name)} is not within permitted subtrees (${list})` };
  }
  return { ok: true };
}

function sameForm(constraint: GeneralName, name: GeneralName): boolean {
  if (constraint.type !== name.type) return false;
  return constraint.type !== "other" || (name.type === "other" && constraint.tag === name.tag);
}

/** True when `name` lies within the subtree `constraint` (same form assumed). */
export function matches(name: GeneralName, constraint: GeneralName): boolean {
  if (name.type === "dns" && constraint.type === "dns") return dnsWithin(name.value, constraint.value);
  if (name.type === "uri" && constraint.type === "uri") return uriWithin(name.value, constraint.value);
  if (name.type === "email" && constraint.type === "email") return emailWithin(name.value, constraint.value);
  if (name.type === "ip" && constraint.type === "ip") return ipWithin(name.bytes, constraint.bytes);
  if (name.type === "dn" && constraint.type === "dn") return hasRdnPrefix(name.name, constraint.name);
  return false;
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}

// §4.2.1.10: "Any DNS name that can be constructed by simply adding zero or more labels to the left-hand side
// of the name satisfies the name constraint." A leading dot (common practice, OpenSSL/Go) means "subdomains only".
export function dnsWithin(name: string, constraint: string): boolean {
  const n = normalizeHost(name);
  const c = normalizeHost(constraint);
  if (c === "") return true;
  if (c.startsWith(".")) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

// §4.2.1.10: a URI constraint applies to the host part; ".example.com" means any host in that domain,
// "host.example.com" exactly that host. A URI without a host does not satisfy a permitted subtree.
function uriWithin(uri: string, constraint: string): boolean {
  const host = uriHost(uri);
  if (host === undefined) return false;
  const c = normalizeHost(constraint);
  if (c.startsWith(".")) return host.endsWith(c);
  return host === c;
}

/**
 * The host of a URI, lower-cased: `scheme://[userinfo@]host[:port]...` (RFC 3986) or the RFC 3261 forms
 * `sip:[user@]host[:port][;params][?headers]` and `sips:...`. IP literals yield undefined: §4.2.1.10 says the
 * host of a URI constraint is a fully qualified domain name.
 */
export function uriHost(uri: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (!scheme) return undefined;
  const rest = uri.slice(scheme[0].length);
  let authority: string;
  if (rest.startsWith("//")) authority = rest.slice(2).split(/[/?#]/)[0] ?? "";
  else if (/^sips?$/i.test(scheme[1] ?? "")) authority = rest.split(/[;?]/)[0] ?? "";
  else return undefined;
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  if (hostPort.startsWith("[")) return undefined;
  const host = normalizeHost(hostPort.replace(/:\d*$/, ""));
  if (host === "" || /^[0-9.]+$/.test(host)) return undefined;
  return host;
}

// §4.2.1.10: a mailbox ("user@host"), all mailboxes at a host ("host"), or any host in a domain (".domain").
function emailWithin(email: string, constraint: string): boolean {
  const at = email.lastIndexOf("@");
  if (at < 0) return false;
  const local = email.slice(0, at);
  const domain = normalizeHost(email.slice(at + 1));
  const cAt = constraint.lastIndexOf("@");
  if (cAt >= 0)
    return local === constraint.slice(0, cAt) && domain === normalizeHost(constraint.slice(cAt + 1));
  const c = normalizeHost(constraint);
  if (c.startsWith(".")) return domain.endsWith(c);
  return domain === c;
}

// §4.2.1.10: iPAddress constraints are address + mask (8 octets for IPv4, 32 for IPv6).
function ipWithin(address: Buffer, constraint: Buffer): boolean {
  if (constraint.length !== address.length * 2) return false;
  for (let i = 0; i < address.length; i++) {
    const mask = constraint[address.length + i] ?? 0;
    if (((address[i] ?? 0) & mask) !== ((constraint[i] ?? 0) & mask)) return false;
  }
  return true;
}

function looksLikeHostname(cn: string): boolean {
  const labels = normalizeHost(cn).split(".");
  if (labels.length < 2) return false;
  return labels.every((l, i) => /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/i.test(l) || (i === 0 && l === "*"));
}
