/**
 * `siptrust check <sip-or-sips-uri>`: runs the outbound procedure (DESIGN.md "Outbound", src/tls/outbound.ts)
 * against a SIP domain and explains every step, as posttls-finger does for SMTP. Exit 0 when a target
 * verified, 1 when none did, 2 for usage errors and unreadable files.
 */
import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import type { Command } from "commander";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import { DnsClient } from "../../dns/client.js";
import { DnsConfigError } from "../../dns/errors.js";
import type { TrustAnchor } from "../../pki/chain.js";
import { checkKeyMatchesCertificate, parseCertificates, parsePrivateKey } from "../../pki/load.js";
import { getUriParam, isSipUri, parseUri, type SipUri } from "../../sip/uri.js";
import type { ClientCredentials } from "../../tls/client-handshake.js";
import { verifyOutbound, type OutboundDestination } from "../../tls/outbound.js";
import { DnsOutboundResolver } from "../../tls/resolver-adapter.js";
import { cliOutput, printJson, readInputFile, withLoadErrors } from "./cert.js";
import { checkJson, checkText } from "./check-report.js";

interface CheckOptions {
  resolver?: string;
  trustResolver: boolean;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  timeout: string;
  json: boolean;
}

/** Bounds for --timeout: long enough for a slow handshake, short enough that `check` always ends. */
const TIMEOUT_RANGE = { min: 100, max: 60_000 } as const;
/** DNS attempts are retried, so each gets at most this long (or --timeout when smaller). */
const DNS_ATTEMPT_MS = 2000;

export function registerCheckCommands(program: Command): void {
  program
    .command("check")
    .description(
      "locate a SIP domain's servers (RFC 3263), connect with TLS and verify them (DANE or RFC 5922)",
    )
    .argument("<uri>", "a sip: or sips: URI, e.g. sips:alice@example.com")
    .option(
      "--resolver <host:port>",
      "validating DNS resolver (default: first nameserver in /etc/resolv.conf)",
    )
    .option("--trust-resolver", "believe the AD bit of a resolver that is not on loopback", false)
    .option("--ca <pem>", "CA certificates for RFC 5922 / PKIX validation (default: Node's root CAs)")
    .option("--client-cert <pem>", "client certificate chain to present (needs --client-key)")
    .option("--client-key <pem>", "private key of --client-cert")
    .option("--timeout <ms>", "TLS handshake timeout per target, in milliseconds", "5000")
    .option("--json", "machine-readable output", false)
    .action(checkAction);
}

async function checkAction(text: string, opts: CheckOptions): Promise<void> {
  const uri = parseSipUri(text);
  const timeoutMs = parseTimeout(opts.timeout);
  const anchors = await loadAnchors(opts.ca);
  const clientCredentials = await loadClientCredentials(opts.clientCert, opts.clientKey);
  const client = makeDnsClient(opts, timeoutMs);
  const resolver = new DnsOutboundResolver(client, {
    resolverLabel: client.resolverLabel,
    adTrusted: client.endpoint.adTrusted,
  });
  const result = await verifyOutbound(text, destinationOf(uri), {
    resolver,
    anchors,
    clientCredentials,
    handshakeTimeoutMs: timeoutMs,
  });
  if (opts.json) printJson(checkJson(result));
  else cliOutput.out(checkText(result));
  process.exitCode = result.ok ? EXIT_OK : EXIT_NO;
}

function parseSipUri(text: string): SipUri {
  const parsed = parseUri(text);
  if (!parsed.ok) throw new UsageError(`not a valid URI at offset ${parsed.offset}: ${parsed.detail}`);
  if (!isSipUri(parsed.uri)) throw new UsageError(`"${text}" is not a sip: or sips: URI`);
  return parsed.uri;
}

function destinationOf(uri: SipUri): OutboundDestination {
  const transport = getUriParam(uri, "transport");
  return {
    scheme: uri.scheme,
    host: uri.host,
    ...(uri.port !== undefined ? { port: uri.port } : {}),
    ...(typeof transport === "string" ? { transport } : {}),
  };
}

function parseTimeout(text: string): number {
  const ms = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= TIMEOUT_RANGE.min && ms <= TIMEOUT_RANGE.max)) {
    throw new UsageError(`--timeout must be ${TIMEOUT_RANGE.min}..${TIMEOUT_RANGE.max} milliseconds`);
  }
  return ms;
}

function makeDnsClient(opts: CheckOptions, timeoutMs: number): DnsClient {
  try {
    return new DnsClient({
      resolver: opts.resolver,
      trusted: opts.trustResolver,
      timeoutMs: Math.min(timeoutMs, DNS_ATTEMPT_MS),
    });
  } catch (err) {
    if (err instanceof DnsConfigError) throw new UsageError(`${err.message} [${err.code}]`);
    throw err;
  }
}

/** --ca file, else the Mozilla CA set Node is built with (what a public SIP server is most likely to chain to). */
async function loadAnchors(path: string | undefined): Promise<TrustAnchor[]> {
  if (path === undefined) return rootCertificates.map((pem) => ({ cert: new X509Certificate(pem) }));
  const data = await readInputFile(path);
  return withLoadErrors(() => parseCertificates(data, path)).map((cert) => ({ cert }));
}

async function loadClientCredentials(
  certPath: string | undefined,
  keyPath: string | undefined,
): Promise<ClientCredentials | undefined> {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined)
    throw new UsageError("--client-cert and --client-key go together");
  const [cert, key] = await Promise.all([readInputFile(certPath), readInputFile(keyPath)]);
  // Check the pair here so that a mismatch is a usage error, not a confusing handshake failure.
  withLoadErrors(() => {
    const leaf = parseCertificates(cert, certPath)[0] as X509Certificate;
    checkKeyMatchesCertificate(parsePrivateKey(key, keyPath), leaf, keyPath);
  });
  return { cert, key };
}
