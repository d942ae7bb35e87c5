/**
 * Routing rules (issue 7 §2): an ordered list, read from the configuration, that matches request fields and
 * the TLS attributes of the connection a request arrived on, and forwards, rejects or tags it.
 *
 * Semantics (docs/routing.md is the operator's reference):
 * - rules are tried in order; within a rule every condition must hold (AND), and a condition given a list of
 *   values holds when any of them matches (OR);
 * - the first matching rule with an action (`forward` or `reject`) decides; a matching rule with only `tags`
 *   adds its tags and evaluation goes on, so accounting tags can be set independently of the route;
 * - a rule applies to `direction: inbound` requests (outside → inside) unless it says otherwise;
 * - a condition on a field the request does not have (no client certificate, no SNI, a tel: From for a host
 *   match) does not hold: rules fail closed.
 *
 * Everything is checked and compiled once, at configuration load: regular expressions, fingerprints, URIs,
 * codes and statuses. Each problem names its key (`routing[2].match.peer.issuer`), so a bad file is refused
 * with a precise message and the running configuration stays (DESIGN.md "Revocation and reload").
 */
import { normalizeFingerprint } from "../../auth/fingerprint.js";
import { normalizeDomain } from "../../pki/identities.js";
import { formatUri, isSipUri, parseUri, uriEquals, type SipUri, type Uri } from "../../sip/uri.js";
import type { TlsAttributes, VerificationMethod } from "./tls-attributes.js";

export type Direction = "inbound" | "outbound";

/** One value to match: a plain string is an exact match. */
export type MatchValueConfig =
  string | { readonly exact: string } | { readonly suffix: string } | { readonly regex: string };

/** One value, or a list of values of which any may match. */
export type MatchConfig = MatchValueConfig | readonly MatchValueConfig[];

export interface PeerMatchConfig {
  readonly subject?: MatchConfig;
  readonly issuer?: MatchConfig;
  readonly serial?: MatchConfig;
  readonly fingerprint?: MatchConfig;
  /** Any subjectAltName entry (URI, DNS, email, IP). */
  readonly san?: MatchConfig;
  /** Any verified SIP identity (domain or sip: URI). */
  readonly identity?: MatchConfig;
}

export interface RuleMatchConfig {
  readonly direction?: Direction | "any";
  readonly method?: MatchConfig;
  readonly requestUri?: MatchConfig;
  readonly from?: MatchConfig;
  readonly to?: MatchConfig;
  readonly listener?: MatchConfig;
  readonly sni?: MatchConfig;
  readonly caSet?: MatchConfig;
  readonly peer?: PeerMatchConfig;
  /** How the peer was verified: dane-ee | dane-ta | pkix+rfc5922 | mapping | none. */
  readonly verification?: MatchConfig;
  /** The authorization result code (auth/authorize.ts), e.g. trusted-peer, covered-by-domain. */
  readonly auth?: MatchConfig;
}

export interface RejectConfig {
  readonly status: number;
  readonly reason: string;
  /** Machine-readable code for logs and accounting; default `rejected-by-rule`. */
  readonly code?: string;
}

export interface RoutingRuleConfig {
  readonly name?: string;
  readonly match?: RuleMatchConfig;
  /** An inner server group, or `outside` (relay to the outside with the outbound procedure). */
  readonly forward?: string;
  readonly reject?: RejectConfig;
  readonly tags?: readonly string[];
}

/** The facts of one request that rules look at. Lazily computed by the caller; read at most once per field. */
export interface RequestFacts {
  readonly direction: Direction;
  readonly method: string;
  readonly requestUri: Uri | undefined;
  readonly from: Uri | undefined;
  readonly to: Uri | undefined;
  readonly tls: TlsAttributes | undefined;
  readonly auth: string | undefined;
}

export type ForwardTarget = { readonly kind: "inner"; readonly group: string } | { readonly kind: "outside" };

export type RuleAction =
  | { readonly kind: "forward"; readonly to: ForwardTarget }
  | { readonly kind: "reject"; readonly status: number; readonly reason: string; readonly code: string };

