/**
 * Rights by issuing CA: which SIP domains a given CA may vouch for.
 *
 * RFC 5922 trusts every anchor for every name. In a federation that is too much: a federation CA should
 * only be able to assert its members' domains (reSIProcate lists this as future work; issue 4 §2). Rights are
 * written out explicitly, never inferred from certificate wildcards:
 *   - `fed-a.example`          exactly that domain;
 *   - `suffix: fed-a.example`  any proper subdomain of fed-a.example (label boundary), NOT the domain itself —
 *                              list the apex separately if the CA may assert it too.
 *
 * Semantics, chosen to fail closed:
 *   - a rule names a CA by SHA-256 fingerprint or by subject DN; it applies when that CA is anywhere in the
 *     peer's verified chain (intermediate or anchor);
 *   - when several rules apply (say, for the intermediate and for the root), an identity must be allowed by
 *     every one of them;
 *   - when no rule applies, `unlistedCas` decides: "allow" (default: the trust store already admitted the
 *     chain, and rights only narrow it) or "deny";
 *   - every identity kind is subject to rights (domain identities, the host of URI identities, and mapped
 *     identities, whose CN the same CA vouched for); an IP host is never within a restricted CA's rights.
 * An identity outside the rights is dropped from the peer's effective identities with the reason code
 * `ca-not-authorized-for-domain`.
 */
import { checkDomainName } from "./domain-name.js";
import { dnStringKey, subjectKey, type DnParse } from "./distinguished-name.js";
import { normalizeFingerprint } from "./fingerprint.js";
import { identityDomain, identityText, type PeerIdentity } from "./identity.js";

/** A CA of the peer's verified chain (above the leaf). */
export interface IssuingCa {
  /** SHA-256 of the DER certificate, lower-case hex without colons. */
  readonly fingerprint: string;
  /** Subject as Node prints it (`X509Certificate.subject`). */
  readonly subject: string;
}

/** Configuration form (plain data, as read from YAML/JSON). */
export interface CaRightsConfig {
  readonly rules: readonly CaRightsRuleConfig[];
  readonly unlistedCas?: "allow" | "deny";
}

export interface CaRightsRuleConfig {
  readonly ca: { readonly fingerprint: string } | { readonly name: string };
  /** `domain` or `suffix: domain`. */
  readonly domains: readonly string[];
}

export type DomainRight =
  { readonly kind: "exact"; readonly domain: string } | { readonly kind: "suffix"; readonly domain: string };

export interface CaRule {
  readonly ca: { readonly fingerprint: string } | { readonly nameKey: string; readonly name: string };
  readonly rights: readonly DomainRight[];
}

/** Compiled, validated rights; build with compileCaRights. */
export interface CaRights {
  readonly rules: readonly CaRule[];
  readonly unlistedCas: "allow" | "deny";
}

export interface DroppedIdentity {
  readonly identity: PeerIdentity;
  readonly code: "ca-not-authorized-for-domain";
  readonly detail: string;
}

