/**
 * One decision per request (issue 7 §2): may it pass, and where does it go.
 *
 * Requests from the outside (a TLS connection, inbound or one we opened):
 *   1. per-message authorization (auth/authorize.ts): the From URI must be covered by the identities verified
 *      on the connection, unless the peer is trusted; a denial answers 403 (400 for a malformed From) with
 *      the fixed reason phrase of its code, and nothing else is looked at;
 *   2. routing rules (routing-rules.ts), first deciding match wins: forward to an inner group, reject, tags;
 *   3. default: forward to the inner group `default`, with the identity header value (identity-header.ts).
 * Requests from the inside: routing rules for `direction: outbound`, default forward to the outside (the
 * outbound procedure, RFC 3263 + DANE/RFC 5922, is the core's and the transport's job).
 *
 * decide() never throws: a header that does not parse is treated as absent (From: malformed-from).
 */
import {
  authorizeRequest,
  reasonPhrase,
  responseStatus,
  type AuthPolicy,
  type AuthResult,
} from "../../auth/authorize.js";
import type { SipMessage } from "../../sip/message.js";
import type { Uri } from "../../sip/uri.js";
import type { Flow } from "../core/flow.js";
import { identityHeaderValue } from "./identity-header.js";
import {
  compileRoutingRules,
  type Direction,
  type ForwardTarget,
  type RequestFacts,
  type RoutingRuleConfig,
  type RoutingRules,
  type RuleAction,
  type RuleOutcome,
} from "./routing-rules.js";
import { tlsPeer, type TlsAttributes } from "./tls-attributes.js";

export type PolicyDecision =
  | {
      readonly action: "forward";
      readonly to: ForwardTarget;
      readonly identityHeaderValue?: string;
      readonly auth?: AuthResult;
      readonly rule?: string;
      readonly tags: readonly string[];
    }
  | {
      readonly action: "reject";
      readonly status: number;
      readonly reason: string;
      readonly code: string;
      readonly auth?: AuthResult;
      readonly rule?: string;
      readonly tags: readonly string[];
    };

export interface RequestPolicy {
  decide(flow: Flow, request: SipMessage): PolicyDecision;
}

export interface RequestPolicySettings {
  /** Trusted peers, CA rights, skipInDialog (compiled: caRights from auth/ca-rights.ts compileCaRights). */
  readonly authorization?: AuthPolicy;
  /** Rules as configured (compiled here; throws RoutingRuleError) or already compiled. */
  readonly rules?: readonly RoutingRuleConfig[] | RoutingRules;
  /** Inner server groups that exist, to check `forward` targets when compiling configured rules. */
  readonly groups?: readonly string[];
  /** Inner group for inbound requests no rule routed; default `default`. */
  readonly defaultGroup?: string;
}

export const DEFAULT_GROUP = "default";

const NO_TAGS: readonly string[] = Object.freeze([]);

export function createRequestPolicy(settings: RequestPolicySettings = {}): RequestPolicy {
  const rules = compiled(settings);
  const authorization = settings.authorization ?? {};
  const fallback: ForwardTarget = { kind: "inner", group: settings.defaultGroup ?? DEFAULT_GROUP };
  return {
    decide(flow: Flow, request: SipMessage): PolicyDecision {
      return flow.side === "outside"
        ? decideInbound(flow.tls, request, authorization, rules, fallback)
        : decideOutbound(request, rules);
    },
  };
}

function compiled(settings: RequestPolicySettings): RoutingRules {
  const rules = settings.rules ?? [];
  if (!Array.isArray(rules)) return rules as RoutingRules;
  return compileRoutingRules(rules as readonly RoutingRuleConfig[], {
    ...(settings.groups !== undefined ? { groups: settings.groups } : {}),
  });
}

