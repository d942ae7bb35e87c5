/**
 * Maps a decoded response to its DNSSEC status (see answer.ts for the four states).
 */
import type { AnswerCode, DnssecStatus } from "./answer.js";
import type { ExtendedError } from "./ede.js";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface StatusInput {
  readonly rcode: number;
  readonly ad: boolean;
  readonly adTrusted: boolean;
  readonly ede: readonly ExtendedError[];
  readonly hasRecords: boolean;
}

export interface StatusVerdict {
  readonly status: DnssecStatus;
  readonly code: AnswerCode;
  readonly adUntrusted: boolean;
  readonly detail: string;
}

export function classifyResponse(input: StatusInput): StatusVerdict {
  if (input.rcode === RCODE.NOERROR || input.rcode === RCODE.NXDOMAIN) return classifyAnswered(input);
  if (input.rcode === RCODE.SERVFAIL) return classifyServfail(input.ede);
  const code: AnswerCode =
    input.rcode === RCODE.REFUSED ? "refused" : input.rcode === RCODE.FORMERR ? "formerr" : "rcode";
  return { status: "error", code, adUntrusted: false, detail: `resolver answered RCODE ${input.rcode}` };
}

/**
 * RFC 4035 §3.2.3: AD=1 means the resolver validated every RRset in the answer and authority sections. We believe it
 * only from a trusted resolver (RFC 6840 §5.8); otherwise the answer is insecure and the untrusted AD is flagged.
 */
function classifyAnswered(input: StatusInput): StatusVerdict {
  const code: AnswerCode =
    input.rcode === RCODE.NXDOMAIN ? "nxdomain" : input.hasRecords ? "answer" : "nodata";
  if (input.ad && input.adTrusted) return { status: "secure", code, adUntrusted: false, detail: "AD=1" };
  if (input.ad) {
    return {
      status: "insecure",
      code,
      adUntrusted: true,
      detail: "AD=1 from an untrusted resolver: not believed",
    };
  }
  return { status: "insecure", code, adUntrusted: false, detail: "AD=0" };
}

/**
 * A validating resolver answers SERVFAIL for bogus data (RFC 4035 §5.5), but also for unreachable servers and
 * timeouts. RFC 8914 EDE codes tell them apart; without one we cannot, so it is an `error`, not `bogus`.
 */
function classifyServfail(ede: readonly ExtendedError[]): StatusVerdict {
  const failure = ede.find((e) => e.dnssecFailure);
  if (failure !== undefined) {
    const text = failure.text === "" ? "" : `: ${failure.text}`;
    return {
      status: "bogus",
      code: "servfail",
      adUntrusted: false,
      detail: `DNSSEC validation failed (EDE ${failure.infoCode} ${failure.name}${text})`,
    };
  }
  const other = ede[0];
  const detail =
    other === undefined ? "SERVFAIL without EDE" : `SERVFAIL (EDE ${other.infoCode} ${other.name})`;
  return { status: "error", code: "servfail", adUntrusted: false, detail };
}

const RANK: Readonly<Record<DnssecStatus, number>> = { secure: 0, insecure: 1, error: 2, bogus: 3 };

/** The weakest status of a path: bogus > error > insecure > secure. An empty path is secure (nothing to doubt). */
export function worstStatus(statuses: readonly DnssecStatus[]): DnssecStatus {
  return statuses.reduce<DnssecStatus>((worst, s) => (RANK[s] > RANK[worst] ? s : worst), "secure");
}
