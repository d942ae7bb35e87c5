/**
 * RFC 3261 §17 transaction layer (with RFC 6026 "Accepted" states) for the proxy core.
 *
 * Additions to the PROXY.md contract (all optional; contract names and signatures unchanged):
 * - ServerTransactionOptions.key?: string — pass the key already computed with serverTransactionKey.
 * - ServerTransaction.receiveAck() returns boolean: true = absorbed (non-2xx ACK), false = not part of the
 *   transaction (state "accepted": an ACK for a 2xx, forward it; RFC 6026 §7.1).
 * - ServerTransaction.terminate(): stop now (shutdown), onTerminated called once.
 * - ServerTransaction.terminationReason / ClientTransaction.terminationReason: why it ended
 *   ("completed" | "ack-timeout" (Timer H) | "timeout" (B/F) | "transport-error" | "aborted").
 * - ClientTransaction.finalStatus: status of the first final response passed up.
 * - TransactionKeyError (code "not-a-request" | "bad-via" | "bad-header"): the only error serverTransactionKey
 *   and the ServerTransaction constructor (without `key`) throw.
 * - cancelledInviteKey(cancel: SipMessage): string — §9.2: key of the INVITE server transaction a CANCEL
 *   targets (same rules, method taken as INVITE); throws TransactionKeyError only.
 * - buildAck(invite: SipMessage, response): ackForNonSuccess for an already parsed INVITE.
 * - timers.ts helpers: transactionTimeout, timerD, timerJ, timerT4OrZero, nextCappedInterval.
 * - ClientTransactionOptions.onTimerC?: (tx) => void — INVITE only: Timer C (timers.timerCMs, §16.6 step 11)
 *   runs inside the transaction, reset by 101-199; on expiry the callback decides (CANCEL if provisionalSeen,
 *   else 408, §16.8), then onTimeout + terminate if no final within 64·T1. Without onTimerC an INVITE client
 *   transaction runs NO timer in "proceeding" (Timer B is cancelled by the first 1xx, §17.1.1.2).
 * - ownedString(s): a flat copy of a string (keys stored for 64·T1 must not keep the received text alive).
 * Contract change: ServerTransaction.request is `SipMessage | undefined`: released at the first final
 * response (RFC 6026 "Accepted", "Completed", "Confirmed" need only the key). Neither edge-proxy.ts nor the
 * wiring reads it. After a final response transactions also drop what no later event can use (the last
 * response once nothing may resend it; the client's send/timeout/transport-error/Timer C callbacks).
 * Behaviour notes: reliable transports end transactions synchronously (Timers D/I/J/K = 0), so onTerminated
 * can run inside respond()/receiveAck()/receiveResponse(). onTransportError comes before onTerminated.
 * ClientTransaction: a send failure after the final went up (re-sending the ACK) ends it without
 * onTransportError (nothing to fail over). ServerTransaction in "accepted" stays there on a send failure.
 * ServerTransaction never sends 100 Trying by itself (§16.2: the proxy core decides).
 */
export * from "./clock.js";
export * from "./timers.js";
export * from "./transaction-key.js";
export * from "./server-transaction.js";
export * from "./client-transaction.js";
export * from "./ack.js";
