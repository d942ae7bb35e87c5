/**
 * The siptrust configuration file (YAML), validated with zod. Profiles in the spirit of Kamailio's tls.cfg:
 * named CA sets, listeners with their certificates (chosen by SNI) and client-certificate mode, a table of
 * client certificates per destination domain, and the authorization and connection policies.
 * docs/config.md describes every key; examples/ holds one file per DESIGN.md scenario.
 *
 * Paths are kept as written; the loader resolves them against the configuration file's folder.
 */
import { z } from "zod";
import { duration } from "./duration.js";
import { accountingSchema, adminSchema, proxySchema } from "./proxy-schema.js";

const path = z.string().min(1, "a file path is required");
/** A listening port; 0 = any free port (tests, and the embedded default's port overrides). */
const listenPort = z.number().int().min(0).max(65535);
const address = z.string().ip({ message: "an IPv4 or IPv6 address" });
const domain = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._-]+$/, "a DNS name (A-labels) without wildcards");

export const caSetSchema = z
  .object({
    /** PEM files, each with one or more CA certificates (trust anchors). */
    files: z.array(path).min(1),
    /** PEM or DER CRL files for the CAs of this set. */
    crls: z.array(path).default([]),
    /**
     * What a missing or expired CRL means for a certificate of this set: `require` rejects it,
     * `when-present` checks only the certificates whose issuer has a CRL here.
     */
    crlPolicy: z.enum(["require", "when-present"]).default("when-present"),
  })
  .strict();

export const serverCertificateSchema = z
  .object({
    cert: path,
    key: path,
    /** SNI names this certificate answers; default: its SIP domain identities and DNS SANs. */
    serverNames: z.array(domain).optional(),
  })
  .strict();

export const listenerSchema = z
  .object({
    name: z.string().min(1),
    address: address.default("127.0.0.1"),
    port: listenPort.default(5061),
    certificates: z.array(serverCertificateSchema).min(1),
    /** Index into `certificates` served when SNI is absent or unknown. */
    defaultCertificate: z.number().int().min(0).default(0),
    clientCertificates: z.enum(["ignore", "optional", "required"]).default("optional"),
    /** CA set that verifies clients; required unless clientCertificates is `ignore`. */
    clientCaSet: z.string().optional(),
    minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
  })
  .strict()
  .superRefine((listener, ctx) => {
    if (listener.clientCertificates !== "ignore" && !listener.clientCaSet) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["clientCaSet"],
        message: `required when clientCertificates is ${listener.clientCertificates}`,
      });
    }
    if (listener.defaultCertificate >= listener.certificates.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["defaultCertificate"],
        message: `there are only ${listener.certificates.length} certificates`,
      });
    }
  });

export const clientCertificateSchema = z
  .object({
    name: z.string().min(1),
    cert: path,
    key: path,
    /** Destination SIP domains this certificate is presented to (exact names). */
    domains: z.array(domain).default([]),
  })
  .strict();

export const outboundSchema = z
  .object({
    /** CA set for verifying servers (RFC 5922 path, PKIX-TA/PKIX-EE). */
    serverCaSet: z.string(),
    /** Validating resolver `host:port`; default: the first nameserver of /etc/resolv.conf. */
    resolver: z.string().optional(),
    /** Trust the AD bit of a resolver that is not on loopback (RFC 4035 §3.2.3 needs a secure path). */
    resolverTrusted: z.boolean().default(false),
    dane: z.boolean().default(true),
    clientCertificates: z.array(clientCertificateSchema).default([]),
    /** Name of the entry in clientCertificates presented to every other destination. */
    defaultClientCertificate: z.string().optional(),
    handshakeTimeout: duration.default("10s"),
  })
  .strict();

export const authorizationSchema = z
  .object({
    cnMappingFile: path.optional(),
    trustedIdentities: z.array(z.string()).default([]),
    trustedCaFingerprints: z.array(z.string()).default([]),
    caRights: z
      .object({
        rules: z.array(
          z
            .object({
              ca: z.union([
                z.object({ fingerprint: z.string() }).strict(),
                z.object({ name: z.string() }).strict(),
              ]),
              domains: z.array(z.string()).min(1),
            })
            .strict(),
        ),
        unlistedCas: z.enum(["allow", "deny"]).default("allow"),
      })
      .strict()
      .optional(),
    skipInDialog: z.boolean().default(false),
    emailAsSip: z.boolean().default(false),
    legacyWildcards: z.boolean().default(false),
  })
  .strict();

export const connectionsSchema = z
  .object({
    idleTimeout: duration.default("5m"),
    maxAge: duration.default("1h"),
    /** Grace period for running transactions on an expiring connection. */
    drainGrace: duration.default("32s"),
    onReload: z.enum(["keep", "drop", "revalidate"]).default("revalidate"),
    handshakeTimeout: duration.default("10s"),
    partialMessageTimeout: duration.default("30s"),
    maxConnections: z.number().int().min(1).default(10_000),
    maxConnectionsPerIp: z.number().int().min(1).default(200),
  })
  .strict();

/**
 * OCSP (DESIGN.md "Revocation and reload"). `policy` applies to client certificates on every listener and to
 * the servers we call; the outcome table is in src/tls/ocsp-policy.ts. Default `soft-fail`: a signed
 * "revoked" or "unknown" answer always rejects, while a responder that cannot be asked does not. `hard-fail`
 * is not the default because it rejects every certificate that names no OCSP responder (private CAs that
 * publish CRLs, factory device certificates); CRLs with `crlPolicy: require` are the fail-closed mechanism.
 */
export const ocspSchema = z
  .object({
    policy: z.enum(["off", "soft-fail", "hard-fail"]).default("soft-fail"),
    /** Staple our server certificates' status (needs an AIA OCSP URL and the issuer in the cert file). */
    staple: z.boolean().default(false),
    /** Bound on one responder exchange. */
    timeout: duration.default("5s"),
  })
  .strict();

export const edgeConfigSchema = z
  .object({
    caSets: z.record(z.string(), caSetSchema).default({}),
    listeners: z.array(listenerSchema).min(1),
    outbound: outboundSchema.optional(),
    authorization: authorizationSchema.default({}),
    connections: connectionsSchema.default({}),
    ocsp: ocspSchema.default({}),
    /** The proxy (issue 7): inside socket, inner servers, identity header, routing, timers. */
    proxy: proxySchema.default({}),
    accounting: accountingSchema.default({}),
    admin: adminSchema.default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const known = new Set(Object.keys(config.caSets));
    const requireCaSet = (name: string | undefined, at: Array<string | number>): void => {
      if (name !== undefined && !known.has(name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: at,
          message: `no CA set named "${name}" in caSets`,
        });
      }
    };
    config.listeners.forEach((l, i) => requireCaSet(l.clientCaSet, ["listeners", i, "clientCaSet"]));
    requireCaSet(config.outbound?.serverCaSet, ["outbound", "serverCaSet"]);
    const names = new Set(config.outbound?.clientCertificates.map((c) => c.name));
    const fallback = config.outbound?.defaultClientCertificate;
    if (fallback !== undefined && !names.has(fallback)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["outbound", "defaultClientCertificate"],
        message: `no client certificate named "${fallback}"`,
      });
    }
  });

export type EdgeConfig = z.output<typeof edgeConfigSchema>;
