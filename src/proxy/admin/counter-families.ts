/**
 * How the edge's dotted event counters (transport/counters.ts) become Prometheus metric families.
 *
 * Counters are named where the event happens (`proxy.requests.INVITE.forwarded`, `tls.client.expired`,
 * `outbound.failed.dane-no-match`); operators want a few families with labels instead. Each rule below
 * claims the names of one family and splits them into labels; a name no rule claims is still exported, as
 * `siptrust_events_total{name="<dotted name>"}`, so no counted event is hidden from the scrape.
 *
 * Label values come from our own code (reason codes, response classes, SIP method tokens). A method is
 * whatever a peer sent, so the core must bound it; here it is only split, never trusted to be short.
 */

export type LabelSet = Readonly<Record<string, string>>;

export interface CounterFamily {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

export interface Classified {
  readonly family: CounterFamily;
  readonly labels: LabelSet;
}

export const EVENTS_FAMILY: CounterFamily = {
  name: "siptrust_events_total",
  help: "Every counted event that no specific family covers, by its dotted counter name",
  labelNames: ["name"],
};

/** One rule: a prefix of dotted segments and how the rest of the name becomes labels (undefined = no match). */
interface Rule {
  readonly prefix: string;
  readonly family: CounterFamily;
  readonly labels: (rest: readonly string[], name: string) => LabelSet | undefined;
}

// Verification outcomes a TLS client may have and still be served (tls/client-verification.ts).
const CLIENT_OK_CODES = new Set(["client-verified", "no-client-cert", "client-cert-ignored"]);
// tls/ocsp-policy.ts: the outcomes that let the connection through.
const OCSP_OK_CODES = new Set(["ocsp-off", "ocsp-good", "ocsp-soft-fail"]);

// dns/locator.ts LocateFailureCode and tls/outbound.ts's own DNS failures.
const DNS_CODES = new Set([
  "dns-bogus",
  "dnssec-bogus",
  "dns-error",
  "no-targets",
  "service-unavailable",
  "bad-input",
  "transport-not-allowed",
]);
// tls/client-handshake.ts: failures before any certificate could be judged.
const CONNECT_CODES = new Set(["connect-failed", "tls-error", "handshake-timeout", "no-certificate"]);

/**
 * Which step of the outbound procedure (RFC 3263 location, DANE per RFC 7673, the TLS handshake, OCSP, or
 * certificate validation with RFC 5922 matching) an outbound failure code belongs to.
 */
export function outboundStage(code: string): "dns" | "dane" | "tls" | "ocsp" | "certificate" {
  if (DNS_CODES.has(code)) return "dns";
  if (code.startsWith("tlsa-") || code.startsWith("dane-")) return "dane";
  if (CONNECT_CODES.has(code)) return "tls";
  if (code.startsWith("ocsp-")) return "ocsp";
  return "certificate";
}

const family = (name: string, help: string, labelNames: readonly string[]): CounterFamily => ({
  name,
  help,
  labelNames,
});

export const FAMILIES = {
  requests: family("siptrust_requests_total", "SIP requests by method and outcome", ["method", "outcome"]),
  responses: family("siptrust_responses_total", "SIP responses by status class", ["class"]),
  authFailures: family(
    "siptrust_authorization_failures_total",
    "Requests refused by per-message authorization, by reason code",
    ["code"],
  ),
  authSuccesses: family(
    "siptrust_authorization_successes_total",
    "Requests allowed by per-message authorization, by reason code",
    ["code"],
  ),
  transactions: family("siptrust_transactions_total", "Transactions created, by kind", ["kind"]),
  dropped: family("siptrust_dropped_total", "Messages dropped without an answer, by reason", ["reason"]),
  handshakes: family(
    "siptrust_tls_handshakes_total",
    "Inbound TLS handshakes and client-certificate verifications, by result and code",
    ["result", "code"],
  ),
  clientOcsp: family(
    "siptrust_tls_client_ocsp_total",
    "OCSP checks of inbound client certificates, by result and code",
    ["result", "code"],
  ),
  accepted: family(
    "siptrust_connections_accepted_total",
    "Inbound TLS connections accepted after the handshake and client verification",
    [],
  ),
  outbound: family(
    "siptrust_outbound_connections_total",
    "Outbound connection requests: opened, reused, shared or failed (stage dns|dane|tls|ocsp|certificate, code)",
    ["result", "stage", "code"],
  ),
  outboundClosed: family("siptrust_outbound_closed_total", "Outbound connections closed, by reason", [
    "reason",
  ]),
  reloads: family("siptrust_reloads_total", "Configuration reloads, by result", ["result"]),
  reloadRevalidation: family(
    "siptrust_reload_revalidation_failures_total",
    "Connections that lost trust when a reload re-checked them, by code",
    ["code"],
  ),
  limits: family("siptrust_limits_hit_total", "Resource limits that refused or closed something", ["limit"]),
  messages: family("siptrust_sip_messages_total", "SIP messages received, by transport", ["transport"]),
  malformed: family(
    "siptrust_sip_malformed_total",
    "Malformed or unframeable SIP input, by transport and code",
    ["transport", "code"],
  ),
  staple: family("siptrust_ocsp_staple_events_total", "OCSP stapling refreshes, by event", ["event"]),
} as const;

const joined = (rest: readonly string[]): string | undefined =>
  rest.length > 0 ? rest.join(".") : undefined;
const only = (rest: readonly string[], value: LabelSet): LabelSet | undefined =>
  rest.length === 0 ? value : undefined;
const one = (key: string) => (rest: readonly string[]) => {
  const value = joined(rest);
  return value === undefined ? undefined : { [key]: value };
};

const RULES: readonly Rule[] = [
  {
    prefix: "proxy.requests",
    family: FAMILIES.requests,
    // The outcome is the last segment; a method token may itself contain dots (RFC 3261 §25.1 token).
    labels: (rest) =>
      rest.length >= 2
        ? { method: rest.slice(0, -1).join("."), outcome: rest[rest.length - 1] as string }
        : undefined,
  },
  { prefix: "proxy.responses", family: FAMILIES.responses, labels: one("class") },
  { prefix: "proxy.auth.denied", family: FAMILIES.authFailures, labels: one("code") },
  { prefix: "proxy.auth.ok", family: FAMILIES.authSuccesses, labels: one("code") },
  { prefix: "proxy.transactions", family: FAMILIES.transactions, labels: one("kind") },
  { prefix: "proxy.dropped", family: FAMILIES.dropped, labels: one("reason") },
  {
    prefix: "tls.client.ocsp",
    family: FAMILIES.clientOcsp,
    labels: (rest) => withResult(rest, OCSP_OK_CODES),
  },
  { prefix: "tls.client", family: FAMILIES.handshakes, labels: (rest) => withResult(rest, CLIENT_OK_CODES) },
  {
    prefix: "tls",
    family: FAMILIES.handshakes,
    labels: (rest) =>
      rest.length === 1 && (rest[0] === "handshake-failed" || rest[0] === "handshake-timeout")
        ? { result: "failed", code: rest[0] }
        : undefined,
  },
  { prefix: "tls.accepted", family: FAMILIES.accepted, labels: (rest) => only(rest, {}) },
  {
    prefix: "outbound.failed",
    family: FAMILIES.outbound,
    labels: (rest) => {
      const code = joined(rest);
      return code === undefined ? undefined : { result: "failed", stage: outboundStage(code), code };
    },
  },
  ...(["opened", "reused"] as const).map((result): Rule => ({
    prefix: `outbound.${result}`,
    family: FAMILIES.outbound,
    labels: (rest) => only(rest, { result, stage: "", code: "" }),
  })),
  {
    prefix: "outbound.shared-attempt",
    family: FAMILIES.outbound,
    labels: (rest) => only(rest, { result: "shared", stage: "", code: "" }),
  },
  { prefix: "outbound.closed", family: FAMILIES.outboundClosed, labels: one("reason") },
  { prefix: "reload.ok", family: FAMILIES.reloads, labels: (rest) => only(rest, { result: "ok" }) },
  { prefix: "reload.refused", family: FAMILIES.reloads, labels: (rest) => only(rest, { result: "refused" }) },
  { prefix: "reload.failed", family: FAMILIES.reloads, labels: (rest) => only(rest, { result: "failed" }) },
  { prefix: "reload.revalidate", family: FAMILIES.reloadRevalidation, labels: one("code") },
  { prefix: "limit", family: FAMILIES.limits, labels: one("limit") },
  { prefix: "sip.messages", family: FAMILIES.messages, labels: (rest) => only(rest, { transport: "tls" }) },
  { prefix: "sip.framing", family: FAMILIES.malformed, labels: (rest) => codeFor("tls", rest) },
  ...(["udp", "tcp"] as const).flatMap((transport): Rule[] => [
    {
      prefix: `inner.${transport}.messages`,
      family: FAMILIES.messages,
      labels: (rest) => only(rest, { transport }),
    },
    {
      prefix: `inner.${transport}.framing`,
      family: FAMILIES.malformed,
      labels: (rest) => codeFor(transport, rest),
    },
    {
      prefix: `inner.${transport}.malformed`,
      family: FAMILIES.malformed,
      labels: (rest) => codeFor(transport, rest),
    },
  ]),
  { prefix: "ocsp.staple", family: FAMILIES.staple, labels: one("event") },
];

function withResult(rest: readonly string[], okCodes: ReadonlySet<string>): LabelSet | undefined {
  const code = joined(rest);
  if (code === undefined) return undefined;
  return { result: okCodes.has(code) ? "ok" : "failed", code };
}

function codeFor(transport: string, rest: readonly string[]): LabelSet | undefined {
  const code = joined(rest);
  return code === undefined ? undefined : { transport, code };
}

/** The family and labels of one counter name; names no rule claims go to siptrust_events_total. */
export function classifyCounter(name: string): Classified {
  const parts = name.split(".");
  for (const rule of RULES) {
    const prefix = rule.prefix.split(".");
    if (!prefix.every((p, i) => parts[i] === p)) continue;
    const labels = rule.labels(parts.slice(prefix.length), name);
    if (labels) return { family: rule.family, labels };
  }
  return { family: EVENTS_FAMILY, labels: { name } };
}

export interface Sample {
  readonly labels: LabelSet;
  readonly value: number;
}

/** Groups a counters snapshot by family name; every counter lands in exactly one family. */
export function groupCounters(snapshot: Readonly<Record<string, number>>): Map<string, Sample[]> {
  const groups = new Map<string, Sample[]>();
  for (const [name, value] of Object.entries(snapshot)) {
    const { family: f, labels } = classifyCounter(name);
    const list = groups.get(f.name) ?? [];
    list.push({ labels, value });
    groups.set(f.name, list);
  }
  return groups;
}

/** Every family a counter can map to, for registering them up front (a scrape shows HELP/TYPE for all). */
export const COUNTER_FAMILIES: readonly CounterFamily[] = [...Object.values(FAMILIES), EVENTS_FAMILY];
