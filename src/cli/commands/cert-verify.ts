/**
 * `siptrust cert verify <cert.pem> --ca <pem> [--chain <pem>] [--crl <pem>…] [--purpose server|client]
 * [--at <ISO time>] [--json]`: RFC 5280 path validation (pki/chain.ts) of a certificate file, with the
 * RFC 5924 EKU rule for the given TLS role. Exit 0 valid, 1 invalid, 2 usage or unreadable input.
 */
import type { X509Certificate } from "node:crypto";
import { Option, type Command } from "commander";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import { validateChain, type ChainResult } from "../../pki/chain.js";
import { CrlParseError, parseCrls, type Crl } from "../../pki/crl.js";
import { parseCertificates } from "../../pki/load.js";
import { certGroup, cliOutput, printJson, readInputFile, withLoadErrors } from "./cert.js";

interface VerifyOptions {
  ca: string[];
  chain: string[];
  crl: string[];
  purpose?: "server" | "client";
  at?: string;
  json: boolean;
}

// No default value for --ca: commander treats a default as "given" and would not enforce the option.
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerCertVerifyCommand(program: Command): void {
  certGroup(program)
    .command("verify")
    .description(
      "validate a certificate chain (RFC 5280 §6: signatures, dates, CA flags, path length, key usage, " +
        "name constraints, CRLs; RFC 5924 EKU with --purpose); exit 1 when invalid",
    )
    .argument("<cert.pem>", "leaf certificate (PEM/DER); further certificates in the file are intermediates")
    .requiredOption("--ca <pem>", "trust anchors (every certificate in the file); repeatable", collect)
    .option("--chain <pem>", "intermediate certificates; repeatable", collect, [])
    .option(
      "--crl <pem...>",
      "CRL files (PEM bundles or DER); every certificate below the anchor must be covered",
    )
    .addOption(
      new Option("--purpose <role>", "check the leaf's EKU for this TLS role (RFC 5924 §4)").choices([
        "server",
        "client",
      ]),
    )
    .option("--at <time>", "validation time, ISO 8601 (default: now)")
    .option("--json", "machine-readable output", false)
    .action(verifyAction);
}

async function verifyAction(file: string, options: VerifyOptions): Promise<void> {
  const at = parseTime(options.at);
  const [leaf, ...rest] = await readCertificates(file);
  const anchors = (await Promise.all(options.ca.map(readCertificates))).flat();
  const intermediates = [...rest, ...(await Promise.all(options.chain.map(readCertificates))).flat()];
  const crls = (await Promise.all((options.crl ?? []).map(readCrls))).flat();
  const result = validateChain({
    leaf: leaf as X509Certificate,
    intermediates,
    anchors: anchors.map((cert) => ({ cert })),
    crls,
    at,
    purpose: options.purpose ?? "any",
  });
  report(result, leaf as X509Certificate, options.json);
  process.exitCode = result.ok ? EXIT_OK : EXIT_NO;
}

function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new UsageError(`--at: not an ISO 8601 time: ${JSON.stringify(text)}`);
  }
  return new Date(ms);
}

async function readCertificates(path: string): Promise<X509Certificate[]> {
  const data = await readInputFile(path);
  return withLoadErrors(() => parseCertificates(data, path));
}

async function readCrls(path: string): Promise<Crl[]> {
  const data = await readInputFile(path);
  try {
    return parseCrls(data, path);
  } catch (err) {
    if (err instanceof CrlParseError) throw new UsageError(`${err.message} [${err.code}]`);
    throw err;
  }
}

/** Subject as one line, `CN=a, O=b`. */
function subjectLine(cert: X509Certificate): string {
  return cert.subject.split("\n").join(", ");
}

function report(result: ChainResult, leaf: X509Certificate, json: boolean): void {
  // With no path to an anchor at all there is no chain to show but the leaf.
  const chain = (result.chain ?? [leaf]).map(subjectLine);
  const detail = result.ok ? `valid path of ${chain.length} certificate(s) to a trust anchor` : result.detail;
  if (json) {
    const extra = result.ok ? {} : { depth: result.depth, reason: result.reason };
    printJson({ ok: result.ok, code: result.code, detail, chain, ...extra });
    return;
  }
  if (result.ok) cliOutput.out(`valid: ${detail}\n`);
  else
    cliOutput.out(
      `invalid (${result.code}${result.depth === undefined ? "" : ` at depth ${result.depth}`}): ${detail}\n`,
    );
  chain.forEach((subject, depth) => cliOutput.out(`  ${depth}: ${subject}\n`));
}
