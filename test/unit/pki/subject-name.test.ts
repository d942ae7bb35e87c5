// The subject CN values of a certificate, read from the DER Name (pki/subject-name.ts): the CN mapping (auth)
// and the RFC 5922 §7.1 CN rule (identities.ts) both read CNs here.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCa, issueCertificate } from "../../../src/pki/issue.js";
import { readSubjectCommonNames } from "../../../src/pki/subject-name.js";
import {
  contextTag,
  integer,
  oid,
  printableString,
  sequence,
  set,
  time,
  tlv,
  utf8String,
} from "../../../src/pki/der-writer.js";

const CN = "2.5.4.3";
const UID = "0.9.2342.19200300.100.1.1";
const C = "2.5.4.6";
const O = "2.5.4.10";

const ava = (type: string, value: Buffer): Buffer => sequence(oid(type), value);
const rdn = (...avas: Buffer[]): Buffer => set(...avas);

/** Just the TBSCertificate fields readSubjectCommonNames walks past, then `subject`. */
function certWithSubject(subject: Buffer): Buffer {
  const now = new Date();
  const issuer = sequence(rdn(ava(CN, utf8String("issuer"))));
  const tbs = sequence(
    contextTag(0, integer(2), true),
    integer(1),
    sequence(oid("1.2.840.10045.4.3.2")),
    issuer,
    sequence(time(now), time(now)),
    subject,
  );
  return sequence(tbs);
}

describe("readSubjectCommonNames", () => {
  it("returns every CN in encoding order, multi-valued RDNs included, with no escaping to undo", () => {
    const subject = sequence(
      rdn(ava(C, printableString("DE"))),
      rdn(ava(CN, utf8String("a, b")), ava(UID, utf8String("1"))),
      rdn(ava(CN, utf8String("second"))),
    );
    assert.deepEqual(readSubjectCommonNames(certWithSubject(subject)), ["a, b", "second"]);
  });

  it("decodes UTF-8 and BMPString values", () => {
    const bmp = tlv(0x1e, Buffer.from("xü", "utf16le").swap16());
    const subject = sequence(rdn(ava(CN, utf8String("xü"))), rdn(ava(CN, bmp)));
    assert.deepEqual(readSubjectCommonNames(certWithSubject(subject)), ["xü", "xü"]);
  });

  it("a subject without CN yields none", () => {
    assert.deepEqual(readSubjectCommonNames(certWithSubject(sequence(rdn(ava(O, utf8String("only")))))), []);
  });

  it("reads a generated certificate the same way", () => {
    const cert = issueCertificate(createCa(), {
      subject: [
        ["CN", "00:11:22:33:44:55"],
        ["O", "Devices"],
        ["CN", "second"],
      ],
    }).certificate;
    assert.deepEqual(readSubjectCommonNames(cert.raw), ["00:11:22:33:44:55", "second"]);
  });
});