export interface RuleOutcome {
  /** Name of the rule whose action decided; undefined when no rule had an action for the request. */
  readonly rule?: string;
  readonly action?: RuleAction;
  /** Tags of every matching rule up to and including the deciding one, in order, without duplicates. */
  readonly tags: readonly string[];
}

export interface CompiledRule {
  readonly name: string;
  readonly directions: ReadonlySet<Direction>;
  readonly action?: RuleAction;
  readonly tags: readonly string[];
  matches(facts: RequestFacts): boolean;
}

export interface RoutingRules {
  readonly rules: readonly CompiledRule[];
  evaluate(facts: RequestFacts): RuleOutcome;
}

export interface RuleProblem {
  /** Key path below the rule list, e.g. [2, "match", "peer", "issuer"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export class RoutingRuleError extends Error {
  override readonly name = "RoutingRuleError";
  readonly code = "routing-rule-invalid";
  constructor(
    readonly source: string,
    readonly problems: readonly RuleProblem[],
  ) {
    super(`${source}: invalid routing rules\n${problems.map((p) => describeProblem(source, p)).join("\n")}`);
  }
}

export function describeProblem(source: string, problem: RuleProblem): string {
  const key = problem.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
  return `${source}${key}: ${problem.message}`;
}

export interface CompileOptions {
  /** Inner server groups that exist; `forward` to any other name is refused. Absent: not checked. */
  readonly groups?: readonly string[];
  /** Prefix for error messages; default `routing`. */
  readonly source?: string;
}

/** The group name meaning "the outside" in `forward`; no inner group may use it. */
export const OUTSIDE = "outside";

/** Validates and compiles the rules; throws RoutingRuleError listing every problem. */
export function compileRoutingRules(
  rules: readonly RoutingRuleConfig[],
  options: CompileOptions = {},
): RoutingRules {
  const problems = checkRoutingRules(rules, options);
  if (problems.length > 0) throw new RoutingRuleError(options.source ?? "routing", problems);
  const compiled = rules.map((rule, i) => compileRule(rule, i, []));
  return { rules: compiled, evaluate: (facts) => evaluate(compiled, facts) };
}

/** Every problem of the rules (empty when they compile); for configuration validation. */
export function checkRoutingRules(
  rules: readonly RoutingRuleConfig[],
  options: Pick<CompileOptions, "groups"> = {},
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!Array.isArray(rules)) return [{ path: [], message: "must be a list of rules" }];
  const names = new Map<string, number>();
  rules.forEach((rule, i) => {
    compileRule(rule, i, problems, options.groups);
    const name = ruleName(rule, i);
    const earlier = names.get(name);
    if (earlier !== undefined)
      problems.push({ path: [i, "name"], message: `"${name}" is also rule ${earlier}` });
    names.set(name, i);
  });
  return problems;
}

function evaluate(rules: readonly CompiledRule[], facts: RequestFacts): RuleOutcome {
  let tags: string[] | undefined;
  for (const rule of rules) {
    if (!rule.directions.has(facts.direction) || !rule.matches(facts)) continue;
    if (rule.tags.length > 0) tags = addTags(tags, rule.tags);
    if (rule.action !== undefined) return { rule: rule.name, action: rule.action, tags: tags ?? NO_TAGS };
  }
  return { tags: tags ?? NO_TAGS };
}

const NO_TAGS: readonly string[] = Object.freeze([]);

function addTags(tags: string[] | undefined, more: readonly string[]): string[] {
  const out = tags ?? [];
  for (const tag of more) if (!out.includes(tag)) out.push(tag);
  return out;
}

function ruleName(rule: RoutingRuleConfig, index: number): string {
  return typeof rule?.name === "string" && rule.name.length > 0 ? rule.name : `#${index}`;
}

// ---- one rule ---------------------------------------------------------------------------------------------

type Condition = (facts: RequestFacts) => boolean;

const RULE_KEYS: ReadonlySet<string> = new Set(["name", "match", "forward", "reject", "tags"]);

