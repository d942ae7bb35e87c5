/**
 * Mutation fuzzer for the SIP message layer: `npm run fuzz -- --count N [--seed S] [--hang-ms MS]`.
 *
 * Inputs are RFC 4475 corpus messages (plus a few well-formed ones) put through 1-4 random mutations: bit
 * flips, interesting bytes, inserted tokens, deletions, truncation, line duplication/swaps, splices of two
 * messages and long repeats. Each input goes through parseMessage, every typed accessor, validation,
 * describeMessage, serializeMessage (unchanged and with proxy edits) and the stream framer under a random
 * chunking. The only acceptable failure is SipParseError (RangeError from serializer edits on a message
 * that cannot be forwarded). Anything else is a crash. Input i is a pure function of (seed, i), so a reported
 * index reproduces exactly.
 *
 * The CLI runs the loop in a worker thread and a watchdog in the main thread: an input that makes no progress
 * for --hang-ms (default 5000) is reported as a hang. It prints crashes, hangs, the slowest input and peak RSS,
 * and exits 1 on any crash or hang.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Framer,
  SipParseError,
  parseMessage,
  serializeMessage,
  validateRequest,
  validateResponse,
  type SipMessage,
} from "../src/sip/index.js";
import { describeMessage } from "../src/sip/describe.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS_DIR = resolve(HERE, "..", "..", "shared", "corpora", "rfc4475");

export interface FuzzCrash {
  readonly index: number;
  readonly error: string;
  readonly input: string;
}

export interface FuzzReport {
  readonly count: number;
  readonly seed: number;
  readonly crashes: FuzzCrash[];
  readonly parsed: number;
  readonly rejected: number;
  readonly slowestMs: number;
  readonly slowestIndex: number;
}

/** mulberry32: small, fast, deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EXTRA_SEEDS = [
  "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bK1;rport;received=2001:db8::2\r\n" +
    'Max-Forwards: 70\r\nRoute: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\nFrom: "A" <sip:a@example.com>;tag=1\r\n' +
    "To: <sip:bob@example.com>\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: *\r\nExpires: 0\r\nDate: Sat, 13 Nov 2010 23:29:00 GMT\r\n" +
    'Content-Type: application/sdp;charset="utf-8"\r\nContent-Length: 4\r\n\r\nv=0\n',
  "SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP h;branch=z9hG4bK2\r\nf: <tel:+12025550123>;tag=2\r\nt: <sip:b@h>;tag=3\r\ni: c\r\nCSeq: 2 INVITE\r\nl: 0\r\n\r\n",
];

/** The seed messages: the corpus (when the shared folder is there) and the built-in ones. */
export function loadSeeds(): Buffer[] {
  const seeds = EXTRA_SEEDS.map((s) => Buffer.from(s, "latin1"));
  try {
    for (const name of readdirSync(CORPUS_DIR).sort()) {
      if (name.endsWith(".dat")) seeds.push(readFileSync(join(CORPUS_DIR, name)));
    }
  } catch {
    // Corpus absent: the built-in seeds still exercise every path.
  }
  return seeds;
}

const INTERESTING_BYTES = [
  0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x5c, 0x25, 0xff, 0x40, 0x3d, 0x5b, 0x5d,
  0x2f, 0x80,
];
const TOKENS = [
  "\r\n",
  "\r\n ",
  "\r\n\r\n",
  ",",
  ";",
  '"',
  "<",
  ">",
  "%",
  "%00",
  "%4",
  "99999999999999999999999",
  "-1",
  "SIP/2.0",
  "Content-Length: 5\r\n",
  "l: 99999\r\n",
  "v: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK\r\n",
  "Via: ,,,\r\n",
  "CSeq: 4294967296 INVITE\r\n",
  "Max-Forwards: 256\r\n",
  "Contact: *, <sip:a@b>\r\n",
  "Route: sip:x\r\n",
  "[",
  "]",
  "::",
  "sips:",
  "tel:",
  ";branch=",
  ";tag=",
  " \t ",
  "\\",
  '"\\',
  "\u00e9",
];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const between = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function lines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    out.push(buf.subarray(start, i + 1));
    start = i + 1;
  }
  if (start < buf.length) out.push(buf.subarray(start));
  return out;
}

