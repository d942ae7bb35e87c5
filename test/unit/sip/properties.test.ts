/**
 * Property tests (fast-check): grammar-generated messages round-trip; mutated and truncated corpus messages
 * only ever produce SipParseError, quickly; the framer yields the same events for any chunking.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Framer,
  SipParseError,
  formatMessage,
  parseMessage,
  serializeMessage,
  validateRequest,
  validateResponse,
  type FramerEvent,
  type SipMessage,
} from "../../../src/sip/index.js";
import { allCorpusMessages } from "./corpus.js";

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 12 });
const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
const hostname = fc.array(label, { minLength: 1, maxLength: 3 }).map((ls) => [...ls, "example"].join("."));
const user = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/);
const sipUri = fc.tuple(fc.constantFrom("sip", "sips"), user, hostname).map(([s, u, h]) => `${s}:${u}@${h}`);
const quotedText = fc.string({ unit: fc.constantFrom(...'abc XYZ,;<>\\"é'), maxLength: 12 });
const quoted = quotedText.map((t) => `"${t.replace(/[\\"]/g, (c) => "\\" + c)}"`);
const callId = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~()<>:\\/[\]?{}-]{1,20}$/),
    fc.option(hostname, { nil: undefined }),
  )
  .map(([a, h]) => (h === undefined ? a : `${a}@${h}`));
const method = fc.constantFrom("INVITE", "OPTIONS", "REGISTER", "BYE", "MESSAGE", "FOO-BAR");

interface Model {
  readonly kind: "request" | "response";
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  readonly branches: string[];
  readonly fromDisplay: string | undefined;
  readonly fromUri: string;
  readonly fromTag: string;
  readonly toUri: string;
  readonly callId: string;
  readonly cseq: number;
  readonly maxForwards: number;
  readonly routes: string[];
  readonly extra: Array<[string, string]>;
  readonly body: Buffer;
  /** Header-name spelling choices and folding choices, applied when writing. */
  readonly compact: boolean;
  readonly upper: boolean;
  readonly fold: boolean;
}

const model: fc.Arbitrary<Model> = fc.record({
  kind: fc.constantFrom("request" as const, "response" as const),
  method,
  uri: sipUri,
  status: fc.integer({ min: 100, max: 699 }),
  branches: fc.array(
    token.map((t) => "z9hG4bK" + t),
    { minLength: 1, maxLength: 3 },
  ),
  fromDisplay: fc.option(quoted, { nil: undefined }),
  fromUri: sipUri,
  fromTag: token,
  toUri: sipUri,
  callId,
  cseq: fc.integer({ min: 0, max: 0xffffffff }),
  maxForwards: fc.integer({ min: 0, max: 255 }),
  routes: fc.array(
    hostname.map((h) => `<sip:${h};lr>`),
    { maxLength: 3 },
  ),
  extra: fc.array(
    fc.tuple(
      token.map((t) => "X-" + t),
      fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/),
    ),
    { maxLength: 3 },
  ),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  compact: fc.boolean(),
  upper: fc.boolean(),
  fold: fc.boolean(),
});

