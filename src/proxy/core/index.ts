/** Public API of the proxy core (RFC 3261 §16 proxy behaviour over the §17 transactions). */
export type { Flow, Side } from "./flow.js";
export type {
  AcquireDestination,
  HopProvider,
  InnerTarget,
  LocalInterfaces,
  OutsideFlowResult,
} from "./hops.js";
export type { TransactionSummary } from "./summary.js";
export { ProxyCore, type ProxyCoreOptions } from "./proxy-core.js";
export { FlowTokens, type FlowTokenResult } from "./flow-token.js";
export { reasonHeader } from "./response-context.js";
