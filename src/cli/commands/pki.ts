/**
 * `siptrust pki init <dir>` and `siptrust pki issue …`: a small, mkcert-like development PKI (ECDSA P-256 by
 * default). Generation is src/pki/issue.ts; this module only reads and writes files. Private keys are
 * written with mode 0600 and existing files are never overwritten without --force.
 */
import { access, chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { EXIT_OK, UsageError } from "../exit.js";
import { checkKeyMatchesCertificate, parseCertificates, parsePrivateKey } from "../../pki/load.js";
import { createCa, issueCertificate, EKU_OIDS, type KeyAlgorithm } from "../../pki/issue.js";
import { describeCertificate } from "../../pki/describe.js";
import type { X509Certificate } from "node:crypto";
import { cliOutput, printJson, readInputFile, withLoadErrors } from "./cert.js";

/** File names inside a CA directory made by `pki init`. */
export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";

const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ec-p256", "ec-p384", "rsa-2048", "ed25519"];

export function registerPkiCommands(program: Command): void {
  const pki = program.command("pki").description("a small development PKI (CA and certificates for SIP/TLS)");
  pki
    .command("init")
    .description(`create a CA in <dir> (${CA_CERT_FILE}, ${CA_KEY_FILE}); an existing CA is kept`)
    .argument("<dir>", "directory for the CA")
    .option("--cn <name>", "CA common name", "siptrust development CA")
    .option("--days <n>", "validity in days", "3650")
    .option("--key-algorithm <alg>", `one of ${KEY_ALGORITHMS.join(", ")}`, "ec-p256")
    .option("--json", "machine-readable output", false)
    .action(initAction);
  pki
    .command("issue")
    .description("issue a server and/or client certificate from a CA made by `pki init`")
    .requiredOption("--ca <dir>", "CA directory (from `pki init`)")
    .requiredOption("--out <prefix>", "write <prefix>.pem and <prefix>-key.pem")
    .option("--server", "for a TLS server (EKU serverAuth)", false)
    .option("--client", "for a TLS client (EKU clientAuth)", false)
    .option("--sip-domain <domain>", "SIP domain identity: SAN URI sip:<domain> (repeatable)", collect, [])
    .option("--sip-uri <uri>", "SAN URI as given, e.g. sip:alice@example.com (repeatable)", collect, [])
    .option("--dns <host>", "SAN dNSName (repeatable)", collect, [])
    .option("--cn <name>", "subject common name (default: the first domain given)")
    .option("--days <n>", "validity in days", "365")
    .option("--eku <list>", `comma list of ${Object.keys(EKU_OIDS).join(", ")}, OIDs, or "none"`)
    .option("--key-algorithm <alg>", `one of ${KEY_ALGORITHMS.join(", ")}`, "ec-p256")
    .option("--force", "overwrite existing output files", false)
    .option("--json", "machine-readable output", false)
    .action(issueAction);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface InitOptions {
  cn: string;
  days: string;
  keyAlgorithm: string;
  json: boolean;
}

async function initAction(dir: string, opts: InitOptions): Promise<void> {
  const days = positiveDays(opts.days);
  const keyAlgorithm = algorithm(opts.keyAlgorithm);
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  const existing = await existingCa(certPath, keyPath);
  let subject: string;
  let created = false;
  if (existing) {
    subject = existing;
  } else {
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: Error) => {
      throw new UsageError(`cannot create ${dir}: ${err.message}`);
    });
    const ca = createCa({ cn: opts.cn, days, keyAlgorithm });
    await writeNew(keyPath, ca.privateKeyPem, 0o600, false);
    await writeNew(certPath, ca.certificatePem, 0o644, false);
    subject = describeCertificate(ca.certificate).subject;
    created = true;
  }
  if (opts.json) printJson({ created, certificate: certPath, key: keyPath, subject });
  else
    cliOutput.out(`${created ? "created" : "kept existing"} CA "${subject}"\n  ${certPath}\n  ${keyPath}\n`);
  process.exitCode = EXIT_OK;
}

// An existing, consistent CA is kept (idempotent init); half a CA or a mismatched pair is an error.
async function existingCa(certPath: string, keyPath: string): Promise<string | undefined> {
  const [cert, key] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new UsageError(`incomplete CA: ${cert === undefined ? certPath : keyPath} is missing`);
  }
  return describeCertificate(loadCa(cert, certPath, key, keyPath).certificate).subject;
}

async function readIfPresent(path: string): Promise<Buffer | undefined> {
  try {
    return await readInputFile(path);
  } catch (err) {
    if (/ENOENT/.test((err as Error).message)) return undefined;
    throw err;
  }
}

