/**
 * RFC 3263 §4 server location for SIP/SIPS URIs, with the DNSSEC status of every step and the "secure delegation"
 * verdict of the SIP & DANE model (draft-johansson-dispatch-dane-sip, RFC 7673).
 *
 * Order of decisions (RFC 3263 §4.1 transport, §4.2 port and address):
 *   numeric host            → that address, no DNS;
 *   explicit port           → A/AAAA of the host only;
 *   transport parameter     → SRV for that transport (no NAPTR, RFC 3263 §4.1);
 *   otherwise               → NAPTR; its usable records → SRV at their replacements; none → SRV for each allowed
 *                             transport (`_sips._tcp`, `_sip._tcp`, `_sip._udp`); no SRV → A/AAAA on the default port.
 * Deviation for a TLS edge: where RFC 3263 picks UDP for a `sip:` URI (numeric host or explicit port, no transport),
 * we take the first allowed transport, which is TLS by default; see naptr.ts for how `sip:` URIs reach TLS targets.
 *
 * Secure delegation: a target is `secure` when every query on its path (NAPTR when used, SRV, every CNAME hop and the
 * A/AAAA of the address used) is secure — each sideways jump into another zone is validated by its own query.
 * Otherwise it is `insecure` (RFC 7673 §3.1/3.2: DANE does not apply; RFC 5922 against the SIP domain does).
 * Bogus anywhere on the path is a hard failure with no fallback. A NAPTR or SRV lookup that fails for a reason other
 * than "no records" aborts location too (RFC 7673 §3.1), so that blocking a query cannot downgrade a secure domain.
 */
import { isIP } from "node:net";
import type { DnssecStatus } from "./answer.js";
import type { DnsQuerier } from "./client.js";
import { canonicalName, isValidName } from "./names.js";
import { defaultPort, selectSipNaptr, srvPrefix, type Transport } from "./naptr.js";
import { srvData } from "./records.js";
import { resolveFollowing, type Resolution, type Step } from "./resolve.js";
import { orderSrv, type Random } from "./srv-order.js";

export type { Transport } from "./naptr.js";

/** What the locator needs from a URI; `SipUri` from src/sip/uri.ts fits (transport comes from its params). */
export interface LocateInput {
  readonly scheme: "sip" | "sips";
  readonly host: string;
  readonly port?: number;
  readonly transport?: string;
  readonly hostKind?: "hostname" | "ipv4" | "ipv6";
  readonly params?: ReadonlyArray<readonly [string, string | null]>;
}

export interface LocateOptions {
  /** Outbound transports in preference order (default `["tls"]`: the edge speaks TLS outward). */
  readonly transports?: readonly Transport[];
  /** RNG for RFC 2782 weighted ordering (default Math.random). */
  readonly random?: Random;
  /** Bound on targets returned (default 32). */
  readonly maxTargets?: number;
  /** Bound on NAPTR records followed (default 6). */
  readonly maxNaptr?: number;
  /** Address family order (default IPv4 first). */
  readonly addressOrder?: "ipv4-first" | "ipv6-first";
}

export type Delegation = "secure" | "insecure" | "bogus";

export interface Target {
  /** The IP address to connect to. */
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  /** The DNS name whose A/AAAA gave `host` (undefined for a numeric URI host). */
  readonly hostName?: string;
  /** The SRV target name, when an SRV record led here. */
  readonly srvHost?: string;
  /** SNI to send: the SRV target (or host) under a secure delegation, else the SIP domain; none for IP literals. */
  readonly sniHost?: string;
  readonly delegation: "secure" | "insecure";
  readonly source: "numeric" | "explicit-port" | "srv" | "address-fallback";
  /** Every query on this target's path, in order. */
  readonly steps: readonly Step[];
}

export type LocateFailureCode =
  "dns-bogus" | "dns-error" | "no-targets" | "service-unavailable" | "bad-input" | "transport-not-allowed";