function compileRule(
  rule: RoutingRuleConfig,
  index: number,
  problems: RuleProblem[],
  groups?: readonly string[],
): CompiledRule {
  const at = (...path: (string | number)[]): (string | number)[] => [index, ...path];
  if (typeof rule !== "object" || rule === null) {
    problems.push({ path: at(), message: "a rule must be a mapping" });
    return { name: `#${index}`, directions: new Set(), tags: [], matches: () => false };
  }
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.has(key)) problems.push({ path: at(key), message: "unknown key" });
  }
  const match = rule.match ?? {};
  const directions = compileDirection(match.direction, at("match", "direction"), problems);
  const conditions = compileConditions(match, at("match"), problems);
  checkDirectionFields(match, directions, at("match"), problems);
  const action = compileAction(rule, at, problems, groups);
  const tags = compileTags(rule.tags, at("tags"), problems);
  if (action === undefined && tags.length === 0) {
    problems.push({ path: at(), message: "a rule needs forward, reject or tags" });
  }
  const matches: Condition =
    conditions.length === 0 ? () => true : (facts) => conditions.every((condition) => condition(facts));
  return { name: ruleName(rule, index), directions, ...(action ? { action } : {}), tags, matches };
}

function compileDirection(
  value: unknown,
  path: (string | number)[],
  problems: RuleProblem[],
): ReadonlySet<Direction> {
  if (value === undefined || value === "inbound") return new Set<Direction>(["inbound"]);
  if (value === "outbound") return new Set<Direction>(["outbound"]);
  if (value === "any") return new Set<Direction>(["inbound", "outbound"]);
  problems.push({ path, message: 'must be "inbound", "outbound" or "any"' });
  return new Set();
}

/** TLS and authorization facts exist only for requests from the outside (the outbound hop is chosen later). */
const INBOUND_ONLY = ["listener", "sni", "caSet", "peer", "verification", "auth"] as const;

function checkDirectionFields(
  match: RuleMatchConfig,
  directions: ReadonlySet<Direction>,
  path: (string | number)[],
  problems: RuleProblem[],
): void {
  if (directions.has("inbound")) return;
  for (const key of INBOUND_ONLY) {
    if (match[key] !== undefined) {
      problems.push({
        path: [...path, key],
        message:
          "never known for outbound requests (they come from inside; the TLS connection is chosen after routing)",
      });
    }
  }
}

const REASON = /^[\x20-\x7e\u0080-\uffff]{1,128}$/;
const CODE = /^[a-z0-9][a-z0-9._:-]{0,63}$/i;
const TAG = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

function compileAction(
  rule: RoutingRuleConfig,
  at: (...path: (string | number)[]) => (string | number)[],
  problems: RuleProblem[],
  groups?: readonly string[],
): RuleAction | undefined {
  if (rule.forward !== undefined && rule.reject !== undefined) {
    problems.push({ path: at(), message: "forward and reject are exclusive" });
    return undefined;
  }
  if (rule.forward !== undefined) return compileForward(rule.forward, at("forward"), problems, groups);
  if (rule.reject !== undefined) return compileReject(rule.reject, at("reject"), problems);
  return undefined;
}

function compileForward(
  group: unknown,
  path: (string | number)[],
  problems: RuleProblem[],
  groups?: readonly string[],
): RuleAction | undefined {
  if (typeof group !== "string" || group.length === 0) {
    problems.push({ path, message: 'must be an inner server group name or "outside"' });
    return undefined;
  }
  if (group === OUTSIDE) return { kind: "forward", to: { kind: "outside" } };
  if (groups !== undefined && !groups.includes(group)) {
    problems.push({ path, message: `no inner server group "${group}" in proxy.innerServers` });
  }
  return { kind: "forward", to: { kind: "inner", group } };
}

