/**
 * RFC 4475 torture tests, table-driven from ../shared/corpora/rfc4475/expected.tsv. Every row must have an
 * entry below: valid messages parse and their key fields read back with the values the RFC message holds;
 * invalid messages are rejected by parseMessage or validateRequest/validateResponse with the code named here.
 *
 * Rows the corpus marks with "?" are decided as follows:
 * - insuf (3.3.1, invalid?): no Call-ID/From/To. RFC 3261 §8.1.1 makes them mandatory and RFC 4475 says
 *   "respond 400"; the parser still builds the message (it must not break) and validateRequest answers 400.
 * - multi01 (3.3.8, invalid?): two From/To/Call-ID/CSeq/Max-Forwards. They are single-valued (§7.3.1), so
 *   the request is ambiguous; parse succeeds, validateRequest answers 400 duplicate-header.
 * - mcl01 (3.3.9, invalid?): two different Content-Length values cannot frame the body; RFC 4475 calls it a
 *   framing error, so parseMessage itself refuses it (on a stream the connection must be closed).
 * - inv2543 (3.4.1, valid?): RFC 2543 syntax without branch, From tag, Max-Forwards or Content-Length. RFC 4475
 *   says it should be accepted for backward compatibility; nothing in it is a grammar error, so we accept it
 *   (a proxy adds Max-Forwards: 70, RFC 3261 §16.6 step 3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SipParseError,
  parseMessage,
  validateRequest,
  validateResponse,
  isSipUri,
  type SipMessage,
} from "../../../src/sip/index.js";
import { corpusBytes, corpusRows } from "./corpus.js";

type Check = (m: SipMessage) => void;

interface ValidCase {
  readonly kind: "valid";
  readonly check: Check;
  /** What validateRequest (proxy role) says; "valid" when it accepts. */
  readonly proxy: "valid" | { status: number; code: string };
}
interface InvalidCase {
  readonly kind: "invalid";
  /** Which step rejects it. */
  readonly by: "parse" | "validate";
  readonly code: string;
  /** For "validate": the status of the answer (responses are dropped: 0). */
  readonly status?: number;
}

function fields(
  m: SipMessage,
  expected: {
    method?: string;
    status?: number;
    callId: string;
    cseq: [number, string];
    maxForwards?: number;
    bodyLength: number;
    vias: number;
    topBranch: string | undefined;
    fromTag: string | undefined;
    toUri: string;
  },
): void {
  assert.equal(m.method, expected.method);
  assert.equal(m.status, expected.status);
  assert.equal(m.callId, expected.callId);
  assert.deepEqual([m.cseq.seq, m.cseq.method], expected.cseq);
  assert.equal(m.maxForwards, expected.maxForwards);
  assert.equal(m.body.length, expected.bodyLength);
  assert.equal(m.via.length, expected.vias);
  assert.equal(m.topVia.branch, expected.topBranch);
  assert.equal(m.from.tag, expected.fromTag);
  assert.equal(m.to.uriText, expected.toUri);
}

