/** Public API of the auth layer (pure): peer identities, CN mappings, CA rights, per-message authorization. */
export * from "./authorize.js";
export * from "./ca-rights.js";
export * from "./cn-mapping.js";
export * from "./peer.js";
export { certificateFingerprint, normalizeFingerprint } from "./fingerprint.js";
export {
  identityText,
  parseIdentityText,
  type DomainIdentity,
  type IdentitySource,
  type PeerIdentity,
  type UriIdentity,
} from "./identity.js";