const MUTATORS: ReadonlyArray<(r: Rand, b: Buffer, seeds: readonly Buffer[]) => Buffer> = [
  // bit flip
  (r, b) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    const i = between(r, 0, c.length - 1);
    c[i] = c[i]! ^ (1 << between(r, 0, 7));
    return c;
  },
  // interesting byte
  (r, b) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[between(r, 0, c.length - 1)] = pick(r, INTERESTING_BYTES);
    return c;
  },
  // insert a token
  (r, b) => {
    const i = between(r, 0, b.length);
    return Buffer.concat([b.subarray(0, i), Buffer.from(pick(r, TOKENS), "utf8"), b.subarray(i)]);
  },
  // delete a range
  (r, b) => {
    const i = between(r, 0, b.length);
    const n = between(r, 1, 40);
    return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + n))]);
  },
  // truncate
  (r, b) => b.subarray(0, between(r, 0, b.length)),
  // duplicate a line
  (r, b) => {
    const ls = lines(b);
    if (ls.length === 0) return b;
    const i = between(r, 0, ls.length - 1);
    ls.splice(i, 0, ls[i]!);
    return Buffer.concat(ls);
  },
  // swap two lines
  (r, b) => {
    const ls = lines(b);
    if (ls.length < 2) return b;
    const i = between(r, 0, ls.length - 1);
    const j = between(r, 0, ls.length - 1);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return Buffer.concat(ls);
  },
  // splice the head of this message with the tail of another
  (r, b, seeds) => {
    const other = pick(r, seeds);
    return Buffer.concat([
      b.subarray(0, between(r, 0, b.length)),
      other.subarray(between(r, 0, other.length)),
    ]);
  },
  // repeat a region many times (exercises the size limits)
  (r, b) => {
    if (b.length === 0) return b;
    const i = between(r, 0, b.length - 1);
    const piece = b.subarray(i, Math.min(b.length, i + between(r, 1, 30)));
    const times = between(r, 2, 800);
    return Buffer.concat([b.subarray(0, i), Buffer.concat(Array(times).fill(piece)), b.subarray(i)]);
  },
];

/** Input number `index` for `seed`: 1-4 mutations of one seed message. */
export function generateInput(seeds: readonly Buffer[], seed: number, index: number): Buffer {
  const r = prng((seed * 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b));
  let b = pick(r, seeds);
  const n = between(r, 1, 4);
  for (let k = 0; k < n; k++) b = pick(r, MUTATORS)(r, b, seeds);
  return b;
}

/** Runs `fn`, accepting only SipParseError (and `also`) as a failure. */
function guarded(fn: () => unknown, also?: typeof RangeError): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof SipParseError) return false;
    if (also !== undefined && err instanceof also) return false;
    throw err;
  }
}

function exerciseMessage(m: SipMessage): void {
  const reads: Array<() => unknown> = [
    () => m.requestUri,
    () => m.via,
    () => m.topVia,
    () => m.from,
    () => m.to,
    () => m.callId,
    () => m.cseq,
    () => m.maxForwards,
    () => m.contact,
    () => m.route,
    () => m.recordRoute,
    () => m.contentType,
    () => m.expires,
    () => m.require,
    () => m.proxyRequire,
    () => m.supported,
    () => m.date,
    () => m.values("Via"),
    () => m.reason,
  ];
  for (const read of reads) guarded(read);
  if (m.isRequest) validateRequest(m);
  else validateResponse(m);
  describeMessage(m);
  const again = serializeMessage(m);
  if (!again.equals(m.raw)) throw new Error("serializeMessage without edits changed the bytes");
  guarded(
    () =>
      serializeMessage(m, {
        addVia: "SIP/2.0/TLS edge.example.com;branch=z9hG4bKfuzz",
        removeTopRoute: true,
        addRecordRoute: "<sip:edge.example.com;lr>",
        decrementMaxForwards: true,
        ensureContentLength: true,
      }),
    RangeError,
  );
  guarded(
    () => serializeMessage(m, { removeTopVia: true, removeHeaders: ["P-Asserted-Identity"] }),
    RangeError,
  );
}

/** Feeds `input` to a framer in random chunks and reads every message it yields. */
function exerciseFramer(input: Buffer, r: Rand): void {
  const framer = new Framer();
  let off = 0;
  while (off < input.length) {
    const n = between(r, 1, 64);
    for (const ev of framer.push(input.subarray(off, off + n))) {
      if (ev.type === "message") exerciseMessage(ev.message);
    }
    off += n;
  }
  framer.end();
}

/** Runs one input; returns whether parseMessage accepted it. Throws on a crash. */
export function exercise(input: Buffer, index: number): boolean {
  let m: SipMessage | undefined;
  const ok = guarded(() => {
    m = parseMessage(input);
  });
  if (ok && m !== undefined) exerciseMessage(m);
  exerciseFramer(input, prng(index));
  return ok;
}

