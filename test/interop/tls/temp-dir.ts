// A private temporary directory for one test: PEM files and daemon configs, removed in t.after.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GeneratedCertificate } from "../../../src/pki/issue.js";

export interface TempDir {
  readonly path: string;
  /** Writes `content` to `name` in the directory; returns the full path. */
  write(name: string, content: string, mode?: number): string;
  /** Writes `<name>.pem` and `<name>.key` (mode 0600, as stunnel and openssl expect for keys). */
  writeCredential(name: string, generated: GeneratedCertificate): { cert: string; key: string };
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `siptrust-${prefix}-`));
  const write = (name: string, content: string, mode = 0o644): string => {
    const file = join(path, name);
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
    return file;
  };
  return {
    path,
    write,
    writeCredential: (name, generated) => ({
      cert: write(`${name}.pem`, generated.certificatePem),
      key: write(`${name}.key`, generated.privateKeyPem, 0o600),
    }),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
