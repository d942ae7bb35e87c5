/**
 * The real `OutboundResolver`: src/dns's stub client, RFC 3263 locator and TLSA lookup, with their records
 * reshaped into what verifyOutbound and `siptrust check` show. No decision is taken here: the locator decides
 * the delegation (draft-johansson-dispatch-dane-sip, RFC 7673 §3) and the DNSSEC status of every step.
 */
import type { DnsQuerier } from "../dns/client.js";
import { locate, type LocateOptions, type LocateResult, type Target } from "../dns/locator.js";
import type { Step } from "../dns/resolve.js";
import { lookupTlsa } from "../dns/tlsa.js";
import type {
  LocatedTarget,
  Location,
  LocationStep,
  OutboundDestination,
  OutboundResolver,
  TlsaLookup,
} from "./outbound.js";

export interface ResolverAdapterOptions {
  readonly locate?: LocateOptions;
  /** Resolver label for warnings (e.g. "192.0.2.53:53"). */
  readonly resolverLabel?: string;
  /** False when the resolver's AD bit is not believed (not loopback, not configured trusted): always warn. */
  readonly adTrusted?: boolean;
}

export class DnsOutboundResolver implements OutboundResolver {
  constructor(
    private readonly client: DnsQuerier,
    private readonly options: ResolverAdapterOptions = {},
  ) {}

  async locate(destination: OutboundDestination): Promise<Location> {
    const result = await locate(this.client, destination, this.options.locate);
    const location = toLocation(result, this.options.resolverLabel);
    if (this.options.adTrusted !== false || (location.warnings?.length ?? 0) > 0) return location;
    return { ...location, warnings: [untrustedAdWarning(this.options.resolverLabel, false)] };
  }

  async lookupTlsa(port: number, host: string): Promise<TlsaLookup> {
    const found = await lookupTlsa(this.client, port, host);
    return { status: found.status, records: found.records, steps: found.steps.map(toLocationStep) };
  }
}

export function toLocation(result: LocateResult, resolverLabel?: string): Location {
  const base = {
    delegation: result.delegation,
    steps: result.steps.map(toLocationStep),
    warnings: result.adUntrusted ? [untrustedAdWarning(resolverLabel)] : [],
  };
  if (!result.ok) return { ...base, targets: [], code: result.code, detail: result.detail };
  return { ...base, targets: result.targets.map(toLocatedTarget) };
}

export function toLocationStep(step: Step): LocationStep {
  return {
    name: step.name,
    type: step.type,
    status: step.status,
    ttl: step.ttl,
    answers: step.answers,
    code: step.code,
    detail: step.detail,
  };
}

function toLocatedTarget(target: Target): LocatedTarget {
  return {
    address: target.host,
    port: target.port,
    transport: target.transport,
    srvHost: target.srvHost,
    delegation: target.delegation,
  };
}

// RFC 6840 §5.8 / RFC 4035 §3.2.3: an AD bit from a resolver reached over an untrusted path proves nothing.
function untrustedAdWarning(label: string | undefined, sawAd = true): string {
  const who = label ? `resolver ${label}` : "the resolver";
  const what = sawAd ? "set AD=1 but is" : "is";
  return `${who} ${what} not on loopback nor marked trusted: its answers count as insecure, so DANE cannot apply`;
}
