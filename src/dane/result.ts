/** Input and result types of DANE verification (RFC 6698, RFC 7671, RFC 7673). */
import type { X509Certificate } from "node:crypto";
import type { ChainResult, TrustAnchor } from "../pki/chain.js";
import type { Crl } from "../pki/crl.js";
import type { DigestMatchingType } from "./agility.js";
import type { NameCheckResult, ReferenceIdentifiers } from "./names.js";
import type { TlsaUsage } from "../pki/tlsa-data.js";
import type { TlsaRecord, UnusableTlsaRecord } from "./tlsa.js";

export interface DaneOptions {
  /**
   * Skip name checks after a DANE-EE(3) match (OpenSSL's DANE_FLAG_NO_DANE_EE_NAMECHECKS). Default true:
   * RFC 7671 §5.1 — with DANE-EE the DNS record itself binds the key to the name, so the certificate's names
   * (and its dates) are not checked.
   */
  readonly noNameChecksForDaneEe?: boolean;
  /** Let DNS-ID wildcards match (RFC 6125 §6.4.3). Default false. */
  readonly allowWildcards?: boolean;
  /** Digest matching types supported, strongest first (RFC 7671 §9). Default SHA-512, SHA-256. */
  readonly digestPreference?: readonly DigestMatchingType[];
}

export interface DaneVerifyInput {
  /** The peer's chain as presented in the TLS handshake, leaf first. */
  readonly chain: readonly X509Certificate[];
  /** The TLSA RRset (from a DNSSEC-secure answer: the caller checks that). */
  readonly records: readonly TlsaRecord[];
  /** SRV target host and SIP domain (RFC 7673 §4). */
  readonly reference: ReferenceIdentifiers;
  /** Configured PKIX trust anchors, used only for PKIX-TA(0) and PKIX-EE(1). */
  readonly pkixAnchors?: readonly TrustAnchor[];
  readonly crls?: readonly Crl[];
  /** Verification time; default now. */
  readonly at?: Date;
  /** Extended key usage required of the leaf; default "server" (we verify the server we connect to). */
  readonly purpose?: "server" | "client" | "any";
  readonly options?: DaneOptions;
}

export type DaneMethod = "dane-ee" | "dane-ta" | "pkix-ta" | "pkix-ee";

/** Where a DANE-TA(2) trust anchor came from. */
export type AnchorSource = "presented-chain" | "tlsa-certificate" | "tlsa-public-key";

export interface DaneMatch {
  readonly record: TlsaRecord;
  /** Position of the record in the input RRset. */
  readonly recordIndex: number;
  readonly usage: TlsaUsage;
  /**
   * Chain depth (0 = leaf) of the certificate the record matched, as OpenSSL's SSL_get0_dane_authority
   * reports it; for a bare public key (2 1 0), the depth of the certificate that key signed.
   */
  readonly depth: number;
  readonly anchorSource?: AnchorSource;
}

export type DaneSuccessCode = "dane-ee-match" | "dane-ta-match" | "pkix-ta-match" | "pkix-ee-match";

export interface DaneSuccess {
  readonly ok: true;
  readonly method: DaneMethod;
  readonly code: DaneSuccessCode;
  readonly matched: DaneMatch;
  /** The validated chain, leaf first (just the leaf for DANE-EE). */
  readonly chain: readonly X509Certificate[];
  /** The name check that passed; absent when names were not checked (DANE-EE by default). */
  readonly names?: Extract<NameCheckResult, { ok: true }>;
  /** Records ignored as unusable (RFC 7671 §4.1), for reports. */
  readonly ignored: readonly UnusableTlsaRecord[];
}

type ChainErrorCode = Extract<ChainResult, { ok: false }>["code"];

export type DaneFailureCode =
  "empty-chain" | "dane-no-usable-records" | "dane-no-match" | "hostname-mismatch" | ChainErrorCode;

export interface DaneFailure {
  readonly ok: false;
  readonly code: DaneFailureCode;
  readonly detail: string;
  /** Set when a record did match but a later step (chain validation, names) failed. */
  readonly matched?: DaneMatch;
  readonly method?: DaneMethod;
  readonly ignored: readonly UnusableTlsaRecord[];
}

export type DaneResult = DaneSuccess | DaneFailure;
