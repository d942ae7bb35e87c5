/**
 * GeneralName (RFC 5280 §4.2.1.6) in a form the path-validation code can compare: subjectAltName entries and
 * name-constraint subtree bases share this type.
 */
import * as asn1js from "asn1js";
import { RelativeDistinguishedNames, type GeneralName as PkijsGeneralName } from "pkijs";
import { canonicalName, type CanonicalName } from "./distinguished-name.js";

export type GeneralName =
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "uri"; readonly value: string }
  | { readonly type: "email"; readonly value: string }
  | { readonly type: "ip"; readonly bytes: Buffer }
  | { readonly type: "dn"; readonly name: CanonicalName }
  | { readonly type: "other"; readonly tag: number };

/** The name form of a GeneralName, as used to group constraints. */
export type GeneralNameType = GeneralName["type"];

// GeneralName CHOICE tags (RFC 5280 §4.2.1.6).
const RFC822 = 1;
const DNS = 2;
const DIRECTORY = 4;
const URI = 6;
const IP = 7;

/** Converts a pkijs GeneralName; unsupported forms become `other` with their tag. */
export function fromPkijs(name: PkijsGeneralName): GeneralName {
  switch (name.type) {
    case RFC822:
      return { type: "email", value: String(name.value) };
    case DNS:
      return { type: "dns", value: String(name.value) };
    case URI:
      return { type: "uri", value: String(name.value) };
    case IP:
      return { type: "ip", bytes: octets(name.value) };
    case DIRECTORY:
      return name.value instanceof RelativeDistinguishedNames
        ? { type: "dn", name: canonicalName(name.value) }
        : { type: "other", tag: name.type };
    default:
      return { type: "other", tag: name.type };
  }
}

function octets(value: unknown): Buffer {
  if (value instanceof asn1js.OctetString) return Buffer.from(value.valueBlock.valueHexView);
  return Buffer.alloc(0);
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