function decideInbound(
  tls: TlsAttributes | undefined,
  request: SipMessage,
  authorization: AuthPolicy,
  rules: RoutingRules,
  fallback: ForwardTarget,
): PolicyDecision {
  const facts = new MessageFacts("inbound", request, tls);
  const auth = authorize(tls, request, facts, authorization);
  if (!auth.ok) {
    // RFC 3261 §21.4.4 (403) / §21.4.1 (400): the reason phrase is fixed per code, never peer data.
    const status = responseStatus(auth) ?? 403;
    return { action: "reject", status, reason: reasonPhrase(auth), code: auth.code, auth, tags: NO_TAGS };
  }
  facts.auth = auth.code;
  const outcome = rules.evaluate(facts);
  const action = outcome.action;
  if (action?.kind === "reject") return rejection(action, outcome, auth);
  const to = action?.kind === "forward" ? action.to : fallback;
  return {
    action: "forward",
    to,
    // The header is for the inner servers only; a request relayed outside carries none (issue 7 §2).
    ...(to.kind === "inner" ? { identityHeaderValue: identityHeaderValue(tls, auth) } : {}),
    auth,
    ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}),
    tags: outcome.tags,
  };
}

function decideOutbound(request: SipMessage, rules: RoutingRules): PolicyDecision {
  const outcome = rules.evaluate(new MessageFacts("outbound", request, undefined));
  const action = outcome.action;
  if (action?.kind === "reject") return rejection(action, outcome, undefined);
  const to: ForwardTarget = action?.kind === "forward" ? action.to : OUTSIDE_TARGET;
  return {
    action: "forward",
    to,
    ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}),
    tags: outcome.tags,
  };
}

const OUTSIDE_TARGET: ForwardTarget = Object.freeze({ kind: "outside" });

function rejection(
  action: Extract<RuleAction, { kind: "reject" }>,
  outcome: RuleOutcome,
  auth: AuthResult | undefined,
): PolicyDecision {
  return {
    action: "reject",
    status: action.status,
    reason: action.reason,
    code: action.code,
    ...(auth !== undefined ? { auth } : {}),
    ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}),
    tags: outcome.tags,
  };
}

/**
 * The peer on the connection: the identities verified on it (inbound: certificate + CN mapping; on a
 * connection we opened: what the outbound procedure verified, see tls-attributes.ts). No TLS context or no
 * verified certificate → no peer → `no-client-cert`.
 */
function authorize(
  tls: TlsAttributes | undefined,
  request: SipMessage,
  facts: MessageFacts,
  policy: AuthPolicy,
): AuthResult {
  const peer = tls === undefined ? undefined : tlsPeer(tls);
  // An unparsable From is passed as "" so that authorization reports it as malformed-from (400).
  return authorizeRequest(
    peer,
    { method: facts.method, fromUri: facts.from ?? "", toTag: toTag(request) },
    policy,
  );
}

function toTag(request: SipMessage): string | undefined {
  try {
    return request.to.tag;
  } catch {
    return undefined;
  }
}

/** Request facts for the rules, each parsed at most once and only when a rule asks. */
class MessageFacts implements RequestFacts {
  auth: string | undefined = undefined;
  readonly method: string;
  private requestUriMemo: Uri | undefined | null = null;
  private fromMemo: Uri | undefined | null = null;
  private toMemo: Uri | undefined | null = null;

  constructor(
    readonly direction: Direction,
    private readonly request: SipMessage,
    readonly tls: TlsAttributes | undefined,
  ) {
    this.method = request.method ?? "";
  }

  get requestUri(): Uri | undefined {
    if (this.requestUriMemo === null) this.requestUriMemo = attempt(() => this.request.requestUri);
    return this.requestUriMemo;
  }

  get from(): Uri | undefined {
    if (this.fromMemo === null) this.fromMemo = attempt(() => this.request.from.uri);
    return this.fromMemo;
  }

  get to(): Uri | undefined {
    if (this.toMemo === null) this.toMemo = attempt(() => this.request.to.uri);
    return this.toMemo;
  }
}

/** SipMessage accessors throw SipParseError on a malformed header; for routing that header is absent. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
