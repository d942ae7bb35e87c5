/** Shared builders for the auth tests: peers assembled from parts, without certificates. */
import { createHash } from "node:crypto";
import type { SipIdentity } from "../../../src/pki/identities.js";
import type { IssuingCa } from "../../../src/auth/ca-rights.js";
import { parseCnMapping } from "../../../src/auth/cn-mapping.js";
import { peerIdentitiesFromParts, type PeerIdentities } from "../../../src/auth/peer.js";

/** A stable, realistic-looking SHA-256 fingerprint for a made-up CA. */
export function fakeFingerprint(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** Node's colon-separated upper-case form, as operators paste it from `openssl x509 -fingerprint`. */
export function colonForm(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(":");
}

export const FED_A: IssuingCa = {
  fingerprint: fakeFingerprint("fed-a"),
  subject: "C=DE\nO=Fed A\nCN=Fed A Root",
};
export const FED_B: IssuingCa = {
  fingerprint: fakeFingerprint("fed-b"),
  subject: "C=FR\nO=Fed B\nCN=Fed B Root",
};
export const FED_A_SUB: IssuingCa = {
  fingerprint: fakeFingerprint("fed-a-sub"),
  subject: "C=DE\nO=Fed A\nCN=Fed A Issuing 1",
};

export const DEVICE_CN = "00:11:22:33:44:55";

export const MAPPING = parseCnMapping(`${DEVICE_CN}\tc.example, sip:carol@d.example\n`, "devices.map");

export function domain(value: string, source: SipIdentity["source"] = "san-uri"): SipIdentity {
  return { kind: "domain", value, source };
}

export function uri(value: string, source: SipIdentity["source"] = "san-uri"): SipIdentity {
  return { kind: "uri", value, source };
}

/**
 * The reference peer: domain identity a.example, URI identity sip:bob@b.example, device CN mapped to
 * c.example and sip:carol@d.example, chain Fed A Issuing 1 → Fed A Root.
 */
export function referencePeer(
  overrides: Partial<Parameters<typeof peerIdentitiesFromParts>[0]> = {},
): PeerIdentities {
  return peerIdentitiesFromParts({
    certificateIdentities: [domain("a.example"), uri("sip:bob@b.example")],
    subjectCns: [DEVICE_CN],
    issuers: [FED_A_SUB, FED_A],
    mapping: MAPPING,
    ...overrides,
  });
}