const CASES: Record<string, ValidCase | InvalidCase> = {
  "wsinv.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "INVITE",
        callId: "wsinv.ndaksdj@192.0.2.1",
        cseq: [9, "INVITE"], // "0009\r\n  INVITE": folded, leading zeros
        maxForwards: 68, // "0068"
        bodyLength: 150,
        vias: 3,
        topBranch: "390skdjuw",
        fromTag: "98asjd8",
        toUri: "sip:vivekg@chair-dnrc.example.com",
      });
      assert.equal(m.to.tag, "1918181833n");
      assert.equal(m.from.displayName, 'J Rosenberg \\"');
      assert.deepEqual(
        m.via.map((v) => [v.transport, v.host, v.branch]),
        [
          ["UDP", "192.0.2.2", "390skdjuw"],
          ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
          ["UDP", "192.168.255.111", "z9hG4bK30239"],
        ],
      );
      assert.equal(m.get("Subject"), ""); // "s :" empty value, compact form
      assert.equal(m.get("NewFangledHeader"), "newfangled value continued newfangled value");
      assert.equal(m.get("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
      assert.equal(m.route.length, 1);
      assert.equal(m.route[0]!.uriText, "sip:services.example.com;lr;unknownwith=value;unknown-no-value");
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      assert.equal(contact.values[0]!.displayName, 'Quoted string ""');
      assert.deepEqual(contact.values[0]!.params, [
        ["newparam", "newvalue"],
        ["secondparam", null],
        ["q", "0.33"],
      ]);
      assert.equal(m.contentType?.subtype, "sdp");
    },
  },
  "intmeth.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      const method = "!interesting-Method0123456789_*+`.%indeed'~";
      fields(m, {
        method,
        callId: "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
        cseq: [139122385, method],
        maxForwards: 255,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bK-.!%66*_+`'~",
        fromTag: "_token~1'+`*%!-.",
        toUri: "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
      });
      assert.equal(m.to.displayName, "BEL:\x07 NUL:\x00 DEL:\x7f");
      assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
      // UTF-8 in a From parameter and an extension header reads back as text, not latin1 mojibake.
      assert.equal(m.get("extensionHeader-!.%*+_`'~"), "\uFEFF\u5927\u505C\u96FB");
      const uri = m.requestUri!;
      assert.ok(isSipUri(uri));
      assert.equal(uri.host, "example.com");
    },
  },
  "esc01.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "INVITE",
        callId: "esc01.239409asdfakjkn23onasd0-3234",
        cseq: [234234, "INVITE"],
        maxForwards: 87,
        bodyLength: 150,
        vias: 1,
        topBranch: "z9hG4bKkdjuw",
        fromTag: "938",
        toUri: "sip:%75se%72@example.com",
      });
      const ruri = m.requestUri!;
      assert.ok(isSipUri(ruri));
      assert.equal(ruri.user, "sips:user@example.com"); // %3A and %40 decoded in the user part
      const to = m.to.uri;
      assert.ok(isSipUri(to));
      assert.equal(to.user, "user");
    },
  },
  "escnull.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "REGISTER",
        callId: "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
        cseq: [14398234, "REGISTER"],
        maxForwards: 70,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bKkdjuw",
        fromTag: "839923423",
        toUri: "sip:null-%00-null@example.com",
      });
      const to = m.to.uri;
      assert.ok(isSipUri(to));
      assert.equal(to.user, "null-\x00-null"); // not truncated at the NUL
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      assert.deepEqual(
        contact.values.map((v) => v.uriText),
        ["sip:%00@host5.example.com", "sip:%00%00@host5.example.com"],
      );
    },
  },
  "esc02.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "RE%47IST%45R", // % is not an escape in a method
        callId: "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
        cseq: [29344, "RE%47IST%45R"],
        maxForwards: 70,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bK209%fzsnel234",
        fromTag: "f232jadfj23",
        toUri: "sip:resource@example.com",
      });
      assert.equal(m.to.displayName, "%Z%45");
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      // "C%6Fntact" is an unknown header, not Contact: two Contact values, not three.
      assert.deepEqual(
        contact.values.map((v) => v.uriText),
        ["sip:alias1@host1.example.com", "sip:alias3@host3.example.com"],
      );
      assert.equal(m.get("C%6Fntact"), "<sip:alias2@host2.example.com>");
    },
  },
  "lwsdisp.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "OPTIONS",
        callId: "lwsdisp.1234abcd@funky.example.com",
        cseq: [60, "OPTIONS"],
        maxForwards: 70,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bKkdjuw",
        fromTag: "323",
        toUri: "sip:user@example.com",
      });
      assert.equal(m.from.displayName, "caller"); // caller<sip:...> without LWS
    },
  },
  "longreq.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      const longBranch = "very" + "long".repeat(50) + "branchvalue";
      fields(m, {
        method: "INVITE",
        callId: "longreq.one" + "really".repeat(20) + "longcallid",
        cseq: [3882340, "INVITE"],
        maxForwards: 70,
        bodyLength: 150,
        vias: 34,
        topBranch: undefined, // the first Via line has no branch
        fromTag:
          "12982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982982424",
        toUri: m.to.uriText,
      });
      assert.equal(m.via[0]!.host, "sip33.example.com");
      assert.equal(m.via[33]!.branch, longBranch);
      assert.match(m.to.displayName ?? "", /^I have a user name of (extreme){10} proportion$/);
      assert.ok(m.to.uriText.startsWith("sip:user@example.com:6000;unknownparam1=verylong"));
      assert.equal(m.fields("via").length, 34); // v / V / Via / ViA / "V  :" all name Via
    },
  },
  "dblreq.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "REGISTER",
        callId: "dblreq.0ha0isndaksdj99sdfafnl3lk233412", // compact "I:"
        cseq: [8, "REGISTER"],
        maxForwards: 8,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bKkdjuw23492",
        fromTag: "43251j3j324",
        toUri: "sip:j.user@example.com",
      });
      // The trailing INVITE is not part of the message (RFC 3261 §18.3, datagram).
      assert.ok(!m.raw.toString("latin1").includes("INVITE"));
    },
  },
  "semiuri.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "OPTIONS",
        callId: "semiuri.0ha0isndaksdj",
        cseq: [8, "OPTIONS"],
        maxForwards: 3,
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bKkdjuw",
        fromTag: "33242",
        toUri: "sip:j_user@example.com",
      });
      const uri = m.requestUri!;
      assert.ok(isSipUri(uri));
      assert.equal(uri.user, "user;par=u@example.net");
      assert.equal(uri.host, "example.com");
      assert.deepEqual(uri.params, []);
    },
  },
  "transports.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.deepEqual(
        m.via.map((v) => [v.transport, v.host]),
        [
          ["UDP", "t1.example.com"],
          ["SCTP", "t2.example.com"],
          ["TLS", "t3.example.com"],
          ["UNKNOWN", "t4.example.com"],
          ["TCP", "t5.example.com"],
        ],
      );
      assert.equal(m.callId, "transports.kijh4akdnaqjkwendsasfdj");
    },
  },
  "mpart01.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "MESSAGE",
        callId: "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
        cseq: [1, "MESSAGE"],
        maxForwards: 70,
        bodyLength: 553,
        vias: 1,
        topBranch: "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-",
        fromTag: "2fb0dcc9",
        toUri: "sip:kumiko@example.org",
      });
      assert.equal(m.topVia.port, 5070);
      assert.equal(m.contentType?.type, "multipart");
      assert.equal(m.contentType?.subtype, "mixed");
      assert.deepEqual(m.contentType?.params, [["boundary", "7a9cbec02ceef655"]]);
      assert.ok(m.body.includes(0), "binary body with NUL bytes kept");
    },
  },
  "unreason.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        status: 200,
        callId: "unreason.1234ksdfak3j2erwedfsASdf",
        cseq: [35, "INVITE"],
        bodyLength: 154,
        vias: 1,
        topBranch: "z9hG4bK1324923",
        fromTag: "11141343",
        toUri: "sip:user@example.edu",
      });
      assert.equal(m.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    },
  },
  "noreason.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        status: 100,
        callId: "noreason.asndj203insdf99223ndf",
        cseq: [35, "INVITE"],
        bodyLength: 0,
        vias: 1,
        topBranch: "z9hG4bK2398ndaoe",
        fromTag: "39ansfi3",
        toUri: "sip:user@example.edu",
      });
      assert.equal(m.reason, "");
      assert.equal(m.to.tag, "902jndnke3");
    },
  },
  "badbranch.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.equal(m.topVia.branch, "z9hG4bK"); // bare magic cookie: syntactically a token
      assert.equal(m.callId, "badbranch.sadonfo23i420jv0as0derf3j3n");
    },
  },
  "unkscm.dat": {
    kind: "valid",
    proxy: { status: 416, code: "unsupported-uri-scheme" },
    check: (m) => {
      assert.equal(m.requestUriText, "nobodyKnowsThisScheme:totallyopaquecontent");
      assert.equal(m.requestUri!.scheme, "nobodyknowsthisscheme");
    },
  },
  "novelsc.dat": {
    kind: "valid",
    proxy: { status: 416, code: "unsupported-uri-scheme" },
    check: (m) => assert.equal(m.requestUri!.scheme, "soap.beep"),
  },
  "unksm2.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.equal(m.to.uri.scheme, "isbn");
      assert.equal(m.from.uri.scheme, "http");
      assert.equal(m.from.tag, "3234233");
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      assert.equal(contact.values[0]!.uri.scheme, "name");
    },
  },
  "bext01.dat": {
    kind: "valid",
    proxy: { status: 420, code: "bad-extension" },
    check: (m) => {
      assert.deepEqual(m.require, ["nothingSupportsThis", "nothingSupportsThisEither"]);
      assert.deepEqual(m.proxyRequire, ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]);
      const uas = validateRequest(m, { role: "uas" });
      assert.ok(!uas.ok);
      assert.equal(uas.status, 420);
      assert.deepEqual(uas.unsupported, ["nothingSupportsThis", "nothingSupportsThisEither"]);
    },
  },
  "invut.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.equal(m.contentType?.type, "application");
      assert.equal(m.contentType?.subtype, "unknownformat");
      assert.equal(m.body.length, 40);
    },
  },
  "regaut01.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      // Authorization's grammar has commas: it is never split into list items.
      assert.deepEqual(m.values("Authorization"), ["NoOneKnowsThisScheme opaque-data=here"]);
      assert.equal(m.cseq.seq, 9338);
    },
  },
  "bcast.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.equal(m.status, 200);
      assert.equal(m.via[1]!.host, "255.255.255.255");
    },
  },
  "zeromf.dat": {
    kind: "valid",
    proxy: { status: 483, code: "too-many-hops" },
    check: (m) => {
      assert.equal(m.maxForwards, 0);
      assert.ok(validateRequest(m, { role: "uas" }).ok, "an endpoint processes Max-Forwards: 0 normally");
    },
  },
  "cparam01.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      const c = contact.values[0]!;
      assert.equal(c.form, "addr-spec");
      assert.deepEqual(c.params, [["unknownparam", null]]); // a contact-param, not a URI param
      assert.ok(isSipUri(c.uri) && c.uri.params.length === 0);
    },
  },
  "cparam02.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      const c = contact.values[0]!;
      assert.deepEqual(c.params, []);
      assert.ok(isSipUri(c.uri));
      assert.deepEqual(c.uri.params, [["unknownparam", null]]); // inside <>: a URI param
    },
  },
  "regescrt.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      const contact = m.contact;
      assert.ok(contact !== undefined && !contact.star);
      const uri = contact.values[0]!.uri;
      assert.ok(isSipUri(uri));
      assert.deepEqual(uri.headers, [["Route", "<sip:sip.example.com>"]]);
    },
  },
  "sdp01.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      assert.equal(m.get("Accept"), "text/nobodyKnowsThis");
      assert.equal(m.body.length, 150);
    },
  },
  "inv2543.dat": {
    kind: "valid",
    proxy: "valid",
    check: (m) => {
      fields(m, {
        method: "INVITE",
        callId: "inv2543.1717@ift.client.example.com",
        cseq: [56, "INVITE"],
        maxForwards: undefined,
        bodyLength: m.raw.length - m.headEnd,
        vias: 1,
        topBranch: undefined,
        fromTag: undefined,
        toUri: "sip:+16505552222@ss1.example.net",
      });
      assert.equal(m.contentLength, undefined); // datagram: the body runs to the end
      assert.ok(m.body.toString("latin1").startsWith("v=0\r\n"));
      assert.deepEqual(m.to.params, [["user", "phone"]]); // addr-spec form: ;user=phone is a header param
    },
  },

  // 3.1.2: syntactically invalid
  "badinv01.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  "clerr.dat": { kind: "invalid", by: "parse", code: "content-length-mismatch" },
  "ncl.dat": { kind: "invalid", by: "parse", code: "bad-header" },
  "scalar02.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  "scalarlg.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 0 },
  "quotbal.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  "ltgtruri.dat": { kind: "invalid", by: "parse", code: "bad-start-line" },
  "lwsruri.dat": { kind: "invalid", by: "parse", code: "bad-start-line" },
  "lwsstart.dat": { kind: "invalid", by: "parse", code: "bad-start-line" },
  "trws.dat": { kind: "invalid", by: "parse", code: "bad-start-line" },
  "escruri.dat": { kind: "invalid", by: "validate", code: "request-uri-headers", status: 400 },
  "baddate.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  "regbadct.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  "badaspec.dat": { kind: "invalid", by: "validate", code: "bad-header", status: 400 },
  // The corpus copy of baddn ends after "l: 0\r\n" without the empty line, so the datagram is incomplete;
  // the display-name error itself is checked separately below.
  "baddn.dat": { kind: "invalid", by: "parse", code: "incomplete" },
  "badvers.dat": { kind: "invalid", by: "parse", code: "bad-version" },
  "mismatch01.dat": { kind: "invalid", by: "validate", code: "cseq-method-mismatch", status: 400 },
  "mismatch02.dat": { kind: "invalid", by: "validate", code: "cseq-method-mismatch", status: 400 },
  "bigcode.dat": { kind: "invalid", by: "parse", code: "bad-start-line" },
  // "?" rows, decided in the file comment.
  "insuf.dat": { kind: "invalid", by: "validate", code: "missing-header", status: 400 },
  "multi01.dat": { kind: "invalid", by: "validate", code: "duplicate-header", status: 400 },
  "mcl01.dat": { kind: "invalid", by: "parse", code: "duplicate-header" },
};

