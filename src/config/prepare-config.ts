/**
 * Turns a configuration file into a ready-to-swap runtime configuration: the YAML is validated, then every
 * file it names is read and checked (certificates parse, keys match their certificates, CRLs parse, the CN
 * mapping parses, CA rights compile, routing rules compile against the inner server groups, the admin token
 * file is read, the accounting folder is writable, the outbound client-certificate table has one
 * certificate per destination). Nothing is half-applied: either the whole result is returned, or a
 * ConfigError lists every problem with file, line and key (issue 6 §3, "atomic reload").
 */
import { accessSync, constants as fsConstants, existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { KeyObject, X509Certificate } from "node:crypto";
import {
  CertificateLoadError,
  checkKeyMatchesCertificate,
  parseCertificates,
  parsePrivateKey,
} from "../pki/load.js";
import { CrlParseError, parseCrls, type Crl } from "../pki/crl.js";
import { CertificateParseError, parseCert } from "../pki/parsed-cert.js";
import { verifySignature } from "../pki/signature.js";
import { CnMappingError, parseCnMapping, type CnMapping } from "../auth/cn-mapping.js";
import { CaRightsError, compileCaRights, type CaRights } from "../auth/ca-rights.js";
import { checkAuthPolicy } from "../auth/authorize.js";
import { DnsClient } from "../dns/client.js";
import { DnsConfigError } from "../dns/errors.js";
import {
  buildClientCredentialTable,
  ClientCredentialTableError,
  namedCredentials,
  type ClientCredentialTable,
} from "../tls/client-credential-table.js";
import { compileRoutingRules, RoutingRuleError, type RoutingRules } from "../proxy/policy/routing-rules.js";
import type { ClientCaSettings } from "../transport/edge-runtime.js";
import { ConfigError, type ConfigProblem } from "./config-error.js";
import { formatKeyPath, validateYaml } from "./load-config.js";
import { edgeConfigSchema, type EdgeConfig } from "./schema.js";
import { parseYaml, type KeyPath, type PositionedYaml } from "./yaml-document.js";

/** A CA set as read from its files: exactly what the transport layer's listeners verify clients with. */
export type LoadedCaSet = ClientCaSettings;

export interface LoadedCredential {
  readonly certPem: string;
  readonly keyPem: string;
  readonly chain: readonly X509Certificate[];
  readonly key: KeyObject;
}

export interface PreparedConfig {
  readonly file: string;
  readonly config: EdgeConfig;
  readonly caSets: ReadonlyMap<string, LoadedCaSet>;
  /** listeners[i].certificates[j] */
  readonly listenerCredentials: ReadonlyArray<readonly LoadedCredential[]>;
  /** outbound.clientCertificates by name */
  readonly clientCredentials: ReadonlyMap<string, LoadedCredential>;
  readonly cnMapping?: CnMapping;
  readonly caRights?: CaRights;
  /** proxy.routing, compiled against proxy.innerServers (a rule naming an unknown group is a problem). */
  readonly routing: RoutingRules;
  /** The admin API bearer token read from admin.tokenFile. */
  readonly adminToken?: string;
  /** accounting.file resolved against the configuration's folder. */
  readonly accountingFile?: string;
  /** The outbound side, when an `outbound` section exists: resolver and per-destination client certificates. */
  readonly outbound?: PreparedOutbound;
  /** 1-based line of a key path in the configuration file (0 when unknown), for problems found later. */
  readonly lineOf: (path: KeyPath) => number;
}

export interface PreparedOutbound {
  readonly resolver: DnsClient;
  readonly clientCredentials: ClientCredentialTable;
}

/** Reads one file; the seam tests use to feed files without touching the disk. */
export type ReadFile = (path: string) => Buffer;

export function prepareConfigFile(file: string, readFile: ReadFile = readFileSync): PreparedConfig {
  let text: string;
  try {
    text = readFile(file).toString("utf8");
  } catch (err) {
    throw new ConfigError([{ file, line: 0, key: "", message: `cannot read: ${(err as Error).message}` }]);
  }
  return prepareConfigText(text, file, readFile);
}

export function prepareConfigText(
  text: string,
  file: string,
  readFile: ReadFile = readFileSync,
): PreparedConfig {
  const yaml = parseYaml(text, file);
  const config = validateYaml(yaml, edgeConfigSchema);
  return new Preparation(yaml, config, dirname(resolve(file)), readFile).run();
}

/** Collects problems while loading every referenced file, so that all of them are reported at once. */
class Preparation {
  private readonly problems: ConfigProblem[] = [];

  constructor(
    private readonly yaml: PositionedYaml,
    private readonly config: EdgeConfig,
    private readonly baseDir: string,
    private readonly readFile: ReadFile,
  ) {}

  run(): PreparedConfig {
    const caSets = new Map<string, LoadedCaSet>();
    for (const [name, set] of Object.entries(this.config.caSets)) {
      caSets.set(name, this.loadCaSet(name, set));
    }
    const listenerCredentials = this.config.listeners.map((listener, i) =>
      listener.certificates.map((c, j) =>
        this.loadCredential(c.cert, c.key, ["listeners", i, "certificates", j]),
      ),
    );
    const clientCredentials = new Map<string, LoadedCredential>();
    this.config.outbound?.clientCertificates.forEach((c, i) => {
      const at = ["outbound", "clientCertificates", i];
      if (clientCredentials.has(c.name))
        this.problem(at.concat("name"), `duplicate client certificate name "${c.name}"`);
      clientCredentials.set(c.name, this.loadCredential(c.cert, c.key, at));
    });
    const cnMapping = this.loadCnMapping();
    const caRights = this.compileCaRights();
    this.checkAuthorizationLists();
    const routing = this.compileRouting();
    const adminToken = this.readAdminToken();
    const accountingFile = this.checkAccountingFile();
    const outbound = this.prepareOutbound(clientCredentials);
    if (this.problems.length > 0 || !routing) throw new ConfigError(this.problems);
    return {
      file: this.yaml.file,
      config: this.config,
      caSets,
      listenerCredentials,
      clientCredentials,
      cnMapping,
      caRights,
      routing,
      ...(adminToken !== undefined ? { adminToken } : {}),
      ...(accountingFile !== undefined ? { accountingFile } : {}),
      ...(outbound ? { outbound } : {}),
      lineOf: (path) => this.yaml.lineOf(path),
    };
  }

  private loadCaSet(name: string, set: EdgeConfig["caSets"][string]): LoadedCaSet {
    const anchors: X509Certificate[] = [];
    const anchorPems: string[] = [];
    set.files.forEach((path, i) => {
      const at = ["caSets", name, "files", i];
      const bytes = this.read(path, at);
      const certs = bytes ? this.attempt(at, () => parseCertificates(bytes, this.resolve(path))) : undefined;
      for (const cert of certs ?? []) {
        anchors.push(cert);
        anchorPems.push(cert.toString());
      }
    });
    const crls: Crl[] = [];
    set.crls.forEach((path, i) => {
      const at = ["caSets", name, "crls", i];
      const bytes = this.read(path, at);
      const parsed = (bytes && this.attempt(at, () => parseCrls(bytes, this.resolve(path)))) ?? [];
      for (const crl of parsed) this.checkCrlIssuer(crl, anchors, at);
      crls.push(...parsed);
    });
    return { name, anchors, anchorPems, crls, crlPolicy: set.crlPolicy };
  }

  /**
   * A CRL issued under the name of one of the set's CAs must carry that CA's signature: a CRL that cannot
   * verify would reject (crl-bad-signature) or fail to revoke at handshake time, so it is refused now. A CRL
   * from a CA outside the set (an intermediate) is checked at validation time against the presented chain.
   */
  private checkCrlIssuer(crl: Crl, anchors: readonly X509Certificate[], at: KeyPath): void {
    const named = anchors.filter((a) => subjectKey(a) === crl.issuer.key);
    if (named.length === 0) return;
    const signed = named.some(
      (a) => verifySignature(crl.tbs, crl.signatureAlgorithm, crl.signature, a.publicKey).ok,
    );
    if (!signed)
      this.problem(at, `${crl.source}: not signed by the CA it names as issuer (${crl.issuer.text})`);
  }

  private loadCredential(certPath: string, keyPath: string, at: KeyPath): LoadedCredential {
    const certBytes = this.read(certPath, [...at, "cert"]);
    const keyBytes = this.read(keyPath, [...at, "key"]);
    const chain = certBytes
      ? this.attempt([...at, "cert"], () => parseCertificates(certBytes, this.resolve(certPath)))
      : undefined;
    const key = keyBytes
      ? this.attempt([...at, "key"], () => parsePrivateKey(keyBytes, this.resolve(keyPath)))
      : undefined;
    const leaf = chain?.[0];
    if (leaf && key)
      this.attempt([...at, "key"], () => checkKeyMatchesCertificate(key, leaf, this.resolve(keyPath)));
    return {
      certPem: (chain ?? []).map((c) => c.toString()).join(""),
      keyPem: key ? (key.export({ type: "pkcs8", format: "pem" }) as string) : "",
      chain: chain ?? [],
      key: key as KeyObject,
    };
  }

  private loadCnMapping(): CnMapping | undefined {
    const path = this.config.authorization.cnMappingFile;
    if (path === undefined) return undefined;
    const at = ["authorization", "cnMappingFile"];
    const bytes = this.read(path, at);
    if (!bytes) return undefined;
    try {
      return parseCnMapping(bytes.toString("utf8"), this.resolve(path));
    } catch (err) {
      if (!(err instanceof CnMappingError)) throw err;
      // The mapping file's own lines are the useful positions here, not the config key's.
      for (const p of err.problems)
        this.problems.push({ file: p.file, line: p.line, key: "", message: p.reason });
      return undefined;
    }
  }

  private compileCaRights(): CaRights | undefined {
    const rights = this.config.authorization.caRights;
    if (!rights) return undefined;
    try {
      return compileCaRights(rights, "authorization.caRights");
    } catch (err) {
      if (!(err instanceof CaRightsError)) throw err;
      for (const message of err.problems) this.problem(["authorization", "caRights"], message);
      return undefined;
    }
  }

  private checkAuthorizationLists(): void {
    const { trustedIdentities, trustedCaFingerprints } = this.config.authorization;
    for (const message of checkAuthPolicy({ trustedIdentities, trustedCaFingerprints })) {
      const [key] = message.split(":", 1);
      const m = /^(\w+)\[(\d+)\]$/.exec(key ?? "");
      this.problem(["authorization", ...(m ? [m[1] as string, Number(m[2])] : [])], message);
    }
  }

  /** Rules compile once here, so a bad regex or an unknown inner group refuses the file with its line. */
  private compileRouting(): RoutingRules | undefined {
    const proxy = this.config.proxy;
    try {
      return compileRoutingRules(proxy.routing, {
        groups: Object.keys(proxy.innerServers),
        source: "proxy.routing",
      });
    } catch (err) {
      if (!(err instanceof RoutingRuleError)) throw err;
      for (const p of err.problems) this.problem(["proxy", "routing", ...p.path], p.message);
      return undefined;
    }
  }

  private readAdminToken(): string | undefined {
    const path = this.config.admin.tokenFile;
    if (path === undefined) return undefined;
    const at = ["admin", "tokenFile"];
    const token = this.read(path, at)?.toString("utf8").trim();
    if (token === "") this.problem(at, `${this.resolve(path)} is empty`);
    return token || undefined;
  }

  /** The accounting file is appended to; its folder must exist and be writable now, not at the first call. */
  private checkAccountingFile(): string | undefined {
    const path = this.config.accounting.file;
    if (path === undefined) return undefined;
    const file = this.resolve(path);
    const target = existsSync(file) ? file : dirname(file);
    try {
      accessSync(target, fsConstants.W_OK);
    } catch (err) {
      this.problem(
        ["accounting", "file"],
        `${target} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return file;
  }

  private prepareOutbound(loaded: ReadonlyMap<string, LoadedCredential>): PreparedOutbound | undefined {
    const outbound = this.config.outbound;
    if (!outbound) return undefined;
    let resolver: DnsClient | undefined;
    try {
      resolver = new DnsClient({
        ...(outbound.resolver !== undefined ? { resolver: outbound.resolver } : {}),
        trusted: outbound.resolverTrusted,
      });
    } catch (err) {
      if (!(err instanceof DnsConfigError)) throw err;
      this.problem(["outbound", "resolver"], `${err.message} [${err.code}]`);
    }
    const named = new Map(
      [...loaded].map(([name, c]) => [name, namedCredentials(name, c.certPem, c.keyPem)] as const),
    );
    const fallback = outbound.defaultClientCertificate;
    let clientCredentials: ClientCredentialTable | undefined;
    try {
      clientCredentials = buildClientCredentialTable(
        outbound.clientCertificates.flatMap((c) => {
          const credentials = named.get(c.name);
          return credentials ? [{ domains: c.domains, credentials }] : [];
        }),
        fallback !== undefined ? named.get(fallback) : undefined,
      );
    } catch (err) {
      if (!(err instanceof ClientCredentialTableError)) throw err;
      this.problem(["outbound", "clientCertificates"], err.message);
    }
    return resolver && clientCredentials ? { resolver, clientCredentials } : undefined;
  }

  private read(path: string, at: KeyPath): Buffer | undefined {
    try {
      return this.readFile(this.resolve(path));
    } catch (err) {
      this.problem(
        at,
        `cannot read ${this.resolve(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
      return undefined;
    }
  }

  /** Runs a loader; a typed load error becomes a problem at `at`, anything else is a bug and propagates. */
  private attempt<T>(at: KeyPath, load: () => T): T | undefined {
    try {
      return load();
    } catch (err) {
      if (err instanceof CertificateLoadError || err instanceof CrlParseError) {
        this.problem(at, err.message);
        return undefined;
      }
      throw err;
    }
  }

  private problem(at: KeyPath, message: string): void {
    this.problems.push({ file: this.yaml.file, line: this.yaml.lineOf(at), key: formatKeyPath(at), message });
  }

  private resolve(path: string): string {
    return resolve(this.baseDir, path);
  }
}

function subjectKey(cert: X509Certificate): string | undefined {
  try {
    return parseCert(cert).subject.key;
  } catch (err) {
    if (err instanceof CertificateParseError) return undefined;
    throw err;
  }
}
