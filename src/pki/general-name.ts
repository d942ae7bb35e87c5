/**
 * GeneralName (RFC 5280 §4.2.1.6) read from DER, in a form path validation can compare: subjectAltName
 * entries and name-constraint subtree bases share this type.
 */
import { canonicalName, type CanonicalName } from "./distinguished-name.js";
import type { DerElement } from "./der.js";

export type GeneralName =
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "uri"; readonly value: string }
  | { readonly type: "email"; readonly value: string }
  | { readonly type: "ip"; readonly bytes: Buffer }
  | { readonly type: "dn"; readonly name: CanonicalName }
  | { readonly type: "other"; readonly tag: number };

/** The name form of a GeneralName, as used to group constraints. */
export type GeneralNameType = GeneralName["type"];

// GeneralName CHOICE tags, context-specific (RFC 5280 §4.2.1.6): IA5String and OCTET STRING forms are
// IMPLICIT primitives; directoryName [4] is EXPLICIT (Name is a CHOICE), hence constructed.
const TAG_RFC822 = 0x81;
const TAG_DNS = 0x82;
const TAG_DIRECTORY = 0xa4;
const TAG_URI = 0x86;
const TAG_IP = 0x87;

/** Converts one GeneralName element; forms we do not process become `other` with their tag number. */
export function readGeneralName(el: DerElement): GeneralName {
  switch (el.tag) {
    case TAG_RFC822:
      return { type: "email", value: el.value.toString("latin1") };
    case TAG_DNS:
      return { type: "dns", value: el.value.toString("latin1") };
    case TAG_URI:
      return { type: "uri", value: el.value.toString("latin1") };
    case TAG_IP:
      return { type: "ip", bytes: Buffer.from(el.value) };
    case TAG_DIRECTORY:
      return { type: "dn", name: canonicalName(el.value) };
    default:
      return { type: "other", tag: el.tag & 0x1f };
  }
}

/** Human form of a name, for details. */
export function describeGeneralName(name: GeneralName): string {
  switch (name.type) {
    case "dns":
      return `DNS:${name.value}`;
    case "uri":
      return `URI:${name.value}`;
    case "email":
      return `email:${name.value}`;
    case "ip":
      return `IP:${formatIp(name.bytes)}`;
    case "dn":
      return `DirName:${name.name.text}`;
    case "other":
      return `GeneralName[${name.tag}]`;
  }
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length === 8) return `${[...bytes.subarray(0, 4)].join(".")}/${[...bytes.subarray(4)].join(".")}`;
  return bytes.toString("hex");
}
