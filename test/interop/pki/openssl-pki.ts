/**
 * A throw-away PKI made with the `openssl` CLI (req, ca, verify) in a temporary directory, for comparing
 * our path validation with `openssl verify`. Every command has a timeout; the caller removes the directory.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TIMEOUT_MS = 10_000;

/** Extension sections shared by every certificate of the matrix (openssl x509v3_config(5)). */
const EXTENSIONS = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_pathlen0 ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_not_ca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_no_bc ]
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_no_certsign ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_nc_permit ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,permitted;DNS:example.com
[ ca_nc_exclude ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,excluded;DNS:bad.example.com
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:sip.example.com
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_no_aki ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = DNS:sip.example.com
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ leaf_evil ]
basicConstraints = critical,CA:FALSE
subjectAltName = DNS:sip.evil.org
authorityKeyIdentifier = keyid
[ leaf_excluded ]
basicConstraints = critical,CA:FALSE
subjectAltName = DNS:sip.bad.example.com
authorityKeyIdentifier = keyid
[ leaf_no_san ]
basicConstraints = critical,CA:FALSE
authorityKeyIdentifier = keyid
[ ca_nc_uri ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,permitted;URI:.example.com
[ leaf_sip_uri ]
basicConstraints = critical,CA:FALSE
subjectAltName = URI:sip:proxy.example.com
authorityKeyIdentifier = keyid
[ leaf_critical ]
basicConstraints = critical,CA:FALSE
subjectAltName = DNS:sip.example.com
authorityKeyIdentifier = keyid
1.3.6.1.4.1.55555.1 = critical,ASN1:NULL
`;

export interface VerifyArgs {
  readonly leaf: string;
  readonly caFile: string;
  readonly untrusted?: string;
  readonly crlFile?: string;
  readonly attime?: Date;
  /** openssl's -partial_chain: any certificate in -CAfile is a trust anchor (RFC 5280 semantics). */
  readonly partialChain?: boolean;
}

export interface OpensslVerdict {
  readonly ok: boolean;
  readonly error?: number;
  readonly depth?: number;
  readonly output: string;
}

export type ExtSection =
  | "root"
  | "ca"
  | "ca_pathlen0"
  | "ca_not_ca"
  | "ca_no_bc"
  | "ca_no_certsign"
  | "ca_nc_permit"
  | "ca_nc_exclude"
  | "leaf"
  | "leaf_no_aki"
  | "leaf_evil"
  | "leaf_excluded"
  | "leaf_no_san"
  | "leaf_critical"
  | "ca_nc_uri"
  | "leaf_sip_uri";

export interface Issued {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The CA database directory, for CAs (root or intermediate). */
  readonly caDir?: string;
}

function validity(days: { from: number; to: number }): string[] {
  return ["-startdate", opensslDate(days.from), "-enddate", opensslDate(days.to)];
}

/** openssl's date form YYYYMMDDHHMMSSZ for `now + days`. */
export function opensslDate(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

export class OpensslPki {
  readonly dir: string;
  private readonly config: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "siptrust-chain-"));
    this.config = join(this.dir, "openssl.cnf");
    writeFileSync(this.config, EXTENSIONS);
  }

  private run(args: string[]): string {
    return execFileSync("openssl", args, {
      cwd: this.dir,
      timeout: TIMEOUT_MS,
      stdio: ["ignore", "pipe", "pipe"],
    }).toString();
  }

  private path(file: string): string {
    return join(this.dir, file);
  }

  /** A self-signed root CA with its own `openssl ca` database. */
  root(name: string, options: { days?: { from: number; to: number }; subject?: string } = {}): Issued {
    const days = options.days ?? { from: -1, to: 3650 };
    const keyPath = this.path(`${name}.key`);
    const certPath = this.path(`${name}.pem`);
    const csr = this.newKeyAndCsr(name, keyPath);
    const caDir = this.caDatabase(name);
    // Self-signed through `openssl ca -selfsign` so that start and end dates can be chosen.
    this.run([
      ...["ca", "-batch", "-notext", "-selfsign", "-config", this.caConfig(caDir), "-keyfile", keyPath],
      ...["-in", csr, "-out", certPath, "-extfile", this.config, "-extensions", "root"],
      ...["-subj", options.subject ?? `/CN=${name}`, ...validity(days)],
    ]);
    return { name, certPath, keyPath, caDir };
  }

  /**
   * A certificate for `name` issued by `issuer` (a CA made here) with extension section `ext`. CAs get a key
   * of their own; leaves share one key and one request (the subject is set by `openssl ca -subj`), which
   * keeps the number of openssl runs, and so the test's duration, down.
   */
  issue(
    issuer: Issued,
    name: string,
    ext: ExtSection,
    options: { days?: { from: number; to: number }; subject?: string } = {},
  ): Issued {
    const days = options.days ?? { from: -1, to: 365 };
    const isCa = ext.startsWith("ca");
    const keyPath = isCa ? this.path(`${name}.key`) : this.path("leaf-shared.key");
    const csr = isCa ? this.newKeyAndCsr(name, keyPath) : this.sharedLeafCsr(keyPath);
    const certPath = this.path(`${name}.pem`);
    this.run([
      ...[
        "ca",
        "-batch",
        "-notext",
        "-config",
        this.caConfig(this.requireCa(issuer)),
        "-cert",
        issuer.certPath,
      ],
      ...[
        "-keyfile",
        issuer.keyPath,
        "-in",
        csr,
        "-out",
        certPath,
        "-extfile",
        this.config,
        "-extensions",
        ext,
      ],
      ...["-subj", options.subject ?? `/CN=${name}`, ...validity(days)],
    ]);
    return isCa ? { name, certPath, keyPath, caDir: this.caDatabase(name) } : { name, certPath, keyPath };
  }

  private newKeyAndCsr(name: string, keyPath: string): string {
    const csr = this.path(`${name}.csr`);
    this.run([
      ...["req", "-new", "-config", this.config, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ...["-nodes", "-keyout", keyPath, "-subj", `/CN=${name}`, "-out", csr],
    ]);
    return csr;
  }

  private sharedLeafCsr(keyPath: string): string {
    const csr = this.path("leaf-shared.csr");
    if (!existsSync(csr)) this.newKeyAndCsr("leaf-shared", keyPath);
    return csr;
  }

  /** Marks `cert` revoked in `issuer`'s database. */
  revoke(issuer: Issued, cert: Issued, reason = "keyCompromise"): void {
    this.run([
      "ca",
      "-config",
      this.caConfig(this.requireCa(issuer)),
      "-cert",
      issuer.certPath,
      "-keyfile",
      issuer.keyPath,
      "-revoke",
      cert.certPath,
      "-crl_reason",
      reason,
    ]);
  }

  /** A CRL from `issuer` (optionally signed with another key), valid over the given days relative to now. */
  crl(
    issuer: Issued,
    file: string,
    options: { days?: { from: number; to: number }; signer?: Issued } = {},
  ): string {
    const days = options.days ?? { from: -1, to: 30 };
    const signer = options.signer ?? issuer;
    const out = this.path(file);
    this.run([
      "ca",
      "-gencrl",
      "-config",
      this.caConfig(this.requireCa(issuer)),
      "-cert",
      signer.certPath,
      "-keyfile",
      signer.keyPath,
      "-out",
      out,
      "-crl_lastupdate",
      opensslDate(days.from),
      "-crl_nextupdate",
      opensslDate(days.to),
    ]);
    return out;
  }

  /** Concatenates PEM files into one (for -untrusted / -CRLfile bundles). */
  bundle(file: string, paths: readonly string[]): string {
    const out = this.path(file);
    writeFileSync(out, paths.map((p) => readFileSync(p, "utf8")).join(""));
    return out;
  }

  /** Writes a copy of `cert` whose last signature octet is flipped. */
  tamper(cert: Issued, name: string): Issued {
    const pem = readFileSync(cert.certPath, "utf8");
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    const body = der.toString("base64").replace(/.{1,64}/g, "$&\n");
    const certPath = this.path(`${name}.pem`);
    writeFileSync(certPath, `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`);
    return { name, certPath, keyPath: cert.keyPath };
  }

  /** Runs `openssl verify` and resolves to OK or the first error number and depth it reports. */
  verify(args: VerifyArgs): Promise<OpensslVerdict> {
    const argv = ["verify", "-CAfile", args.caFile];
    if (args.untrusted) argv.push("-untrusted", args.untrusted);
    if (args.crlFile) argv.push("-crl_check_all", "-CRLfile", args.crlFile);
    if (args.partialChain) argv.push("-partial_chain");
    if (args.attime) argv.push("-attime", String(Math.floor(args.attime.getTime() / 1000)));
    argv.push(args.leaf);
    return new Promise((resolve) => {
      // openssl verify exits non-zero on a failed verification: that is a verdict here, not an error.
      execFile("openssl", argv, { cwd: this.dir, timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        const m = /error (\d+) at (\d+) depth/.exec(output);
        if (!err && !m) resolve({ ok: true, output });
        else
          resolve({
            ok: false,
            error: m ? Number(m[1]) : undefined,
            depth: m ? Number(m[2]) : undefined,
            output,
          });
      });
    });
  }

  private requireCa(issuer: Issued): string {
    if (!issuer.caDir) throw new Error(`${issuer.name} is not a CA made by this PKI`);
    return issuer.caDir;
  }

  private caDatabase(name: string): string {
    const caDir = this.path(`db-${name}`);
    mkdirSync(join(caDir, "new"), { recursive: true });
    writeFileSync(join(caDir, "index.txt"), "");
    writeFileSync(join(caDir, "serial"), `${randomSerial()}\n`);
    writeFileSync(join(caDir, "crlnumber"), "01\n");
    return caDir;
  }

  private caConfig(caDir: string): string {
    const file = join(caDir, "ca.cnf");
    writeFileSync(
      file,
      `[ ca ]
default_ca = this
[ this ]
database = ${join(caDir, "index.txt")}
new_certs_dir = ${join(caDir, "new")}
serial = ${join(caDir, "serial")}
crlnumber = ${join(caDir, "crlnumber")}
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
`,
    );
    return file;
  }
}

// Serial numbers unique across CAs, so that "revoked" cannot be satisfied by a serial clash.
function randomSerial(): string {
  return `10${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, "0")}00`;
}
