/**
 * The `siptrust` command tree. Each verb lives in its own module under ./commands and registers itself
 * here; this file only wires them and maps errors to exit codes.
 */
import { Command, CommanderError } from "commander";
import { EXIT_USAGE, UsageError } from "./exit.js";
import { registerSipCommands } from "./commands/sip.js";
import { registerCertCommands } from "./commands/cert.js";
import { registerCertVerifyCommand } from "./commands/cert-verify.js";
import { registerTlsaCommands } from "./commands/tlsa.js";
import { registerPkiCommands } from "./commands/pki.js";
import { registerCheckCommands } from "./commands/check.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerAdminCommands } from "./commands/admin.js";
import { registerServeCommands } from "./commands/serve.js";

export function buildProgram(): Command {
  const program = new Command("siptrust")
    .description("SIP-over-TLS trust edge: identities, DANE, location and per-message authorization")
    .exitOverride()
    .showHelpAfterError();
  registerSipCommands(program);
  registerCertCommands(program);
  registerCertVerifyCommand(program);
  registerTlsaCommands(program);
  registerPkiCommands(program);
  registerCheckCommands(program);
  registerConfigCommands(program);
  registerAdminCommands(program);
  registerServeCommands(program);
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`siptrust: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
