/** Public surface of the DANE layer (pure): TLSA records, association data, and verification. */
export { verifyDane, MAX_PRESENTED_CHAIN } from "./verify.js";
export type {
  AnchorSource,
  DaneFailure,
  DaneFailureCode,
  DaneMatch,
  DaneMethod,
  DaneOptions,
  DaneResult,
  DaneSuccess,
  DaneSuccessCode,
  DaneVerifyInput,
} from "./result.js";
export {
  MATCHING,
  SELECTOR,
  USAGE,
  classifyRecord,
  classifyRecords,
  describeRecord,
  type TlsaMatchingType,
  type TlsaRecord,
  type TlsaSelector,
  type TlsaUsage,
  type UnusableReason,
  type UnusableTlsaRecord,
  type UsableTlsaRecord,
} from "./tlsa.js";
export { associationData, certificateAssociation, selectedContent } from "./association.js";
export { DEFAULT_DIGEST_PREFERENCE, applyDigestAgility, type DigestMatchingType } from "./agility.js";
export { checkNames, referenceNames, type NameCheckResult, type ReferenceIdentifiers } from "./names.js";
