/**
 * Extended Key Usage for SIP certificates, RFC 5924 §4. OpenSSL's purpose check would reject a certificate
 * whose EKU holds only id-kp-sipDomain; the verdict here follows RFC 5924 instead, so TLS code validates
 * chains without OpenSSL's purpose check and applies `checkSipEku` to the leaf.
 */
import type { X509Certificate } from "node:crypto";
import { DerError, readChildren, readElement } from "./der.js";
import { OID_EXTENDED_KEY_USAGE, decodeOid, findExtension, readExtensions } from "./extensions.js";
import { tryParseCert } from "./parsed-cert.js";

export const OID_KP_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
export const OID_KP_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
/** RFC 5924 §3: id-kp-sipDomain. */
export const OID_KP_SIP_DOMAIN = "1.3.6.1.5.5.7.3.20";
/** RFC 5280 §4.2.1.12: anyExtendedKeyUsage. */
export const OID_ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

/** The two cases RFC 5924 §4 leaves to "local policy". Both default to accept, as explained below. */
export interface EkuPolicy {
  /** No EKU extension. RFC 5924 §4: "the more interoperable local policy would be to accept". Default true. */
  acceptMissingEku?: boolean;
  /** anyExtendedKeyUsage without id-kp-sipDomain: the CA allowed every purpose. Default true. */
  acceptAnyExtendedKeyUsage?: boolean;
}

export type EkuOkCode = "eku-absent" | "eku-sip-domain" | "eku-any" | "eku-server-auth" | "eku-client-auth";
export type EkuFailCode =
  "eku-absent-rejected" | "eku-any-rejected" | "eku-not-sip" | "eku-wrong-role" | "eku-malformed";

export type EkuResult =
  | { ok: true; code: EkuOkCode; eku: string[]; detail: string }
  | { ok: false; code: EkuFailCode; eku: string[]; detail: string };

/** The EKU OIDs of `cert`, or undefined when it has no EKU extension. Throws DerError if malformed. */
export function readExtendedKeyUsage(cert: X509Certificate): string[] | undefined {
  // The handshake's one decode (parsed-cert.ts) when the certificate parses; otherwise decode here, so that a
  // malformed certificate is reported exactly as before.
  const extensions = tryParseCert(cert)?.rawExtensions ?? readExtensions(cert.raw);
  const ext = findExtension(extensions, OID_EXTENDED_KEY_USAGE);
  if (!ext) return undefined;
  const seq = readElement(ext.value);
  if (seq.tag !== 0x30) throw new DerError("ExtKeyUsageSyntax is not a SEQUENCE");
  const oids = readChildren(seq.value).map((el) => {
    if (el.tag !== 0x06) throw new DerError("ExtKeyUsageSyntax holds a non-OID element");
    return decodeOid(el.value);
  });
  // RFC 5280 §4.2.1.12: ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId
  if (oids.length === 0) throw new DerError("ExtKeyUsageSyntax is empty");
  return oids;
}

/** RFC 5924 §4: may `cert` be used as a SIP certificate in `role`? */
export function checkSipEku(
  cert: X509Certificate,
  role: "server" | "client",
  policy: EkuPolicy = {},
): EkuResult {
  let eku: string[] | undefined;
  try {
    eku = readExtendedKeyUsage(cert);
  } catch (err) {
    return {
      ok: false,
      code: "eku-malformed",
      eku: [],
      detail: `extended key usage unreadable: ${(err as Error).message}`,
    };
  }
  return eku === undefined ? decideMissing(policy) : decidePresent(eku, role, policy);
}

// RFC 5924 §4, first rule: no EKU extension → local policy.
function decideMissing(policy: EkuPolicy): EkuResult {
  if (policy.acceptMissingEku ?? true) {
    return {
      ok: true,
      code: "eku-absent",
      eku: [],
      detail: "no EKU extension: accepted by local policy (RFC 5924 §4)",
    };
  }
  return {
    ok: false,
    code: "eku-absent-rejected",
    eku: [],
    detail: "no EKU extension and local policy requires one",
  };
}

function decidePresent(eku: string[], role: "server" | "client", policy: EkuPolicy): EkuResult {
  // RFC 5924 §4: id-kp-sipDomain present → implementations "MUST consider the certificate acceptable".
  if (eku.includes(OID_KP_SIP_DOMAIN)) {
    return { ok: true, code: "eku-sip-domain", eku, detail: "id-kp-sipDomain present (RFC 5924 §4)" };
  }
  // RFC 5924 §4: anyExtendedKeyUsage without id-kp-sipDomain → local policy.
  if (eku.includes(OID_ANY_EXTENDED_KEY_USAGE)) {
    if (policy.acceptAnyExtendedKeyUsage ?? true) {
      return {
        ok: true,
        code: "eku-any",
        eku,
        detail: "anyExtendedKeyUsage: accepted by local policy (RFC 5924 §4)",
      };
    }
    return {
      ok: false,
      code: "eku-any-rejected",
      eku,
      detail: "anyExtendedKeyUsage without id-kp-sipDomain refused by policy",
    };
  }
  return decideTlsPurpose(eku, role);
}

function decideTlsPurpose(eku: string[], role: "server" | "client"): EkuResult {
  const hasServer = eku.includes(OID_KP_SERVER_AUTH);
  const hasClient = eku.includes(OID_KP_CLIENT_AUTH);
  // RFC 5924 §4: none of sipDomain, anyExtendedKeyUsage, serverAuth, clientAuth → "MUST NOT be accepted".
  if (!hasServer && !hasClient) {
    return {
      ok: false,
      code: "eku-not-sip",
      eku,
      detail: "EKU holds none of sipDomain, any, serverAuth, clientAuth (RFC 5924 §4)",
    };
  }
  // RFC 5280 §4.2.1.12: with an EKU present the key may be used only for the listed purposes, so the TLS
  // purpose must fit the role the certificate is presented in.
  if (role === "server" && hasServer) {
    return { ok: true, code: "eku-server-auth", eku, detail: "id-kp-serverAuth for a TLS server" };
  }
  if (role === "client" && hasClient) {
    return { ok: true, code: "eku-client-auth", eku, detail: "id-kp-clientAuth for a TLS client" };
  }
  const needed = role === "server" ? "id-kp-serverAuth" : "id-kp-clientAuth";
  return {
    ok: false,
    code: "eku-wrong-role",
    eku,
    detail: `certificate used as TLS ${role} lacks ${needed}`,
  };
}