export class CaRightsError extends Error {
  readonly code = "ca-rights-invalid";
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: invalid CA rights\n${problems.join("\n")}`);
    this.name = "CaRightsError";
  }
}

/** Validates the configuration; all problems are reported together. */
export function compileCaRights(config: CaRightsConfig, source = "caRights"): CaRights {
  const problems: string[] = [];
  if (!Array.isArray(config.rules)) throw new CaRightsError(source, [`${source}.rules: must be a list`]);
  const rules = config.rules.map((rule, index) => compileRule(rule, `${source}.rules[${index}]`, problems));
  const unlisted = config.unlistedCas ?? "allow";
  if (unlisted !== "allow" && unlisted !== "deny")
    problems.push(`${source}.unlistedCas: must be "allow" or "deny"`);
  if (problems.length > 0) throw new CaRightsError(source, problems);
  return { rules, unlistedCas: unlisted };
}

function compileRule(rule: CaRightsRuleConfig, where: string, problems: string[]): CaRule {
  const ca = compileCaRef(rule.ca ?? {}, where, problems);
  if (!Array.isArray(rule.domains)) {
    problems.push(`${where}.domains: must be a list`);
    return { ca, rights: [] };
  }
  if (rule.domains.length === 0)
    problems.push(`${where}.domains: empty (a CA with no rights should not be trusted)`);
  const rights: DomainRight[] = [];
  rule.domains.forEach((text, i) => {
    const right =
      typeof text === "string" ? parseDomainRight(text) : { ok: false as const, reason: "not a string" };
    if (right.ok) rights.push(right.right);
    else problems.push(`${where}.domains[${i}]: ${right.reason}`);
  });
  return { ca, rights };
}

function compileCaRef(ca: CaRightsRuleConfig["ca"], where: string, problems: string[]): CaRule["ca"] {
  if ("fingerprint" in ca) {
    const fingerprint = typeof ca.fingerprint === "string" ? normalizeFingerprint(ca.fingerprint) : undefined;
    if (fingerprint === undefined)
      problems.push(`${where}.ca.fingerprint: not a SHA-256 fingerprint (64 hex digits)`);
    return { fingerprint: fingerprint ?? "" };
  }
  const key: DnParse = typeof ca.name === "string" ? dnStringKey(ca.name) : { ok: false, reason: "missing" };
  if (!key.ok) problems.push(`${where}.ca.name: ${key.reason}`);
  return { nameKey: key.ok ? key.key : "", name: ca.name };
}

const SUFFIX_PREFIX = /^suffix:\s*/i;

export function parseDomainRight(
  text: string,
): { ok: true; right: DomainRight } | { ok: false; reason: string } {
  const trimmed = text.trim();
  const isSuffix = SUFFIX_PREFIX.test(trimmed);
  const name = trimmed.replace(SUFFIX_PREFIX, "");
  if (name.startsWith("*.") || name.startsWith(".")) {
    return { ok: false, reason: `"${text}": write "suffix: ${name.replace(/^\*?\./, "")}" for subdomains` };
  }
  const checked = checkDomainName(name);
  if (!checked.ok) return checked;
  return { ok: true, right: { kind: isSuffix ? "suffix" : "exact", domain: checked.domain } };
}

function rightAllows(right: DomainRight, domain: string): boolean {
  if (right.kind === "exact") return domain === right.domain;
  return domain.endsWith(`.${right.domain}`);
}

function ruleApplies(rule: CaRule, ca: IssuingCa, caNameKey: string | undefined): boolean {
  if ("fingerprint" in rule.ca) return rule.ca.fingerprint === ca.fingerprint;
  return caNameKey !== undefined && rule.ca.nameKey === caNameKey;
}

function applicableRules(rights: CaRights, issuers: readonly IssuingCa[]): CaRule[] {
  const applicable: CaRule[] = [];
  for (const ca of issuers) {
    const key = subjectKey(ca.subject);
    const nameKey = key.ok ? key.key : undefined;
    for (const rule of rights.rules) if (ruleApplies(rule, ca, nameKey)) applicable.push(rule);
  }
  return applicable;
}

function caLabel(rule: CaRule): string {
  return "fingerprint" in rule.ca ? `CA ${rule.ca.fingerprint.slice(0, 16)}…` : `CA "${rule.ca.name}"`;
}

function denial(identity: PeerIdentity, rules: readonly CaRule[]): DroppedIdentity | undefined {
  const domain = identityDomain(identity);
  const refusing = rules.find(
    (rule) => domain === undefined || !rule.rights.some((r) => rightAllows(r, domain)),
  );
  if (refusing === undefined) return undefined;
  const what = domain === undefined ? "an IP host" : `domain ${domain}`;
  return {
    identity,
    code: "ca-not-authorized-for-domain",
    detail: `${identityText(identity)}: ${caLabel(refusing)} may not vouch for ${what}`,
  };
}

/** Splits identities into those the chain's CAs may vouch for and those they may not. */
export function applyCaRights(
  identities: readonly PeerIdentity[],
  issuers: readonly IssuingCa[],
  rights: CaRights,
): { effective: PeerIdentity[]; dropped: DroppedIdentity[] } {
  const rules = applicableRules(rights, issuers);
  if (rules.length === 0) return unlisted(identities, rights.unlistedCas);
  const effective: PeerIdentity[] = [];
  const dropped: DroppedIdentity[] = [];
  for (const identity of identities) {
    const refused = denial(identity, rules);
    if (refused === undefined) effective.push(identity);
    else dropped.push(refused);
  }
  return { effective, dropped };
}

function unlisted(
  identities: readonly PeerIdentity[],
  policy: CaRights["unlistedCas"],
): { effective: PeerIdentity[]; dropped: DroppedIdentity[] } {
  if (policy === "allow") return { effective: [...identities], dropped: [] };
  const dropped = identities.map((identity) => ({
    identity,
    code: "ca-not-authorized-for-domain" as const,
    detail: `${identityText(identity)}: no CA in the chain has rights and unlistedCas is "deny"`,
  }));
  return { effective: [], dropped };
}
