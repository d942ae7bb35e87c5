/**
 * Appends one JSON line per transaction to the accounting file (issue 7 §3), and reopens it on reload so
 * that log rotation works the usual way (rename the file, reload, the edge writes a new one).
 *
 * Memory stays bounded whatever the disk does: when the stream's unwritten backlog would exceed
 * `maxBacklogBytes` (a full or slow disk, an NFS hiccup), records are dropped, counted as
 * `accounting.dropped` and logged (rate-limited) — the proxy keeps forwarding calls. A stream that failed
 * (file cannot be opened, write error) drops and counts the same way until the next reopen().
 */
import * as fs from "node:fs";
import { Counters } from "../../transport/counters.js";
import type { TransportLogger } from "../../transport/tls-listener.js";
import type { TransactionSummary } from "../core/summary.js";
import { accountingRecord } from "./accounting-record.js";

export interface AccountingWriterOptions {
  readonly file: string;
  readonly counters?: Counters;
  readonly logger?: TransportLogger;
  /** Unwritten bytes beyond which records are dropped; default 8 MiB. */
  readonly maxBacklogBytes?: number;
  /** Minimum time between two "records dropped" log lines; default 10 s. */
  readonly dropLogIntervalMs?: number;
}

export const DEFAULT_MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

const silent: TransportLogger = { info: () => undefined, warn: () => undefined };

export class AccountingWriter {
  readonly counters: Counters;
  private readonly logger: TransportLogger;
  private readonly maxBacklog: number;
  private readonly dropLogInterval: number;
  private stream: fs.WriteStream;
  private failed = false;
  private closed = false;
  private droppedSinceLog = 0;
  private lastDropLog = -Infinity;

  constructor(private readonly options: AccountingWriterOptions) {
    this.counters = options.counters ?? new Counters();
    this.logger = options.logger ?? silent;
    this.maxBacklog = options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    this.dropLogInterval = options.dropLogIntervalMs ?? 10_000;
    this.stream = this.open();
  }

  /** Unwritten bytes held in memory right now. */
  get backlogBytes(): number {
    return this.stream.writableLength;
  }

  /** Resolves when the current file is open (rejects when it cannot be): lets a caller refuse to start. */
  ready(): Promise<void> {
    return whenOpen(this.stream);
  }

  /** Appends the record of one finished transaction; never throws, never blocks. */
  write(summary: TransactionSummary): void {
    if (this.closed || this.failed) {
      this.drop(this.closed ? "closed" : "stream-failed");
      return;
    }
    let line: string;
    try {
      line = `${JSON.stringify(accountingRecord(summary))}\n`;
    } catch (err) {
      this.counters.increment("accounting.error");
      this.logger.warn({ err: (err as Error).message }, "accounting record could not be built");
      return;
    }
    if (this.stream.writableLength + Buffer.byteLength(line) > this.maxBacklog) {
      this.drop("backlog-full");
      return;
    }
    this.stream.write(line);
    this.counters.increment("accounting.written");
  }

  /**
   * Log rotation: new records go to a freshly opened `file` at once; the old stream finishes what it holds
   * (into the renamed file) and closes. Resolves when the new file is open; rejects if it cannot be opened
   * (records are then dropped and counted until the next successful reopen).
   */
  async reopen(): Promise<void> {
    if (this.closed) throw new Error("accounting writer is closed");
    const old = this.stream;
    this.failed = false;
    this.stream = this.open();
    const opened = whenOpen(this.stream);
    await Promise.all([finish(old), opened]);
    this.counters.increment("accounting.reopened");
  }

  /** Flushes what is buffered and closes the file; later writes are dropped and counted. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await finish(this.stream);
  }

  private open(): fs.WriteStream {
    // flags "a": O_APPEND, so concurrent writers (one per worker process) never overwrite each other's lines.
    const stream = fs.createWriteStream(this.options.file, { flags: "a", encoding: "utf8" });
    stream.on("error", (err) => {
      this.counters.increment("accounting.error");
      // A rotated-out stream that fails loses only what it still held; the current one stops taking records.
      if (stream === this.stream) this.failed = true;
      this.logger.warn({ file: this.options.file, err: err.message }, "accounting file failed");
    });
    return stream;
  }

  private drop(reason: "backlog-full" | "stream-failed" | "closed"): void {
    this.counters.increment("accounting.dropped");
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLog < this.dropLogInterval) return;
    this.logger.warn(
      { file: this.options.file, reason, dropped: this.droppedSinceLog, backlog: this.stream.writableLength },
      "accounting records dropped",
    );
    this.lastDropLog = now;
    this.droppedSinceLog = 0;
  }
}

function whenOpen(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.errored) {
      reject(stream.errored);
      return;
    }
    if (!stream.pending) {
      resolve();
      return;
    }
    const onOpen = (): void => {
      stream.off("error", onError);
      resolve();
    };
    const onError = (err: Error): void => {
      stream.off("open", onOpen);
      reject(err);
    };
    stream.once("open", onOpen);
    stream.once("error", onError);
  });
}

/** Ends a stream and waits until its data is written and the file closed (or it failed). */
function finish(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.closed) {
      resolve();
      return;
    }
    stream.once("close", () => resolve());
    stream.end();
  });
}