function loadCa(cert: Buffer, certPath: string, key: Buffer, keyPath: string) {
  return withLoadErrors(() => {
    const certificate = parseCertificates(cert, certPath)[0];
    const privateKey = parsePrivateKey(key, keyPath);
    if (!certificate) throw new UsageError(`${certPath}: no certificate`);
    checkKeyMatchesCertificate(privateKey, certificate, keyPath);
    if (!certificate.ca)
      throw new UsageError(`${certPath}: not a CA certificate (basicConstraints cA is not set)`);
    return { certificate, privateKey };
  });
}

interface IssueOptions {
  ca: string;
  out: string;
  server: boolean;
  client: boolean;
  sipDomain: string[];
  sipUri: string[];
  dns: string[];
  cn?: string;
  days: string;
  eku?: string;
  keyAlgorithm: string;
  force: boolean;
  json: boolean;
}

async function issueAction(opts: IssueOptions): Promise<void> {
  if (!opts.server && !opts.client) throw new UsageError("give --server, --client or both");
  const uris = [...opts.sipDomain.map(sipDomainUri), ...opts.sipUri.map(checkSipUri)];
  const cn = opts.cn ?? opts.sipDomain[0] ?? opts.dns[0];
  if (uris.length === 0 && opts.dns.length === 0 && cn === undefined) {
    throw new UsageError("give at least one of --sip-domain, --sip-uri, --dns or --cn");
  }
  const days = positiveDays(opts.days);
  const eku = ekuList(opts);
  const keyAlgorithm = algorithm(opts.keyAlgorithm);
  const certPath = join(opts.ca, CA_CERT_FILE);
  const keyPath = join(opts.ca, CA_KEY_FILE);
  const caPair = loadCa(await readInputFile(certPath), certPath, await readInputFile(keyPath), keyPath);
  const ca = {
    certificatePem: caPair.certificate.toString(),
    privateKeyPem: caPair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
  const issued = issueCertificate(ca, { cn, san: { uri: uris, dns: opts.dns }, eku, days, keyAlgorithm });
  const outCert = `${opts.out}.pem`;
  const outKey = `${opts.out}-key.pem`;
  if (!opts.force) await refuseExisting([outCert, outKey]);
  await writeNew(outKey, issued.privateKeyPem, 0o600, opts.force);
  await writeNew(outCert, issued.certificatePem, 0o644, opts.force);
  report(issued.certificate, outCert, outKey, opts.json);
}

function report(cert: X509Certificate, certPath: string, keyPath: string, json: boolean): void {
  const { subject, notAfter, identities } = describeCertificate(cert);
  if (json) {
    printJson({ certificate: certPath, key: keyPath, subject, notAfter, identities });
  } else {
    cliOutput.out(`issued "${subject}" valid until ${notAfter}\n  ${certPath}\n  ${keyPath}\n`);
    for (const id of identities) cliOutput.out(`  ${id.kind}\t${id.value}\t(${id.source})\n`);
  }
  process.exitCode = EXIT_OK;
}

function sipDomainUri(domain: string): string {
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) throw new UsageError(`--sip-domain "${domain}" is not a domain name`);
  return `sip:${domain}`;
}

function checkSipUri(uri: string): string {
  if (!/^sips?:[^\s]+$/i.test(uri)) throw new UsageError(`--sip-uri "${uri}" is not a sip: or sips: URI`);
  return uri;
}

// Defaults: id-kp-sipDomain (RFC 5924) plus the TLS purposes of the roles asked for, so that both RFC 5924
// validators and OpenSSL-based peers (which check serverAuth/clientAuth) accept the certificate.
function ekuList(opts: IssueOptions): string[] {
  if (opts.eku === undefined) {
    return ["sipDomain", ...(opts.server ? ["serverAuth"] : []), ...(opts.client ? ["clientAuth"] : [])];
  }
  if (opts.eku.trim() === "none") return [];
  const names = opts.eku
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(n in EKU_OIDS) && !/^[0-2](\.[0-9]+)+$/.test(n))
      throw new UsageError(`--eku: unknown usage "${n}"`);
  }
  return names;
}

function positiveDays(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1)
    throw new UsageError(`--days must be a positive integer`);
  return Number(text);
}

function algorithm(text: string): KeyAlgorithm {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(text)) {
    throw new UsageError(`--key-algorithm must be one of ${KEY_ALGORITHMS.join(", ")}`);
  }
  return text as KeyAlgorithm;
}

// Checked up front so that a refused run leaves no half-written pair behind.
async function refuseExisting(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const exists = await access(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new UsageError(`${path} exists; use --force to overwrite`);
  }
}

async function writeNew(path: string, data: string, mode: number, force: boolean): Promise<void> {
  try {
    await writeFile(path, data, { mode, flag: force ? "w" : "wx" });
    await chmod(path, mode); // an overwritten file keeps its old mode, and the umask applies on creation
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EEXIST") throw new UsageError(`${path} exists; use --force to overwrite`);
    throw new UsageError(`cannot write ${path}: ${e.message}`);
  }
}
