// Interop suites fail (never skip silently) when the real peer software is missing (issue 3 §1).
import { spawnSync } from "node:child_process";

export function requireTool(command: string, versionArgs: readonly string[], debianPackage: string): void {
  const probe = spawnSync(command, versionArgs, { stdio: "ignore", timeout: 10_000 });
  if (probe.error !== undefined) {
    throw new Error(
      `${command} is not installed (Debian package ${debianPackage}); run \`bash scripts/test-deps.sh\` ` +
        `or set SIPTRUST_SKIP_INTEROP=1 to skip the interop suites`,
    );
  }
}