export interface FuzzOptions {
  readonly count: number;
  readonly seed?: number;
  /** Called every 1000 inputs with the number done (the worker's heartbeat). */
  readonly progress?: (done: number) => void;
  /** Shared cell the worker writes the current index into, for the watchdog. */
  readonly current?: Int32Array;
}

/** Runs `count` inputs in this thread. */
export function runFuzz(options: FuzzOptions): FuzzReport {
  const seeds = loadSeeds();
  const seed = options.seed ?? 1;
  const crashes: FuzzCrash[] = [];
  let parsed = 0;
  let slowestMs = 0;
  let slowestIndex = -1;
  for (let i = 0; i < options.count; i++) {
    if (options.current !== undefined) Atomics.store(options.current, 0, i);
    const input = generateInput(seeds, seed, i);
    const t0 = performance.now();
    try {
      if (exercise(input, i)) parsed++;
    } catch (err) {
      const e = err as Error;
      crashes.push({
        index: i,
        error: `${e.name}: ${e.message}\n${e.stack ?? ""}`,
        input: input.toString("latin1"),
      });
    }
    const ms = performance.now() - t0;
    if (ms > slowestMs) {
      slowestMs = ms;
      slowestIndex = i;
    }
    if (options.progress !== undefined && (i + 1) % 1000 === 0) options.progress(i + 1);
  }
  return {
    count: options.count,
    seed,
    crashes,
    parsed,
    rejected: options.count - parsed,
    slowestMs,
    slowestIndex,
  };
}

function argValue(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer`);
  return v;
}

/** CLI: the loop in a worker, the watchdog here. */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const count = argValue(argv, "--count", 10_000);
  const seed = argValue(argv, "--seed", 1);
  const hangMs = argValue(argv, "--hang-ms", 5000);
  const shared = new Int32Array(new SharedArrayBuffer(4));
  const started = Date.now();
  // The worker needs the TypeScript loader too: register tsx there, then load this file.
  const boot =
    `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))}; register();` +
    `await import(${JSON.stringify(import.meta.url)});`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), {
    workerData: { count, seed, shared },
  });
  let lastIndex = -1;
  let lastChange = Date.now();
  let peakRss = 0;
  const result = await new Promise<{ report?: FuzzReport; hang?: number; error?: string }>((done) => {
    const timer = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const idx = Atomics.load(shared, 0);
      if (idx !== lastIndex) {
        lastIndex = idx;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > hangMs) {
        clearInterval(timer);
        void worker.terminate();
        done({ hang: idx });
      }
    }, 200);
    worker.on("message", (msg: { done?: number; report?: FuzzReport }) => {
      const step = process.stderr.isTTY ? 1000 : 100_000;
      if (msg.done !== undefined && msg.done % step === 0)
        process.stderr.write(`fuzz: ${msg.done}/${count}\n`);
      if (msg.report !== undefined) {
        clearInterval(timer);
        done({ report: msg.report });
      }
    });
    worker.on("error", (err) => {
      clearInterval(timer);
      done({ error: String(err) });
    });
  });
  await worker.terminate();
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const rssMb = (peakRss / 1024 / 1024).toFixed(0);
  if (result.error !== undefined) {
    console.log(`fuzz: worker died: ${result.error}`);
    return 1;
  }
  if (result.hang !== undefined) {
    const input = generateInput(loadSeeds(), seed, result.hang);
    console.log(
      `fuzz: HANG at input #${result.hang} (seed ${seed}) after ${seconds} s; input (latin1, JSON):`,
    );
    console.log(JSON.stringify(input.toString("latin1")));
    return 1;
  }
  const r = result.report!;
  console.log(
    `fuzz: ${r.count} inputs (seed ${r.seed}) in ${seconds} s: ${r.crashes.length} crashes, 0 hangs; ` +
      `${r.parsed} parsed, ${r.rejected} rejected with SipParseError; slowest input ${r.slowestMs.toFixed(1)} ms ` +
      `(#${r.slowestIndex}); peak RSS ${rssMb} MB`,
  );
  for (const c of r.crashes.slice(0, 10)) {
    console.log(`crash at input #${c.index}: ${c.error}\ninput: ${JSON.stringify(c.input)}`);
  }
  return r.crashes.length > 0 ? 1 : 0;
}

if (!isMainThread && parentPort !== null) {
  const data = workerData as { count: number; seed: number; shared: Int32Array };
  const port = parentPort;
  const report = runFuzz({
    count: data.count,
    seed: data.seed,
    current: data.shared,
    progress: (done) => port.postMessage({ done }),
  });
  port.postMessage({ report });
} else if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
