/**
 * Public surface of the DANE layer (pure): TLSA records and verification. The TLSA parameter types and
 * association data come from the pki layer (pki/tlsa-data.ts, exported by pki/index.ts).
 */
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
  type TlsaRecord,
  type UnusableReason,
  type UnusableTlsaRecord,
  type UsableTlsaRecord,
} from "./tlsa.js";
export { DEFAULT_DIGEST_PREFERENCE, applyDigestAgility, type DigestMatchingType } from "./agility.js";
export { checkNames, referenceNames, type NameCheckResult, type ReferenceIdentifiers } from "./names.js";
