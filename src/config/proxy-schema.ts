/**
 * Configuration of the proxy (issue 7): the `proxy`, `accounting` and `admin` sections, validated with zod.
 * schema.ts composes them into the edge configuration; docs/config.md and docs/routing.md describe every key.
 * Every key has a default, so a file without these sections runs the embedded-default layout: inside socket
 * 127.0.0.1:5080/UDP, inner server 127.0.0.1:5060/UDP, admin API on 127.0.0.1:8061.
 *
 * Routing rules are checked here completely (regular expressions compiled, fingerprints and URIs parsed,
 * forward targets resolved against innerServers) by the same code that runs them, so a bad rule refuses the
 * load or reload with its key, never a request at run time.
 */
import { z } from "zod";
import { headerSpec } from "../sip/headers.js";
import { checkRoutingRules, OUTSIDE, type RoutingRuleConfig } from "../proxy/policy/routing-rules.js";
import { duration } from "./duration.js";

const path = z.string().min(1, "a file path is required");
const port = z.number().int().min(1).max(65535);
const ipAddress = z.string().ip({ message: "an IPv4 or IPv6 address" });
const host = z
  .string()
  .min(1)
  .regex(/^(?:[A-Za-z0-9._-]+|\[?[0-9A-Fa-f:.]+\]?)$/, "a host name or IP address");

/** RFC 3261 §25.1 token: header field names are tokens. */
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

const identityHeader = z
  .string()
  .regex(TOKEN, "a header name (RFC 3261 token)")
  // The header is stripped from every outside message: naming a standard header would strip Via, From, ….
  .refine((name) => headerSpec(name) === undefined, {
    message: "must not be a standard SIP header name (it is removed from every message from outside)",
  });

export const innerTargetSchema = z
  .object({
    address: ipAddress,
    port: port.default(5060),
    transport: z.enum(["udp", "tcp"]).default("udp"),
  })
  .strict();

const GROUP = /^[A-Za-z0-9._-]{1,64}$/;

const innerServers = z
  .record(
    z.string().regex(GROUP, "a group name (letters, digits, . _ -)"),
    z.array(innerTargetSchema).min(1, "a group needs at least one server"),
  )
  .default({ default: [{ address: "127.0.0.1", port: 5060, transport: "udp" }] })
  .superRefine((groups, ctx) => {
    if (!Object.hasOwn(groups, "default")) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'a group named "default" is required (requests no routing rule forwards go there)',
      });
    }
    if (Object.hasOwn(groups, OUTSIDE)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [OUTSIDE],
        message: `"${OUTSIDE}" is reserved: \`forward: ${OUTSIDE}\` means the outside`,
      });
    }
  });

// ---- routing rules (structure here; meaning checked by checkRoutingRules) --------------------------------

const nonEmpty = z.string().min(1);
const matchValue = z.union([
  nonEmpty,
  z.object({ exact: nonEmpty }).strict(),
  z.object({ suffix: nonEmpty }).strict(),
  z.object({ regex: nonEmpty }).strict(),
]);
const matchConfig = z.union([matchValue, z.array(matchValue).min(1)]);

const peerMatch = z
  .object({
    subject: matchConfig.optional(),
    issuer: matchConfig.optional(),
    serial: matchConfig.optional(),
    fingerprint: matchConfig.optional(),
    san: matchConfig.optional(),
    identity: matchConfig.optional(),
  })
  .strict();

const ruleMatch = z
  .object({
    direction: z.enum(["inbound", "outbound", "any"]).optional(),
    method: matchConfig.optional(),
    requestUri: matchConfig.optional(),
    from: matchConfig.optional(),
    to: matchConfig.optional(),
    listener: matchConfig.optional(),
    sni: matchConfig.optional(),
    caSet: matchConfig.optional(),
    peer: peerMatch.optional(),
    verification: matchConfig.optional(),
    auth: matchConfig.optional(),
  })
  .strict();

