/**
 * `siptrust tlsa <cert.pem>`: the TLSA RDATA an operator pastes into a zone (RFC 6698 §2.2 presentation
 * form). Defaults 3 1 1 (DANE-EE, SPKI, SHA-256), the combination RFC 7671 §5.1 recommends.
 */
import type { Command } from "commander";
import { EXIT_OK, UsageError } from "../exit.js";
import {
  formatTlsaRdata,
  tlsaAssociationData,
  type TlsaMatching,
  type TlsaSelector,
  type TlsaUsage,
} from "../../pki/tlsa-data.js";
import { cliOutput, printJson, readCertificateFile } from "./cert.js";

interface TlsaOptions {
  usage: string;
  selector: string;
  matching: string;
  json: boolean;
}

export function registerTlsaCommands(program: Command): void {
  program
    .command("tlsa")
    .description("print the TLSA record data for a certificate (default 3 1 1)")
    .argument("<cert.pem>", "certificate file (PEM or DER; the first certificate is used)")
    .option("--usage <0-3>", "certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE", "3")
    .option("--selector <0|1>", "0 full certificate, 1 SubjectPublicKeyInfo", "1")
    .option("--matching <0|1|2>", "0 exact, 1 SHA-256, 2 SHA-512", "1")
    .option("--json", "machine-readable output", false)
    .action(tlsaAction);
}

async function tlsaAction(file: string, opts: TlsaOptions): Promise<void> {
  const usage = field(opts.usage, 3, "--usage") as TlsaUsage;
  const selector = field(opts.selector, 1, "--selector") as TlsaSelector;
  const matching = field(opts.matching, 2, "--matching") as TlsaMatching;
  const cert = await readCertificateFile(file);
  const data = tlsaAssociationData(cert, selector, matching);
  const rdata = formatTlsaRdata(usage, selector, matching, data);
  if (opts.json) printJson({ usage, selector, matching, data: data.toString("hex"), rdata });
  else cliOutput.out(`${rdata}\n`);
  process.exitCode = EXIT_OK;
}

function field(text: string, max: number, name: string): number {
  if (!/^[0-9]$/.test(text) || Number(text) > max)
    throw new UsageError(`${name} must be an integer from 0 to ${max}`);
  return Number(text);
}