function compileReject(
  reject: RejectConfig,
  path: (string | number)[],
  problems: RuleProblem[],
): RuleAction | undefined {
  const before = problems.length;
  if (typeof reject !== "object" || reject === null) {
    problems.push({ path, message: "must be a mapping with status and reason" });
    return undefined;
  }
  const { status, reason, code = "rejected-by-rule" } = reject;
  // RFC 3261 §16.6: a proxy that does not forward answers with a final response; 1xx/2xx/3xx are not refusals.
  if (!Number.isInteger(status) || status < 400 || status > 699) {
    problems.push({ path: [...path, "status"], message: "must be a final error status 400-699" });
  }
  // RFC 3261 §25.1 Reason-Phrase: no control characters (CR/LF would split the status line).
  if (typeof reason !== "string" || !REASON.test(reason)) {
    problems.push({
      path: [...path, "reason"],
      message: "must be 1-128 characters without control characters",
    });
  }
  if (typeof code !== "string" || !CODE.test(code)) {
    problems.push({
      path: [...path, "code"],
      message: "must be a code like blocked-domain (letters, digits, . _ : -)",
    });
  }
  if (problems.length > before) return undefined;
  return { kind: "reject", status, reason, code };
}

function compileTags(tags: unknown, path: (string | number)[], problems: RuleProblem[]): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) {
    problems.push({ path, message: "must be a list" });
    return [];
  }
  const out: string[] = [];
  tags.forEach((tag: unknown, i) => {
    if (typeof tag === "string" && TAG.test(tag)) {
      if (!out.includes(tag)) out.push(tag);
    } else problems.push({ path: [...path, i], message: "a tag is 1-64 of A-Z a-z 0-9 . _ : / -" });
  });
  return out;
}

// ---- conditions -------------------------------------------------------------------------------------------

const MATCH_KEYS: ReadonlySet<string> = new Set([
  "direction",
  "method",
  "requestUri",
  "from",
  "to",
  "listener",
  "sni",
  "caSet",
  "peer",
  "verification",
  "auth",
]);
const PEER_KEYS: ReadonlySet<string> = new Set([
  "subject",
  "issuer",
  "serial",
  "fingerprint",
  "san",
  "identity",
]);

function compileConditions(
  match: RuleMatchConfig,
  path: (string | number)[],
  problems: RuleProblem[],
): Condition[] {
  if (typeof match !== "object" || match === null) {
    problems.push({ path, message: "must be a mapping" });
    return [];
  }
  for (const key of Object.keys(match)) {
    if (!MATCH_KEYS.has(key)) problems.push({ path: [...path, key], message: "unknown match field" });
  }
  const out: Condition[] = [];
  const add = <T>(
    key: string,
    config: MatchConfig | undefined,
    field: Field<T>,
    at = [...path, key],
  ): void => {
    if (config === undefined) return;
    const matcher = compileMatch(config, field, at, problems);
    if (matcher !== undefined) out.push(matcher);
  };
  add("method", match.method, METHOD);
  add(
    "requestUri",
    match.requestUri,
    uriField((f) => f.requestUri),
  );
  add(
    "from",
    match.from,
    uriField((f) => f.from),
  );
  add(
    "to",
    match.to,
    uriField((f) => f.to),
  );
  add(
    "listener",
    match.listener,
    textField((f) => one(f.tls?.listener)),
  );
  add(
    "sni",
    match.sni,
    nameField((f) => one(f.tls?.sni)),
  );
  add(
    "caSet",
    match.caSet,
    textField((f) => one(f.tls?.caSet)),
  );
  add(
    "verification",
    match.verification,
    enumField(VERIFICATION_METHODS, (f) => one(f.tls?.method)),
  );
  add(
    "auth",
    match.auth,
    enumField(AUTH_OK_CODES, (f) => one(f.auth)),
  );
  const peer = match.peer;
  if (peer === undefined) return out;
  const peerPath = [...path, "peer"];
  if (typeof peer !== "object" || peer === null) {
    problems.push({ path: peerPath, message: "must be a mapping" });
    return out;
  }
  for (const key of Object.keys(peer)) {
    if (!PEER_KEYS.has(key)) problems.push({ path: [...peerPath, key], message: "unknown peer field" });
  }
  const addPeer = (key: keyof PeerMatchConfig, field: Field<string>): void =>
    add(key, peer[key], field, [...peerPath, key]);
  addPeer(
    "subject",
    dnField((f) => one(f.tls?.subject)),
  );
  addPeer(
    "issuer",
    dnField((f) => one(f.tls?.issuer)),
  );
  addPeer(
    "serial",
    serialField((f) => one(f.tls?.serial)),
  );
  addPeer(
    "fingerprint",
    fingerprintField((f) => one(f.tls?.fingerprint)),
  );
  addPeer("san", nameField(sanValues));
  addPeer(
    "identity",
    nameField((f) => f.tls?.identities),
  );
  return out;
}