export const routingRuleSchema = z
  .object({
    name: nonEmpty.optional(),
    match: ruleMatch.optional(),
    forward: nonEmpty.optional(),
    reject: z
      .object({
        status: z.number().int().min(400).max(699),
        reason: nonEmpty,
        code: nonEmpty.optional(),
      })
      .strict()
      .optional(),
    tags: z.array(nonEmpty).optional(),
  })
  .strict();

// ---- sections ---------------------------------------------------------------------------------------------

export const proxyTimersSchema = z
  .object({
    /** RFC 3261 §17.1.1.1 T1: RTT estimate (500 ms). */
    t1: duration.default("500ms"),
    /** T2: maximum retransmit interval for non-INVITE requests and INVITE responses (4 s). */
    t2: duration.default("4s"),
    /** T4: maximum time a message stays in the network (5 s). */
    t4: duration.default("5s"),
    /** §16.6 step 11 Timer C: proxy INVITE transaction timeout, "greater than 3 minutes". */
    timerC: duration.default("180s"),
    /** A branch to an inner or outer target that stays silent this long fails over to the next target. */
    failoverAfter: duration.default("5s"),
  })
  .strict()
  .superRefine((t, ctx) => {
    const positive = (key: "t1" | "t2" | "t4" | "timerC"): void => {
      if (t[key] <= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: "must be > 0" });
    };
    positive("t1");
    positive("t2");
    positive("t4");
    positive("timerC");
    if (t.t2 < t.t1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["t2"], message: "must be ≥ t1" });
  });

export const proxySchema = z
  .object({
    /** Our socket on the inner network (Via/Record-Route towards the inner servers; bound by the edge). */
    inside: z
      .object({
        address: ipAddress.default("127.0.0.1"),
        port: port.default(5080),
        transport: z.enum(["udp", "tcp"]).default("udp"),
      })
      .strict()
      .default({}),
    /** Inner SIP servers by group; `default` receives what no rule routes elsewhere. Tried in order. */
    innerServers,
    /** Header carrying the verified peer identity inside; stripped from everything arriving from outside. */
    identityHeader: identityHeader.default("X-Siptrust-Identity"),
    /** Host (and port) for Via and Record-Route towards the outside; default: the first listener's address. */
    outsideHost: host.optional(),
    outsidePort: port.optional(),
    /** Ordered routing rules (docs/routing.md). */
    routing: z.array(routingRuleSchema).default([]),
    timers: proxyTimersSchema.default({}),
    /** Concurrent server transactions beyond which new requests get 503 with Retry-After. */
    maxTransactions: z.number().int().min(1).default(100_000),
  })
  .strict()
  .superRefine((proxy, ctx) => {
    const problems = checkRoutingRules(proxy.routing as RoutingRuleConfig[], {
      groups: Object.keys(proxy.innerServers),
    });
    for (const problem of problems) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["routing", ...problem.path],
        message: problem.message,
      });
    }
  });

export const accountingSchema = z
  .object({
    /** One JSON line per transaction, appended; absent = no accounting. Reopened on every reload. */
    file: path.optional(),
    /** The only format: JSON Lines with the fields of docs/routing.md "Accounting". */
    format: z.literal("jsonl").default("jsonl"),
  })
  .strict();

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;

export const adminSchema = z
  .object({
    address: ipAddress.default("127.0.0.1"),
    port: port.default(8061),
    /** File holding the bearer token (first line); absent = no token (loopback only). */
    tokenFile: path.optional(),
  })
  .strict()
  .superRefine((admin, ctx) => {
    // The API can reload the configuration: off loopback it must not be open to anyone who can connect.
    if (!LOOPBACK.test(admin.address) && admin.tokenFile === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["tokenFile"],
        message: `required when the admin API listens on ${admin.address} (not loopback)`,
      });
    }
  });

export type ProxyConfig = z.output<typeof proxySchema>;
export type ProxyTimersConfig = z.output<typeof proxyTimersSchema>;
export type InnerTargetConfig = z.output<typeof innerTargetSchema>;
export type RoutingRuleSchemaOutput = z.output<typeof routingRuleSchema>;
export type AccountingConfig = z.output<typeof accountingSchema>;
export type AdminConfig = z.output<typeof adminSchema>;
