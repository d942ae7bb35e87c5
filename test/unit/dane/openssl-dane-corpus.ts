/**
 * Reader for OpenSSL's DANE test vectors (test/danetest.in, test/dane-cross.in), exactly as OpenSSL's driver
 * test/danetest.c reads them (see ../shared/corpora/dane/PROVENANCE.md):
 * - blank lines and lines starting with "#" are skipped before a block header;
 * - the header is five integers: TLSA count, certificate count, nonamechecks, expected verify result,
 *   expected match depth;
 * - then exactly <TLSA count> lines "usage selector mtype hex" (whitespace inside the hex allowed);
 * - then <certificate count> PEM certificates; PEM_read_bio skips every non-PEM line before a BEGIN line,
 *   so anything between the TLSA lines and the first certificate is ignored — including extra TLSA lines
 *   beyond the declared count (tests 43–46 of danetest.in have one, and OpenSSL never loads it).
 */
import type { X509Certificate } from "node:crypto";
import { parseCertificates } from "../../../src/pki/load.js";
import type { TlsaRecord } from "../../../src/dane/tlsa.js";

export interface DaneCorpusCase {
  readonly file: string;
  /** 1-based, counted by header lines as danetest.c counts. */
  readonly testNo: number;
  readonly headerLine: number;
  readonly noNameChecks: boolean;
  /** OpenSSL X509_V_* code expected after verification. */
  readonly wantVerifyResult: number;
  /** SSL_get0_dane_authority() depth, -1 when no record matched. */
  readonly wantMatchDepth: number;
  readonly records: TlsaRecord[];
  /** TLSA-looking lines after the declared ones, which OpenSSL's driver skips (tests 43–46). */
  readonly undeclaredRecords: TlsaRecord[];
  readonly chain: X509Certificate[];
}

export class CorpusFormatError extends Error {
  override readonly name = "CorpusFormatError";
  readonly code = "bad-corpus";
}

const HEADER = /^(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$/;
const TLSA_LINE = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f\s]+)$/;
const PEM_BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;

export function parseDaneCorpus(text: string, file: string): DaneCorpusCase[] {
  const lines = text.split("\n").map((l) => l.replace(/\s+$/, ""));
  const cases: DaneCorpusCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const header = HEADER.exec(line);
    if (!header) throw new CorpusFormatError(`${file}:${i + 1}: malformed block header "${line}"`);
    const [ntlsa, ncert, noncheck, want, wantDepth] = header.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const headerLine = i + 1;
    i++;
    const records: TlsaRecord[] = [];
    for (let k = 0; k < ntlsa; k++, i++) records.push(parseTlsaLine(lines[i], file, i + 1));
    const undeclaredRecords: TlsaRecord[] = [];
    for (; i < lines.length && TLSA_LINE.test(lines[i] as string); i++) {
      undeclaredRecords.push(parseTlsaLine(lines[i], file, i + 1));
    }
    const { chain, next } = readCertificates(lines, i, ncert, file);
    i = next;
    cases.push({
      file,
      testNo: cases.length + 1,
      headerLine,
      noNameChecks: noncheck !== 0,
      wantVerifyResult: want,
      wantMatchDepth: wantDepth,
      records,
      undeclaredRecords,
      chain,
    });
  }
  return cases;
}

function parseTlsaLine(line: string | undefined, file: string, lineNo: number): TlsaRecord {
  const m = line === undefined ? null : TLSA_LINE.exec(line);
  if (!m) throw new CorpusFormatError(`${file}:${lineNo}: malformed TLSA line`);
  const hex = (m[4] as string).replace(/\s+/g, "");
  if (hex.length % 2 !== 0) throw new CorpusFormatError(`${file}:${lineNo}: odd number of hex digits`);
  return {
    usage: Number(m[1]),
    selector: Number(m[2]),
    matchingType: Number(m[3]),
    data: Buffer.from(hex, "hex"),
  };
}

function readCertificates(
  lines: readonly string[],
  start: number,
  count: number,
  file: string,
): { chain: X509Certificate[]; next: number } {
  const chain: X509Certificate[] = [];
  let i = start;
  while (chain.length < count) {
    while (i < lines.length && !PEM_BEGIN.test(lines[i] as string)) i++;
    if (i >= lines.length)
      throw new CorpusFormatError(`${file}: expected ${count} certificates from line ${start + 1}`);
    const label = (PEM_BEGIN.exec(lines[i] as string) as RegExpExecArray)[1] as string;
    const end = lines.indexOf(`-----END ${label}-----`, i);
    if (end < 0) throw new CorpusFormatError(`${file}:${i + 1}: PEM block without END line`);
    const block = lines.slice(i, end + 1).join("\n");
    chain.push(...parseCertificates(block, `${file}:${i + 1}`));
    i = end + 1;
  }
  return { chain, next: i };
}