/** Writes a model as bytes with the chosen spelling (compact / upper-case names) and folding. */
function write(m: Model): Buffer {
  const name = (long: string, compact: string): string => {
    const n = m.compact && compact !== "" ? compact : long;
    return m.upper ? n.toUpperCase() : n;
  };
  const fold = (v: string): string => (m.fold ? v.replace(/;/, "\r\n ;") : v);
  const start = m.kind === "request" ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} Reason Phrase`;
  const method = m.kind === "request" ? m.method : "INVITE";
  const headers: Array<[string, string]> = [
    [
      name("Via", "v"),
      fold(m.branches.map((b, i) => `SIP/2.0/TLS h${i}.example.com;branch=${b}`).join(", ")),
    ],
    [
      name("From", "f"),
      `${m.fromDisplay === undefined ? "" : m.fromDisplay + " "}<${m.fromUri}>;tag=${m.fromTag}`,
    ],
    [name("To", "t"), `<${m.toUri}>`],
    [name("Call-ID", "i"), m.callId],
    [name("CSeq", ""), fold(`${m.cseq} ${method}`.replace(" ", m.fold ? "\r\n  " : " "))],
    [name("Max-Forwards", ""), String(m.maxForwards)],
    ...m.routes.map((r): [string, string] => [name("Route", ""), r]),
    ...m.extra,
    [name("Content-Length", "l"), String(m.body.length)],
  ];
  return formatMessageRaw(start, headers, m.body);
}

/** Like formatMessage, but lets folds (CRLF + WSP) through, which formatMessage refuses on purpose. */
function formatMessageRaw(start: string, headers: Array<[string, string]>, body: Buffer): Buffer {
  const head = [start, ...headers.map(([n, v]) => `${n}: ${v}`), "", ""].join("\r\n");
  return Buffer.concat([Buffer.from(head, "utf8"), body]);
}

function unquote(q: string): string {
  return q.slice(1, -1).replace(/\\(.)/g, "$1");
}

function checkAgainstModel(msg: SipMessage, m: Model): void {
  if (m.kind === "request") {
    assert.equal(msg.method, m.method);
    assert.equal(msg.requestUriText, m.uri);
  } else {
    assert.equal(msg.status, m.status);
  }
  assert.deepEqual(
    msg.via.map((v) => v.branch),
    m.branches,
  );
  assert.equal(msg.topVia.branch, m.branches[0]);
  assert.equal(msg.from.tag, m.fromTag);
  assert.equal(msg.from.uriText, m.fromUri);
  assert.equal(msg.from.displayName, m.fromDisplay === undefined ? undefined : unquote(m.fromDisplay));
  assert.equal(msg.to.uriText, m.toUri);
  assert.equal(msg.callId, m.callId);
  assert.equal(msg.cseq.seq, m.cseq);
  assert.equal(msg.maxForwards, m.maxForwards);
  assert.deepEqual(
    msg.route.map((r) => `<${r.uriText}>`),
    m.routes,
  );
  for (const [n, v] of m.extra) assert.ok(msg.getAll(n).includes(v));
  assert.ok(msg.body.equals(m.body));
}

test("grammar-generated messages round-trip: parse(write(m)) reads m back, serialize gives the same bytes", () => {
  fc.assert(
    fc.property(model, (m) => {
      const bytes = write(m);
      const msg = parseMessage(bytes);
      checkAgainstModel(msg, m);
      const ok = msg.isRequest
        ? validateRequest(msg, { role: "uas", methods: [m.method] })
        : validateResponse(msg);
      assert.deepEqual(ok, { ok: true, code: "valid" });
      assert.ok(serializeMessage(msg).equals(bytes));
      // And the same message built by formatMessage (no folding) parses to the same fields.
      const plain = formatMessage({
        startLine: bytes.toString("utf8", 0, bytes.indexOf("\r\n")),
        headers: msg.headers
          .filter((f) => f.key !== "content-length")
          .map((f) => [f.name, msg.valueOf(f)] as const),
        body: m.body,
      });
      checkAgainstModel(parseMessage(plain), m);
    }),
    { numRuns: 300 },
  );
});

test("proxy edits round-trip: added/removed values are exactly the ones asked for", () => {
  fc.assert(
    fc.property(model, token, (m, branch) => {
      fc.pre(m.kind === "request" && m.maxForwards > 0);
      const msg = parseMessage(write(m));
      const out = parseMessage(
        serializeMessage(msg, {
          addVia: `SIP/2.0/TLS edge.example.com;branch=z9hG4bK${branch}`,
          removeTopRoute: true,
          decrementMaxForwards: true,
        }),
      );
      assert.deepEqual(
        out.via.map((v) => v.branch),
        ["z9hG4bK" + branch, ...m.branches],
      );
      assert.equal(out.maxForwards, m.maxForwards - 1);
      assert.deepEqual(
        out.route.map((r) => `<${r.uriText}>`),
        m.routes.slice(1),
      );
      assert.equal(out.callId, m.callId);
    }),
    { numRuns: 200 },
  );
});

const corpus = allCorpusMessages();

/** Parses and reads everything; any exception other than SipParseError fails the property. */
function exerciseAll(buf: Buffer): void {
  const started = performance.now();
  let msg: SipMessage;
  try {
    msg = parseMessage(buf);
  } catch (e) {
    if (e instanceof SipParseError) return;
    throw e;
  }
  const reads = [
    () => msg.requestUri,
    () => msg.via,
    () => msg.from,
    () => msg.to,
    () => msg.callId,
    () => msg.cseq,
    () => msg.maxForwards,
    () => msg.contact,
    () => msg.route,
    () => msg.recordRoute,
    () => msg.contentType,
    () => msg.expires,
    () => msg.require,
    () => msg.proxyRequire,
    () => msg.supported,
    () => msg.date,
  ];
  for (const read of reads) {
    try {
      read();
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
  if (msg.isRequest) validateRequest(msg);
  else validateResponse(msg);
  assert.ok(serializeMessage(msg).equals(msg.raw));
  assert.ok(performance.now() - started < 1000, "one input took over a second");
}

test("mutated corpus messages only produce SipParseError (never another exception or a hang)", () => {
  const mutation = fc.tuple(
    fc.nat(),
    fc.constantFrom(0x00, 0x0d, 0x0a, 0x20, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x25, 0xff, 0x5c),
  );
  fc.assert(
    fc.property(
      fc.nat({ max: corpus.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (i, muts) => {
        const b = Buffer.from(corpus[i]!);
        for (const [pos, byte] of muts) b[pos % b.length] = byte;
        exerciseAll(b);
      },
    ),
    { numRuns: 2000 },
  );
});

test("truncated and spliced corpus messages only produce SipParseError", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: corpus.length - 1 }),
      fc.nat({ max: corpus.length - 1 }),
      fc.nat(),
      fc.nat(),
      (i, j, cut, from) => {
        const a = corpus[i]!;
        const b = corpus[j]!;
        exerciseAll(a.subarray(0, cut % (a.length + 1)));
        exerciseAll(Buffer.concat([a.subarray(0, cut % (a.length + 1)), b.subarray(from % (b.length + 1))]));
      },
    ),
    { numRuns: 1000 },
  );
});

function describeEvents(events: FramerEvent[]): string[] {
  return events.map((e) =>
    e.type === "message"
      ? "msg:" + e.message.raw.toString("latin1")
      : e.type === "keepalive"
        ? e.kind
        : "error:" + e.error.code,
  );
}

function frame(stream: Buffer, cuts: number[]): string[] {
  const framer = new Framer();
  const events: FramerEvent[] = [];
  let prev = 0;
  for (const cut of [...cuts].sort((x, y) => x - y)) {
    events.push(...framer.push(stream.subarray(prev, cut)));
    prev = cut;
  }
  events.push(...framer.push(stream.subarray(prev)));
  events.push(...framer.end());
  return describeEvents(events);
}

test("the framer yields the same events for any chunking of the same bytes", () => {
  // Stream-framable corpus messages (they have Content-Length and parse), with keep-alives in between.
  const framable = corpus
    .filter((b) => {
      try {
        return parseMessage(b).contentLength !== undefined;
      } catch {
        return false;
      }
    })
    .map((b) => parseMessage(b).raw);
  assert.ok(framable.length > 30);
  const piece = fc.oneof(
    fc.constantFrom(...framable),
    fc.constantFrom(Buffer.from("\r\n\r\n"), Buffer.from("\r\n")),
  );
  fc.assert(
    fc.property(
      fc.array(piece, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (pieces, rawCuts) => {
        const stream = Buffer.concat(pieces);
        const whole = frame(stream, []);
        const cuts = rawCuts.map((c) => c % (stream.length + 1));
        assert.deepEqual(frame(stream, cuts), whole);
      },
    ),
    { numRuns: 500 },
  );
  // Arbitrary (also invalid) bytes: still the same events, errors included, whatever the chunking.
  fc.assert(
    fc.property(fc.nat({ max: corpus.length - 1 }), fc.array(fc.nat(), { maxLength: 10 }), (i, rawCuts) => {
      const stream = corpus[i]!;
      assert.deepEqual(
        frame(
          stream,
          rawCuts.map((c) => c % (stream.length + 1)),
        ),
        frame(stream, []),
      );
    }),
    { numRuns: 300 },
  );
});
