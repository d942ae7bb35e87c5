/**
 * PEM blocks (RFC 7468). Text outside the BEGIN/END lines is ignored, as RFC 7468 §2 allows
 * ("explanatory text" such as `openssl x509 -text` output or PKCS#12 "Bag Attributes").
 */

export interface PemBlock {
  /** The label between "BEGIN " and the dashes, e.g. "CERTIFICATE". */
  readonly label: string;
  readonly der: Buffer;
  /** RFC 1421 headers inside the block (legacy encrypted keys carry `Proc-Type: 4,ENCRYPTED`). */
  readonly headers: ReadonlyMap<string, string>;
  /** 1-based index of the block in the input, for error messages. */
  readonly index: number;
}

export class PemError extends Error {
  override readonly name = "PemError";
  constructor(
    readonly code: "bad-pem",
    message: string,
  ) {
    super(message);
  }
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;

/** True when `text` contains at least one PEM BEGIN line. */
export function looksLikePem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/** All PEM blocks of `text`, in order. Throws PemError for an unterminated block or bad base64. */
export function parsePemBlocks(text: string): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec((lines[i] ?? "").trim());
    if (!begin) continue;
    const label = begin[1] ?? "";
    const end = findEnd(lines, i + 1, label);
    blocks.push(decodeBlock(label, lines.slice(i + 1, end), blocks.length + 1));
    i = end;
  }
  return blocks;
}

function findEnd(lines: readonly string[], from: number, label: string): number {
  const endLine = `-----END ${label}-----`;
  for (let j = from; j < lines.length; j++) {
    if ((lines[j] ?? "").trim() === endLine) return j;
  }
  throw new PemError("bad-pem", `PEM block "${label}" has no END line`);
}

function decodeBlock(label: string, body: readonly string[], index: number): PemBlock {
  const headers = new Map<string, string>();
  const base64: string[] = [];
  for (const raw of body) {
    const line = raw.trim();
    const header = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (header && base64.length === 0) {
      headers.set(header[1] ?? "", header[2] ?? "");
      continue;
    }
    if (!BASE64_LINE.test(line)) {
      throw new PemError("bad-pem", `PEM block ${index} ("${label}") contains a line that is not base64`);
    }
    base64.push(line);
  }
  const joined = base64.join("");
  if (joined.length === 0 || joined.length % 4 !== 0) {
    throw new PemError("bad-pem", `PEM block ${index} ("${label}") has a truncated or empty base64 body`);
  }
  return { label, der: Buffer.from(joined, "base64"), headers, index };
}
