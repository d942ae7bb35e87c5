/**
 * Transaction keys: strings a proxy uses as Map keys to find the transaction a message belongs to.
 *
 * Server side, RFC 3261 §17.2.3: a request from an RFC 3261 client (top Via branch starting with the magic
 * cookie "z9hG4bK") matches by branch + sent-by + method, ACK matching the INVITE; anything else uses the
 * RFC 2543 fallback of the same section. Client side, §17.1.3: a response matches by the top Via branch and
 * the CSeq method (a CANCEL shares the INVITE's branch but is its own transaction).
 *
 * Keys are built by plain concatenation: a branch is a token and a host has neither spaces nor '|', so the
 * separators cannot collide with field content.
 */
import { formatUri, formatVia, hasMagicCookie, type SipMessage, type Via } from "../../sip/index.js";

export type TransactionKeyErrorCode =
  /** Not a request (server keys need a Request-Line). */
  | "not-a-request"
  /** The top Via is missing or does not parse (§20.42). */
  | "bad-via"
  /** RFC 2543 fallback only: Request-URI, From, To, Call-ID or CSeq missing or malformed. */
  | "bad-header";

/**
 * Thrown by serverTransactionKey when the fields matching depends on cannot be read. Messages are parsed
 * lazily, so a message that framed fine can still carry a broken Via or CSeq: callers catch this and drop or
 * answer the message (400) instead of creating a transaction.
 */
export class TransactionKeyError extends Error {
  override readonly name = "TransactionKeyError";
  readonly code: TransactionKeyErrorCode;

  constructor(code: TransactionKeyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * §17.2.3 server transaction key of a request. An ACK gets the key of the INVITE it acknowledges (§17.2.3
 * rule 3: "except for ACK, where the method of the request that created the transaction is INVITE"); a CANCEL
 * keeps its own method, so it never matches the INVITE's transaction (§9.2 finds that separately).
 * Throws TransactionKeyError only.
 */
export function serverTransactionKey(request: SipMessage): string {
  const method = request.method;
  if (method === undefined) throw new TransactionKeyError("not-a-request", "a response has no server key");
  return keyFor(request, method);
}

/**
 * Addition to the contract. The key of the server transaction a CANCEL cancels (§9.2: "the procedures in
 * Section 17.2.3 [...] are applied, except that the method of the request that created the transaction
 * [is] compared against INVITE"): the CANCEL's own fields with the method taken as INVITE.
 * Throws TransactionKeyError only.
 */
export function cancelledInviteKey(cancel: SipMessage): string {
  if (cancel.method === undefined)
    throw new TransactionKeyError("not-a-request", "a response has no server key");
  return keyFor(cancel, "INVITE");
}

function keyFor(request: SipMessage, method: string): string {
  const via = topViaOf(request);
  if (hasMagicCookie(via)) return rfc3261Key(via, method);
  return rfc2543Key(request, via, method);
}

/**
 * Addition to the contract: a copy of `s` that references no other string. V8 keeps a substring as a view
 * of the string it was cut from and a concatenation as a tree of its parts, so a key built from Via fields
 * keeps the whole received header section alive; a transaction holds its key for up to 64·T1 (RFC 6026
 * Timer L/M), so stored keys are copied once. JSON round trip: exact for every string, and fast.
 */
export function ownedString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** §17.1.3 client transaction key: branch of the top Via we inserted + the request's method. */
export function clientTransactionKey(branch: string, cseqMethod: string): string {
  return branch + "|" + cseqMethod;
}

/**
 * §17.1.3 key of a response: its top Via branch and CSeq method; undefined when either is missing or does
 * not parse (such a response matches no client transaction).
 */
export function responseClientKey(response: SipMessage): string | undefined {
  try {
    const branch = response.topVia.branch;
    if (branch === undefined) return undefined;
    return clientTransactionKey(branch, response.cseq.method);
  } catch {
    return undefined;
  }
}

function topViaOf(request: SipMessage): Via {
  try {
    return request.topVia;
  } catch (e) {
    throw new TransactionKeyError("bad-via", `top Via: ${(e as Error).message}`);
  }
}

/** §17.2.3 rules 1-3: branch, sent-by (host and port as written), method with ACK folded into INVITE. */
function rfc3261Key(via: Via, method: string): string {
  const m = method === "ACK" ? "INVITE" : method;
  const port = via.port === undefined ? "" : String(via.port);
  return via.branch + "|" + via.host + ":" + port + "|" + m;
}

/**
 * §17.2.3, RFC 2543 compatibility: "The INVITE request matches a transaction if the Request-URI, To tag, From
 * tag, Call-ID, CSeq, and top Via header field match those of the INVITE request which created the
 * transaction. [...] The ACK request matches a transaction if the Request-URI, From tag, Call-ID, CSeq number
 * (not the method), and top Via header field match those of the INVITE request". The ACK carries the To tag
 * of the response while the INVITE usually carried none, so INVITE and ACK keys leave the To tag out (the
 * RFC checks the ACK's To tag against the response instead; a transaction that sent a 2xx hands such ACKs to
 * its caller, see ServerTransaction.receiveAck). Other methods keep the To tag and their method.
 */
function rfc2543Key(request: SipMessage, via: Via, method: string): string {
  try {
    const invite = method === "INVITE" || method === "ACK";
    const toPart = invite ? "" : (request.to.tag ?? "");
    const methodPart = invite ? "INVITE" : method;
    return (
      "2543|" +
      formatUri(request.requestUri!) +
      "|" +
      (request.from.tag ?? "") +
      "|" +
      toPart +
      "|" +
      request.callId +
      "|" +
      request.cseq.seq +
      "|" +
      formatVia(via) +
      "|" +
      methodPart
    );
  } catch (e) {
    throw new TransactionKeyError("bad-header", `RFC 2543 transaction matching: ${(e as Error).message}`);
  }
}