function one(value: string | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : [value];
}

function sanValues(facts: RequestFacts): readonly string[] | undefined {
  const san = facts.tls?.san;
  if (san === undefined) return undefined;
  return [...san.uri, ...san.dns, ...san.email, ...san.ip];
}

export const VERIFICATION_METHODS: readonly VerificationMethod[] = [
  "dane-ee",
  "dane-ta",
  "pkix+rfc5922",
  "mapping",
  "none",
];

/** auth/authorize.ts AuthOkCode: rules run only for authorized requests (a denial answers first). */
export const AUTH_OK_CODES: readonly string[] = [
  "trusted-peer",
  "covered-by-domain",
  "covered-by-uri",
  "covered-by-mapping",
  "in-dialog-skipped",
];

// ---- fields and value matchers ----------------------------------------------------------------------------

type Test<T> = (value: T) => boolean;

/** How a field reads its values and what `exact` and `suffix` mean for it. */
interface Field<T> {
  values(facts: RequestFacts): readonly T[] | undefined;
  /** Compiles an exact value; a string result is a problem message. */
  exact(value: string): Test<T> | string;
  suffix(value: string): Test<T> | string;
  /** The text a regular expression is tested against (as accounting records show it); absent: no regex. */
  readonly text?: (value: T) => string;
}

type Problem = { readonly message: string; readonly key?: string };

function compileMatch<T>(
  config: MatchConfig,
  field: Field<T>,
  path: (string | number)[],
  problems: RuleProblem[],
): Condition | undefined {
  const list: readonly MatchValueConfig[] = Array.isArray(config) ? config : [config as MatchValueConfig];
  if (list.length === 0) {
    problems.push({ path, message: "an empty list never matches" });
    return undefined;
  }
  const tests: Test<T>[] = [];
  list.forEach((value, i) => {
    const result = valueTest(value, field);
    const at = Array.isArray(config) ? [...path, i] : path;
    if (typeof result === "function") tests.push(result);
    else
      problems.push({ path: result.key === undefined ? at : [...at, result.key], message: result.message });
  });
  if (tests.length !== list.length) return undefined;
  return (facts) => {
    const values = field.values(facts);
    if (values === undefined) return false;
    for (const value of values) for (const test of tests) if (test(value)) return true;
    return false;
  };
}

function valueTest<T>(value: MatchValueConfig, field: Field<T>): Test<T> | Problem {
  if (typeof value === "string") return orProblem(field.exact(value));
  if (typeof value !== "object" || value === null) {
    return { message: "must be a string or one of {exact}, {suffix}, {regex}" };
  }
  const keys = Object.keys(value);
  const [kind] = keys;
  if (keys.length !== 1 || kind === undefined) return { message: "use exactly one of exact, suffix, regex" };
  const text: unknown = (value as Record<string, unknown>)[kind];
  if (typeof text !== "string" || text.length === 0)
    return { message: "must be a non-empty string", key: kind };
  if (kind === "exact") return orProblem(field.exact(text), kind);
  if (kind === "suffix") return orProblem(field.suffix(text), kind);
  if (kind !== "regex") return { message: "use exactly one of exact, suffix, regex", key: kind };
  const show = field.text;
  if (show === undefined) return { message: "regular expressions are not supported here", key: kind };
  const re = compileRegex(text);
  return typeof re === "string" ? { message: re, key: kind } : (x) => re.test(show(x));
}

function orProblem<T>(result: Test<T> | string, key?: string): Test<T> | Problem {
  return typeof result === "string" ? { message: result, ...(key !== undefined ? { key } : {}) } : result;
}

