/**
 * Library entry point of siptrust. The pure building blocks (SIP messages, certificate identities and
 * chains, DANE, per-message authorization) and the outbound verification procedure with its DNS side.
 */
export * from "./sip/index.js";
export * from "./pki/index.js";
export * from "./auth/index.js";
export * from "./dane/index.js";
export * from "./dns/index.js";
export { verifyOutbound } from "./tls/outbound.js";
export type { OutboundOptions, OutboundResult, OutboundAttempt, OutboundResolver } from "./tls/outbound.js";
export { DnsOutboundResolver } from "./tls/resolver-adapter.js";
export { decideServerTrust } from "./tls/server-trust.js";
