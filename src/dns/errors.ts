/**
 * Typed errors of the DNS layer. Query outcomes are never thrown (they are `DnsAnswer` results); these errors are
 * for configuration that cannot work at all (an unparsable resolver address), so a caller fails early and clearly.
 */
export type DnsConfigErrorCode = "bad-resolver-address" | "bad-option";

export class DnsConfigError extends Error {
  override readonly name = "DnsConfigError";
  constructor(
    readonly code: DnsConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}