export type LocateResult =
  | {
      readonly ok: true;
      readonly code: "located";
      readonly domain: string;
      readonly delegation: "secure" | "insecure";
      readonly targets: readonly Target[];
      readonly steps: readonly Step[];
      readonly adUntrusted: boolean;
    }
  | {
      readonly ok: false;
      readonly code: LocateFailureCode;
      readonly domain: string;
      readonly delegation: Delegation;
      readonly detail: string;
      readonly targets: readonly Target[];
      readonly steps: readonly Step[];
      readonly adUntrusted: boolean;
    };

class LocateAbort extends Error {
  constructor(
    readonly code: LocateFailureCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

interface SrvQuery {
  readonly name: string;
  readonly transport: Transport;
  /** Steps before the SRV query (the NAPTR lookup, when used). */
  readonly prefix: readonly Step[];
}

interface AddressSet {
  readonly family: 4 | 6;
  readonly addresses: readonly string[];
  readonly status: DnssecStatus;
  readonly steps: readonly Step[];
}

const ALL_TRANSPORTS: readonly Transport[] = ["tls", "tcp", "udp"];

export async function locate(
  client: DnsQuerier,
  input: LocateInput,
  options: LocateOptions = {},
): Promise<LocateResult> {
  const domain = canonicalName(stripBrackets(input.host));
  const run = new LocateRun(client, input, options, domain);
  try {
    const targets = dedupe(await run.targets()).slice(0, options.maxTargets ?? 32);
    if (targets.length === 0)
      throw new LocateAbort(run.sawAddressError ? "dns-error" : "no-targets", `no address for ${domain}`);
    const delegation = targets.every((t) => t.delegation === "secure") ? "secure" : "insecure";
    return {
      ok: true,
      code: "located",
      domain,
      delegation,
      targets,
      steps: run.steps,
      adUntrusted: run.adUntrusted(),
    };
  } catch (err) {
    if (!(err instanceof LocateAbort)) throw err;
    const delegation: Delegation = err.code === "dns-bogus" ? "bogus" : pathDelegation(run.steps);
    return {
      ok: false,
      code: err.code,
      domain,
      delegation,
      detail: err.detail,
      targets: [],
      steps: run.steps,
      adUntrusted: run.adUntrusted(),
    };
  }
}

class LocateRun {
  readonly steps: Step[] = [];
  sawAddressError = false;
  private readonly transports: readonly Transport[];
  private readonly addressCache = new Map<string, Promise<AddressSet[]>>();

  constructor(
    private readonly client: DnsQuerier,
    private readonly input: LocateInput,
    private readonly options: LocateOptions,
    private readonly domain: string,
  ) {
    this.transports = options.transports ?? ["tls"];
  }

  adUntrusted(): boolean {
    return this.steps.some((s) => s.adUntrusted);
  }

  async targets(): Promise<Target[]> {
    this.checkOptions();
    const param = this.input.transport ?? transportParam(this.input.params);
    if (isNumeric(this.input, this.domain)) return [this.numericTarget(this.transportFor(param))];
    if (!isValidName(this.domain))
      throw new LocateAbort("bad-input", `"${this.input.host}" is not a valid host name`);
    if (this.input.port !== undefined)
      return this.explicitPortTargets(this.transportFor(param), this.input.port);
    if (param !== undefined) {
      const transport = this.transportFor(param);
      return this.srvTargets([
        { name: `${srvPrefix(this.input.scheme, transport)}.${this.domain}`, transport, prefix: [] },
      ]);
    }
    return this.srvTargets(await this.naptrQueries());
  }

  private checkOptions(): void {
    const t = this.transports;
    if (t.length === 0 || t.some((x) => !ALL_TRANSPORTS.includes(x))) {
      throw new LocateAbort(
        "bad-input",
        `transports must be a non-empty list of ${ALL_TRANSPORTS.join(", ")}`,
      );
    }
    if (this.input.scheme === "sips" && !t.includes("tls")) {
      throw new LocateAbort(
        "transport-not-allowed",
        "a sips: URI needs TLS, which is not an allowed transport",
      );
    }
  }

  /**
   * RFC 3263 §4.1: an explicit transport parameter wins; `sips:` always means TLS (RFC 3261 §26.2.2), so its
   * `transport=tcp` is TLS over TCP. Without a parameter: TLS for sips, the first allowed transport for sip.
   */
  private transportFor(param: string | undefined): Transport {
    const sips = this.input.scheme === "sips";
    if (param === undefined) return sips ? "tls" : (this.transports[0] ?? "tls");
    const p = param.toLowerCase();
    const t: Transport | undefined =
      p === "tls" || (p === "tcp" && sips) ? "tls" : p === "tcp" ? "tcp" : p === "udp" ? "udp" : undefined;
    if (t === undefined || (sips && t !== "tls")) {
      throw new LocateAbort(
        "transport-not-allowed",
        `transport=${p} is not usable for a ${this.input.scheme}: URI`,
      );
    }
    if (!this.transports.includes(t))
      throw new LocateAbort("transport-not-allowed", `transport ${t} is not allowed`);
    return t;
  }

  private numericTarget(transport: Transport): Target {
    const port = this.input.port ?? defaultPort(transport);
    // RFC 6066 §3: SNI carries host names only, never IP literals; no DNS, so no DANE: insecure.
    return { host: this.domain, port, transport, delegation: "insecure", source: "numeric", steps: [] };
  }

  /** RFC 3263 §4.2: a port in the URI means A/AAAA of the host, no NAPTR or SRV. */
  private async explicitPortTargets(transport: Transport, port: number): Promise<Target[]> {
    const sets = await this.addresses(this.domain);
    return sets.flatMap((set) =>
      this.targetsFor(set, { port, transport, source: "explicit-port", hostName: this.domain }, []),
    );
  }

  private async naptrQueries(): Promise<SrvQuery[]> {
    const naptr = await this.resolve(this.domain, "NAPTR");
    this.abortOnFailure(naptr, `NAPTR ${this.domain}`);
    const selected = selectSipNaptr(naptr.records, this.input.scheme, this.transports).slice(
      0,
      this.options.maxNaptr ?? 6,
    );
    if (selected.length > 0)
      return selected.map((n) => ({ name: n.replacement, transport: n.transport, prefix: naptr.steps }));
    // RFC 3263 §4.1: no (usable) NAPTR → SRV queries for each transport the client supports, in our preference order.
    const allowed = this.input.scheme === "sips" ? ["tls" as const] : this.transports;
    return allowed.map((transport) => ({
      name: `${srvPrefix(this.input.scheme, transport)}.${this.domain}`,
      transport,
      prefix: [],
    }));
  }

  private async srvTargets(queries: readonly SrvQuery[]): Promise<Target[]> {
    const targets: Target[] = [];
    const denials: Step[] = [];
    let sawRecords = false;
    let sawDot = false;
    for (const q of queries) {
      const srv = await this.resolve(q.name, "SRV");
      this.abortOnFailure(srv, `SRV ${q.name}`);
      const records = srv.records.flatMap((r) => srvData(r) ?? []);
      // RFC 2782: a single SRV with target "." means the service is decidedly not available at this domain.
      if (records.length === 1 && canonicalName(records[0]?.target ?? "") === ".") sawDot = true;
      const usable = records.filter(
        (r) => canonicalName(r.target) !== "." && isValidName(canonicalName(r.target)),
      );
      if (usable.length === 0) denials.push(...q.prefix, ...srv.steps);
      else sawRecords = true;
      for (const r of orderSrv(usable, this.options.random)) {
        const host = canonicalName(r.target);
        const base = {
          port: r.port,
          transport: q.transport,
          source: "srv" as const,
          hostName: host,
          srvHost: host,
        };
        for (const set of await this.addresses(host))
          targets.push(...this.targetsFor(set, base, [...q.prefix, ...srv.steps]));
      }
    }
    if (sawRecords) return targets;
    if (sawDot)
      throw new LocateAbort("service-unavailable", `SRV says the service is not available at ${this.domain}`);
    return this.addressFallback(queries[0]?.transport ?? "tls", denials);
  }

  /** RFC 3263 §4.2: no SRV records → A/AAAA of the domain on the transport's default port. */
  private async addressFallback(transport: Transport, denials: readonly Step[]): Promise<Target[]> {
    const sets = await this.addresses(this.domain);
    const base = {
      port: defaultPort(transport),
      transport,
      source: "address-fallback" as const,
      hostName: this.domain,
    };
    return sets.flatMap((set) => this.targetsFor(set, base, denials));
  }

  private targetsFor(
    set: AddressSet,
    base: Pick<Target, "port" | "transport" | "source" | "hostName" | "srvHost">,
    prefix: readonly Step[],
  ): Target[] {
    const steps = [...prefix, ...set.steps];
    const delegation = pathDelegation(steps) === "secure" ? "secure" : "insecure";
    // DESIGN.md outbound step 4: SNI is the SRV target (or host) under DANE, else the SIP domain.
    const sniHost = delegation === "secure" ? (base.srvHost ?? base.hostName ?? this.domain) : this.domain;
    return set.addresses.map((host) => ({ ...base, host, sniHost, delegation, steps }));
  }

  /** A and AAAA of one host, each with its own status; memoised so shared SRV targets are asked once. */
  private addresses(host: string): Promise<AddressSet[]> {
    let pending = this.addressCache.get(host);
    if (pending === undefined) {
      pending = this.lookupAddresses(host);
      this.addressCache.set(host, pending);
    }
    return pending;
  }

  private async lookupAddresses(host: string): Promise<AddressSet[]> {
    const [a, aaaa] = await Promise.all([this.resolve(host, "A"), this.resolve(host, "AAAA")]);
    const sets: AddressSet[] = [];
    for (const [family, res] of [
      [4, a],
      [6, aaaa],
    ] as const) {
      if (res.status === "bogus")
        throw new LocateAbort("dns-bogus", `${family === 4 ? "A" : "AAAA"} ${host}: ${lastDetail(res)}`);
      // RFC 7673 §3.2: an address lookup that fails makes this host unusable, not the whole service.
      if (res.status === "error") this.sawAddressError = true;
      else
        sets.push({
          family,
          addresses: res.records.map((r) => String(r.data)),
          status: res.status,
          steps: res.steps,
        });
    }
    return this.options.addressOrder === "ipv6-first" ? sets.reverse() : sets;
  }

  private async resolve(name: string, type: "NAPTR" | "SRV" | "A" | "AAAA"): Promise<Resolution> {
    const res = await resolveFollowing(this.client, name, type);
    this.steps.push(...res.steps);
    return res;
  }

  private abortOnFailure(res: Resolution, what: string): void {
    if (res.status === "bogus") throw new LocateAbort("dns-bogus", `${what}: ${lastDetail(res)}`);
    if (res.status === "error")
      throw new LocateAbort("dns-error", `${what}: ${res.code} (${lastDetail(res)})`);
  }
}

function lastDetail(res: Resolution): string {
  return res.steps[res.steps.length - 1]?.detail ?? res.code;
}

function pathDelegation(steps: readonly Step[]): Delegation {
  if (steps.some((s) => s.status === "bogus")) return "bogus";
  return steps.length > 0 && steps.every((s) => s.status === "secure") ? "secure" : "insecure";
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function isNumeric(input: LocateInput, host: string): boolean {
  return input.hostKind === "ipv4" || input.hostKind === "ipv6" || isIP(host) !== 0;
}

function transportParam(params: LocateInput["params"]): string | undefined {
  const found = params?.find(([name]) => name.toLowerCase() === "transport");
  return found?.[1] ?? undefined;
}

function dedupe(targets: readonly Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.host}|${t.port}|${t.transport}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
