// Runs the cert/tlsa/pki verbs in-process with captured output, mapping errors to exit codes as runCli does.
// (Not a test file itself; imported by cert/tlsa/pki CLI tests.)
import { Command, CommanderError } from "commander";
import { EXIT_USAGE, UsageError } from "../../../src/cli/exit.js";
import { cliOutput, registerCertCommands } from "../../../src/cli/commands/cert.js";
import { registerTlsaCommands } from "../../../src/cli/commands/tlsa.js";
import { registerPkiCommands } from "../../../src/cli/commands/pki.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runVerb(argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const program = new Command("siptrust").exitOverride();
  program.configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
  registerCertCommands(program);
  registerTlsaCommands(program);
  registerPkiCommands(program);
  const saved = { ...cliOutput };
  const savedExit = process.exitCode;
  cliOutput.out = (s) => void (stdout += s);
  cliOutput.err = (s) => void (stderr += s);
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv, { from: "user" });
    return { code: process.exitCode === undefined ? 0 : Number(process.exitCode), stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : EXIT_USAGE, stdout, stderr };
    if (err instanceof UsageError) return { code: EXIT_USAGE, stdout, stderr: stderr + err.message };
    throw err;
  } finally {
    Object.assign(cliOutput, saved);
    process.exitCode = savedExit;
  }
}