/** Compiled once at load. Case-insensitive like every other comparison here; `u` for full Unicode. */
function compileRegex(source: string): RegExp | string {
  try {
    return new RegExp(source, "iu");
  } catch (err) {
    return `invalid regular expression: ${(err as Error).message}`;
  }
}

const identity = (s: string): string => s;
const lower = (s: string): string => s.toLowerCase();

/**
 * Normalizing a value (DN spacing, host extraction) costs more than comparing it, and the values repeat:
 * the same peer certificate's fields on every request of a connection. A small memo per normalization,
 * cleared when full, so hostile variety only costs the recomputation.
 */
const MEMO_LIMIT = 1024;

function memo(fn: (value: string) => string): (value: string) => string {
  const known = new Map<string, string>();
  return (value) => {
    let out = known.get(value);
    if (out === undefined) {
      out = fn(value);
      if (known.size >= MEMO_LIMIT) known.clear();
      known.set(value, out);
    }
    return out;
  };
}

type Values = Field<string>["values"];

/** Case-insensitive text (listener and CA set names). */
function textField(values: Values): Field<string> {
  return {
    values,
    exact: (v) => {
      const want = lower(v);
      return (x) => lower(x) === want;
    },
    suffix: (v) => {
      const want = lower(v);
      return (x) => lower(x).endsWith(want);
    },
    text: identity,
  };
}

