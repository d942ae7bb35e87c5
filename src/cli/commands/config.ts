/**
 * `siptrust config check <file>`: prepares a configuration exactly as a reload would (every file read and
 * checked) and prints every problem with file:line: key, like `kamailio -c` or `postfix check`.
 * Exit 0 = usable, 1 = problems, 2 = the file itself cannot be read.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { EXIT_NO, EXIT_OK, UsageError } from "../exit.js";
import { ConfigError, formatProblem } from "../../config/config-error.js";
import { prepareConfigFile } from "../../config/prepare-config.js";

export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description("configuration files");
  config
    .command("check")
    .description("validate a configuration and every file it names")
    .argument("<file>", "YAML configuration")
    .option("--json", "machine-readable output", false)
    .action((file: string, opts: { json: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
      try {
        const prepared = prepareConfigFile(file);
        const summary = {
          ok: true,
          listeners: prepared.config.listeners.length,
          caSets: [...prepared.caSets.keys()],
          clientCertificates: [...prepared.clientCredentials.keys()],
        };
        process.stdout.write(
          opts.json
            ? JSON.stringify(summary) + "\n"
            : `${file}: OK (${summary.listeners} listener(s), CA sets: ${summary.caSets.join(", ") || "none"})\n`,
        );
        process.exitCode = EXIT_OK;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stdout.write(
          opts.json
            ? JSON.stringify({ ok: false, code: err.code, problems: err.problems }) + "\n"
            : err.problems.map(formatProblem).join("\n") + "\n",
        );
        process.exitCode = EXIT_NO;
      }
    });
}
