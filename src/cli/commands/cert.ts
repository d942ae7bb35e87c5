/**
 * `siptrust cert identities` and `siptrust cert match`: the RFC 5922 view of a certificate file. Also the
 * small file helpers the pki-related verbs share (bounded reads, typed load errors → exit 2).
 */
import { open } from "node:fs/promises";
import type { X509Certificate } from "node:crypto";
import type { Command } from "commander";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import { CertificateLoadError, MAX_INPUT_BYTES, parseCertificates } from "../../pki/load.js";
import { describeCertificate } from "../../pki/describe.js";
import { extractSipIdentities, matchSipDomain, type SipIdentity } from "../../pki/identities.js";
import { isSipUri, parseUri } from "../../sip/uri.js";

/** Reads at most MAX_INPUT_BYTES + 1 bytes, so a device file or a huge file cannot exhaust memory. */
export async function readInputFile(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, "r");
    const buffer = Buffer.alloc(MAX_INPUT_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  } finally {
    await handle?.close();
  }
}

/** The first certificate of a PEM/DER file (the leaf of a chain file); load errors become exit 2. */
export async function readCertificateFile(path: string): Promise<X509Certificate> {
  const data = await readInputFile(path);
  return withLoadErrors(() => parseCertificates(data, path)[0] as X509Certificate);
}

/** Runs `fn`, turning a CertificateLoadError into a UsageError (exit 2) that names file and problem. */
export function withLoadErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CertificateLoadError) throw new UsageError(`${err.message} [${err.code}]`);
    throw err;
  }
}

/** Where the cert/tlsa/pki verbs print; tests swap these to capture output without touching process.stdout. */
export const cliOutput = {
  out: (text: string): void => void process.stdout.write(text),
  err: (text: string): void => void process.stderr.write(text),
};

export function printJson(value: unknown): void {
  cliOutput.out(`${JSON.stringify(value, null, 2)}\n`);
}

function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) cliOutput.err(`warning: ${w}\n`);
}

/** The `cert` command group, shared with other helpers' verbs (get-or-create). */
export function certGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "cert") ??
    program.command("cert").description("inspect certificates: SIP identities, matching, validation")
  );
}

export function registerCertCommands(program: Command): void {
  const cert = certGroup(program);
  cert
    .command("identities")
    .description("list the SIP identities of a certificate (RFC 5922 §7.1); exit 1 when there are none")
    .argument("<cert.pem>", "certificate file (PEM or DER; the first certificate is used)")
    .option("--email-as-sip", "treat email SAN entries as sip: URI identities", false)
    .option("--legacy-wildcards", "accept RFC 6125 left-most-label wildcards (interop only)", false)
    .option("--json", "machine-readable output", false)
    .action(identitiesAction);
  cert
    .command("match")
    .description("does the certificate speak for a SIP domain (RFC 5922 §7.2)? exit 0 yes, 1 no")
    .argument("<cert.pem>", "certificate file (PEM or DER; the first certificate is used)")
    .argument("<target>", "a SIP domain, or a sip:/sips: URI whose host is the domain")
    .option("--legacy-wildcards", "accept RFC 6125 left-most-label wildcards (interop only)", false)
    .option("--json", "machine-readable output", false)
    .action(matchAction);
}

interface IdentitiesOptions {
  emailAsSip: boolean;
  legacyWildcards: boolean;
  json: boolean;
}

async function identitiesAction(file: string, opts: IdentitiesOptions): Promise<void> {
  const cert = await readCertificateFile(file);
  const d = describeCertificate(cert, { emailAsSip: opts.emailAsSip, legacyWildcards: opts.legacyWildcards });
  if (opts.json) {
    const { warnings, ...contract } = d; // issue 4 §3 fixes the JSON shape; warnings go to stderr
    printJson(contract);
    printWarnings(warnings);
  } else {
    for (const id of d.identities) cliOutput.out(`${id.kind}\t${id.value}\t(${id.source})\n`);
    if (d.identities.length === 0) cliOutput.err("no SIP identities in this certificate\n");
    printWarnings(d.warnings);
  }
  process.exitCode = d.identities.length > 0 ? EXIT_OK : EXIT_NO;
}

interface MatchOptions {
  legacyWildcards: boolean;
  json: boolean;
}

async function matchAction(file: string, target: string, opts: MatchOptions): Promise<void> {
  const domain = targetDomain(target);
  const cert = await readCertificateFile(file);
  const ids = extractSipIdentities(cert, { legacyWildcards: opts.legacyWildcards });
  const r = matchSipDomain(ids.identities, domain, { legacyWildcards: opts.legacyWildcards });
  if (opts.json) {
    printJson(
      r.ok
        ? { ok: true, code: r.code, matched: r.matched }
        : { ok: false, code: r.code, matched: null, detail: r.detail },
    );
  } else if (r.ok) {
    cliOutput.out(`match: ${domain} is ${describeIdentity(r.matched)}\n`);
  } else {
    cliOutput.out(`no match (${r.code}): ${r.detail}\n`);
  }
  if (r.ok && r.warning) printWarnings([r.warning]);
  process.exitCode = r.ok ? EXIT_OK : EXIT_NO;
}

function describeIdentity(id: SipIdentity): string {
  return `${id.kind} identity ${id.value} (${id.source})`;
}

// A sip:/sips: URI names its domain in the host part (RFC 5922 §7.2 compares that host only).
function targetDomain(target: string): string {
  if (!/^sips?:/i.test(target)) return target;
  const parsed = parseUri(target);
  if (!parsed.ok) throw new UsageError(`"${target}" is not a valid SIP URI: ${parsed.detail}`);
  if (!isSipUri(parsed.uri)) throw new UsageError(`"${target}" is not a sip: or sips: URI`);
  return parsed.uri.host;
}
