/**
 * The DNS layer: a stub client for a validating resolver (with DNSSEC status per answer), a TTL cache, the RFC 3263
 * locator with the secure-delegation verdict, and TLSA lookup.
 */
export type { AnswerCode, DnsAnswer, DnssecStatus } from "./answer.js";
export { DnsCache, negativeTtl, positiveTtl, type DnsCacheOptions } from "./cache.js";
export { DnsClient, type DnsClientOptions, type DnsCounters, type DnsQuerier } from "./client.js";
export { decodeEde, extractEde, type ExtendedError } from "./ede.js";
export { DnsConfigError, type DnsConfigErrorCode } from "./errors.js";
export {
  locate,
  type Delegation,
  type LocateFailureCode,
  type LocateInput,
  type LocateOptions,
  type LocateResult,
  type Target,
  type Transport,
} from "./locator.js";
export { formatRecord, formatRdata } from "./records.js";
export { resolveFollowing, type Resolution, type Step } from "./resolve.js";
export {
  isLoopbackAddress,
  parseResolvConf,
  parseResolverAddress,
  systemResolver,
  type ResolverEndpoint,
} from "./resolver-config.js";
export { orderSrv } from "./srv-order.js";
export { decodeTlsaRdata, lookupTlsa, tlsaName, type TlsaLookup } from "./tlsa.js";
export type { QueryType, WireRecord } from "./wire.js";