const rows = corpusRows();

test("expected.tsv lists all 49 corpus files and each has a case here", () => {
  assert.equal(rows.length, 49);
  for (const row of rows) assert.ok(CASES[row.file] !== undefined, `no test case for ${row.file}`);
  for (const file of Object.keys(CASES))
    assert.ok(
      rows.some((r) => r.file === file),
      `${file} not in expected.tsv`,
    );
});

for (const row of rows) {
  const c = CASES[row.file];
  if (c === undefined) continue;
  test(`RFC 4475 §${row.section} ${row.file} (${row.verdict})`, () => {
    const expectValid = row.verdict.startsWith("valid");
    const decided = row.verdict.endsWith("?");
    if (!decided) assert.equal(c.kind === "valid", expectValid, "case kind agrees with expected.tsv");
    const bytes = corpusBytes(row.file);
    if (c.kind === "valid") {
      const m = parseMessage(bytes);
      c.check(m);
      if (m.isRequest) {
        const v = validateRequest(m);
        if (c.proxy === "valid") assert.deepEqual(v, { ok: true, code: "valid" });
        else {
          assert.ok(!v.ok);
          assert.equal(v.status, c.proxy.status);
          assert.equal(v.code, c.proxy.code);
        }
      } else {
        assert.deepEqual(validateResponse(m), { ok: true, code: "valid" });
      }
      return;
    }
    if (c.by === "parse") {
      assert.throws(
        () => parseMessage(bytes),
        (err: unknown) => err instanceof SipParseError && err.code === c.code && err.offset >= 0,
      );
      return;
    }
    const m = parseMessage(bytes);
    if (m.isRequest) {
      const v = validateRequest(m);
      assert.ok(!v.ok, "validateRequest rejects it");
      assert.equal(v.code, c.code);
      assert.equal(v.status, c.status);
      assert.equal(v.reason, "Bad Request");
    } else {
      const v = validateResponse(m);
      assert.ok(!v.ok, "validateResponse rejects it");
      assert.equal(v.code, c.code);
    }
  });
}

test("baddn with its empty line restored: unquoted display names with ',' are rejected (400)", () => {
  const m = parseMessage(Buffer.concat([corpusBytes("baddn.dat"), Buffer.from("\r\n")]));
  const v = validateRequest(m);
  assert.ok(!v.ok);
  assert.equal(v.status, 400);
  assert.equal(v.header, "from");
});

test("badvers parsed with acceptAnyVersion: validateRequest answers 505", () => {
  const m = parseMessage(corpusBytes("badvers.dat"), { acceptAnyVersion: true });
  const v = validateRequest(m);
  assert.ok(!v.ok);
  assert.equal(v.status, 505);
  assert.equal(v.reason, "Version Not Supported");
});

test("mismatch02 at a UAS: unknown method NEWMETHOD → 501 (RFC 4475 §3.1.2.18)", () => {
  const v = validateRequest(parseMessage(corpusBytes("mismatch02.dat")), { role: "uas" });
  assert.ok(!v.ok);
  assert.equal(v.status, 501);
  assert.equal(v.code, "not-implemented");
});
