#!/usr/bin/env node
/** Process entry point of the `siptrust` command. */
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2));
