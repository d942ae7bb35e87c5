/** Public API of the pki layer (pure: certificates, identities, EKU, TLSA data, generation). */
export * from "./load.js";
export * from "./identities.js";
export * from "./eku.js";
export * from "./tlsa-data.js";
export * from "./describe.js";
export * from "./issue.js";
export { isDnsName, isIpLiteral, isLegacyWildcard } from "./dns-name.js";
export { parsePemBlocks, type PemBlock } from "./pem.js";
export { readExtensions, decodeOid, type RawExtension } from "./extensions.js";
export { readSubjectAltNames, type SubjectAltNames } from "./san.js";
export { DerError, subjectPublicKeyInfoDer } from "./der.js";
export * from "./chain.js";
export { CrlParseError, checkRevocation, type RevocationVerdict, type RevokedEntry } from "./crl.js";
export * from "./ocsp.js";