/** RFC 3261 §7.1: the method is case-sensitive, so exact and suffix are too (regex stays case-insensitive). */
const METHOD: Field<string> = {
  values: (f) => [f.method],
  exact: (v) => (/^[A-Za-z0-9.!%*_+`'~-]+$/.test(v) ? (x) => x === v : "not a SIP method token"),
  suffix: (v) => (x) => x.endsWith(v),
  text: identity,
};

function enumField(allowed: readonly string[], values: Values): Field<string> {
  return {
    values,
    exact: (v) => (allowed.includes(v) ? (x) => x === v : `must be one of ${allowed.join(", ")}`),
    suffix: () => "only exact values are supported here",
  };
}

/**
 * DNS names and name-like identities (SNI, SAN entries, verified identities). `exact` compares whole names
 * case-insensitively without a trailing dot; `suffix` respects label boundaries (RFC 5922 §7.2 forbids
 * suffix matching for identities, so a rule must never turn `badexample.com` into `example.com`):
 * `example.com` matches `example.com` and any name below it, `.example.com` only names below it. For a URI
 * (`sip:bob@example.com`) or mailbox value, `suffix` applies to its host.
 */
function nameField(values: Values): Field<string> {
  return {
    values,
    exact: (v) => {
      const want = nameKey(v);
      return (x) => nameKey(x) === want;
    },
    suffix: (v) => {
      const test = hostSuffix(v);
      return typeof test === "string" ? test : (x) => test(hostOf(x));
    },
    text: identity,
  };
}

/** A label-boundary suffix test on a normalized host name. */
function hostSuffix(v: string): Test<string> | string {
  const s = normalizeDomain(v.startsWith(".") ? v.slice(1) : v);
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(s)) return "a suffix must be a DNS name";
  const below = `.${s}`;
  const orSelf = !v.startsWith(".");
  return (host) => host.endsWith(below) || (orSelf && host === s);
}

/** A value without scheme and user is a name: normalized; anything else compares case-insensitively. */
const nameKey = memo((value: string): string => (/[:@]/.test(value) ? lower(value) : normalizeDomain(value)));

/** The host of `sip:user@host;params`, `user@host` or `host`, normalized. */
const hostOf = memo(hostOfUncached);

function hostOfUncached(value: string): string {
  let rest = value;
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(rest);
  // `host:port` is not a scheme; `sip:192.0.2.1` and `https://host/` are.
  if (scheme && !/^[a-z0-9.-]+:\d+$/i.test(rest)) rest = rest.slice(scheme[0].length).replace(/^\/\//, "");
  const at = rest.lastIndexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  rest = rest.split(/[;?>/]/, 1)[0] ?? "";
  // A port (but not an IPv6 literal's colons) ends the host.
  if (!rest.startsWith("[")) rest = rest.split(":", 1)[0] ?? "";
  return normalizeDomain(rest);
}

/** Distinguished names as `CN=a, O=b`: whitespace around separators and ASCII case do not matter. */
const dnKey = memo((dn: string): string => lower(dn.trim().replace(/\s*([,=+])\s*/g, "$1")));

function dnField(values: Values): Field<string> {
  return {
    values,
    exact: (v) => {
      const want = dnKey(v);
      return (x) => dnKey(x) === want;
    },
    suffix: (v) => {
      const want = dnKey(v);
      return (x) => dnKey(x).endsWith(want);
    },
    text: identity,
  };
}

/** Serial numbers in hex, with or without colons and leading zeros. */
function serialField(values: Values): Field<string> {
  const key = (s: string): string => lower(s.replace(/:/g, "")).replace(/^0+(?=.)/, "");
  const bad = (v: string): string | undefined =>
    /^[0-9a-f:]+$/i.test(v) ? undefined : "a serial number is hex digits (colons allowed)";
  return {
    values,
    exact: (v) => {
      const want = key(v);
      return bad(v) ?? ((x) => key(x) === want);
    },
    suffix: (v) => {
      const want = lower(v.replace(/:/g, ""));
      return bad(v) ?? ((x) => key(x).endsWith(want));
    },
    text: identity,
  };
}

/** SHA-256 fingerprints, written `AB:CD:…` or as plain hex. */
function fingerprintField(values: Values): Field<string> {
  return {
    values,
    exact: (v) => {
      const want = normalizeFingerprint(v);
      return want === undefined ? "not a SHA-256 fingerprint (64 hex digits)" : (x) => x === want;
    },
    suffix: () => "only exact fingerprints are supported (a partial fingerprint is not an identity)",
  };
}

/**
 * Request-URI, From and To. A value with a scheme (`sip:bob@example.com`, `tel:+4930123`) compares the whole
 * URI: for SIP the user and host (and the port when the rule names one), ignoring sip/sips, parameters and
 * headers; tel URIs by RFC 3966 rules. A value without a scheme compares the host. `suffix` applies to the
 * host (label boundaries, as for names); `regex` to the canonical URI text (formatUri).
 */
function uriField(get: (facts: RequestFacts) => Uri | undefined): Field<Uri> {
  return {
    values: (facts) => {
      const uri = get(facts);
      return uri === undefined ? undefined : [uri];
    },
    exact: uriExact,
    suffix: (v) => {
      const test = hostSuffix(v);
      return typeof test === "string" ? test : (uri) => isSipUri(uri) && test(hostKey(uri));
    },
    text: formatUri,
  };
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function uriExact(value: string): Test<Uri> | string {
  if (HAS_SCHEME.test(value)) {
    const parsed = parseUri(value);
    if (!parsed.ok) return `not a valid URI: ${parsed.detail}`;
    const want = parsed.uri;
    return (got) => sameAddress(want, got);
  }
  const host = parseUri(`sip:${value}`);
  if (!host.ok || !isSipUri(host.uri) || host.uri.user !== undefined || host.uri.port !== undefined) {
    return "not a host name or address (write a whole URI with its scheme to match more)";
  }
  const wanted = hostKey(host.uri);
  return (got) => isSipUri(got) && hostKey(got) === wanted;
}

function hostKey(uri: SipUri): string {
  return uri.hostKind === "hostname" ? normalizeDomain(uri.host) : uri.host;
}

function sameAddress(want: Uri, got: Uri): boolean {
  if (isSipUri(want)) {
    if (!isSipUri(got) || hostKey(want) !== hostKey(got)) return false;
    if (want.port !== undefined && want.port !== got.port) return false;
    // RFC 3261 §19.1.4: the user part compares case-sensitively (escapes of unreserved characters decoded).
    return (want.user ?? "") === (got.user ?? "");
  }
  return uriEquals(want, got);
}
