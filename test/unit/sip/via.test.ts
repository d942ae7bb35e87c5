import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatVia, hasMagicCookie, parseVia, parseViaList, type Via } from "../../../src/sip/via.js";

function ok(text: string): Via {
  const r = parseVia(text);
  if (!r.ok) assert.fail(`${JSON.stringify(text)}: ${r.detail} at ${r.offset}`);
  return r.value;
}

describe("parseVia (RFC 3261 §20.42, §25.1)", () => {
  const cases: Array<[string, Partial<Via>]> = [
    [
      "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
      {
        protocolName: "SIP",
        protocolVersion: "2.0",
        transport: "UDP",
        host: "pc33.atlanta.com",
        hostKind: "hostname",
        branch: "z9hG4bK776asdhds",
        port: undefined,
      },
    ],
    [
      "SIP/2.0/tcp Client.Biloxi.Example.COM:5060;branch=z9hG4bK74b43",
      { transport: "TCP", host: "client.biloxi.example.com", port: 5060 },
    ],
    [
      "SIP/2.0/TLS 192.0.2.4:5061;branch=z9hG4bKnashds8;received=192.0.2.1",
      { hostKind: "ipv4", port: 5061, received: "192.0.2.1" },
    ],
    [
      "SIP/2.0/UDP [2001:DB8::9:1]:5070;branch=z9hG4bK1",
      { host: "[2001:db8::9:1]", hostKind: "ipv6", port: 5070 },
    ],
    [
      "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bK2",
      { received: "[2001:db8::9:255]" },
    ],
    ["SIP/2.0/UDP h;received=[2001:db8::9:255]", { received: "[2001:db8::9:255]" }],
    ["SIP/2.0/UDP h;rport", { hasRport: true, rport: undefined }],
    ["SIP/2.0/UDP h;rport=5061;received=10.0.0.1", { hasRport: true, rport: 5061, received: "10.0.0.1" }],
    ["SIP/2.0/UDP h", { hasRport: false, alias: false, branch: undefined }],
    ["SIP/2.0/TCP h;alias", { alias: true }],
    ["SIP/2.0/UDP h;maddr=224.2.0.1;ttl=16", { maddr: "224.2.0.1", ttl: 16 }],
    ["SIP/2.0/UDP h;maddr=Proxy.Example.COM", { maddr: "proxy.example.com" }],
    [
      "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf",
      { transport: "WSS", host: "df7jal23ls0d.invalid" },
    ],
    ["SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf", { transport: "SCTP" }],
    ["SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", { transport: "UNKNOWN" }],
    ["sip/2.0/udp h", { protocolName: "SIP", transport: "UDP" }],
    ["  SIP/2.0/UDP h:0  ", { port: 0 }],
    ["SIP/2.0/UDP h : 5060 ; branch = x", { port: 5060, branch: "x" }],
    ["SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK", { branch: "z9hG4bK" }],
    ["SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~", { branch: "z9hG4bK-.!%66*_+`'~" }],
    ["SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23", { host: "255.255.255.255" }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const v = ok(text);
      for (const [k, e] of Object.entries(expected)) {
        assert.deepEqual((v as unknown as Record<string, unknown>)[k], e, `field ${k}`);
      }
    });
  }

  it("keeps every parameter in order with names lower-cased", () => {
    const v = ok('SIP/2.0/UDP h;Branch=z9hG4bKx;X-Foo="a;b";RPORT;ext=Tok');
    assert.deepEqual(v.params, [
      ["branch", "z9hG4bKx"],
      ["x-foo", '"a;b"'],
      ["rport", null],
      ["ext", "Tok"],
    ]);
    assert.equal(v.branch, "z9hG4bKx");
  });

  it("wsinv (RFC 4475 §3.1.1.1): LWS and folds around '/', ';' and '='", () => {
    const v = ok("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
    assert.equal(v.transport, "UDP");
    assert.equal(v.host, "192.0.2.2");
    assert.equal(v.branch, "390skdjuw");
    const list = parseViaList(
      "  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
    );
    assert.ok(list.ok);
    assert.deepEqual(
      list.value.map((x) => [x.transport, x.host, x.branch]),
      [
        ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
        ["UDP", "192.168.255.111", "z9hG4bK30239"],
      ],
    );
  });

  it("hasMagicCookie (RFC 3261 §8.1.1.7)", () => {
    assert.ok(hasMagicCookie(ok("SIP/2.0/UDP h;branch=z9hG4bK1")));
    assert.equal(hasMagicCookie(ok("SIP/2.0/UDP h;branch=390skdjuw")), false);
    assert.equal(hasMagicCookie(ok("SIP/2.0/UDP h")), false);
  });

  const refused: Array<[string, number, string]> = [
    ["SIP/2.0/UDP 192.0.2.15;;,;,,", 23, "badinv01 §3.1.2.1 empty params"],
    ["SIP/2.0/UDP h;", 14, "trailing ';'"],
    ["", 0, "empty"],
    ["SIP/2.0 h", 8, "missing transport"],
    ["SIP/2.0/ h", 10, "transport after SWS, then no sent-by"],
    ["SIP/2.0/UDPh", 12, "no LWS before sent-by"],
    ["SIP/2.0/UDP", 11, "no sent-by"],
    ["SIP/2.0/UDP h:", 14, "empty port"],
    ["SIP/2.0/UDP h:70000", 14, "port out of range"],
    ["SIP/2.0/UDP [::1", 12, "unterminated IPv6"],
    ["SIP/2.0/UDP h;branch", 14, "branch without value"],
    ['SIP/2.0/UDP h;branch="x"', 14, "quoted branch"],
    ["SIP/2.0/UDP h;branch=a;branch=b", 23, "branch twice"],
    ["SIP/2.0/UDP h;received=example.com", 14, "received a host name"],
    ["SIP/2.0/UDP h;received=1.2.3.256", 14, "received bad IPv4"],
    ["SIP/2.0/UDP h;received=2001:db8::g", 14, "received bad IPv6 chars"],
    ["SIP/2.0/UDP h;rport=abc", 14, "rport not a number"],
    ["SIP/2.0/UDP h;rport=65536", 14, "rport out of range"],
    ["SIP/2.0/UDP h;rport;rport=1", 20, "rport twice"],
    ["SIP/2.0/UDP h;ttl=256", 14, "ttl out of range"],
    ["SIP/2.0/UDP h;maddr=-x-", 14, "bad maddr"],
    ["SIP/2.0/UDP h;alias=1", 14, "alias with value"],
    ["SIP/2.0/UDP h junk", 14, "text after via-parm"],
    ["SIP/2.0/UDP h, SIP/2.0/UDP g", 13, "a list given to parseVia"],
    ["SIP/2.0/UDP h_x.example", 13, "underscore in host"],
  ];
  for (const [text, offset, why] of refused) {
    it(`refuses ${JSON.stringify(text)} (${why})`, () => {
      const r = parseVia(text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.code, "bad-via");
      assert.equal(r.offset, offset, r.detail);
    });
  }
});

describe("parseViaList", () => {
  it("transports (RFC 4475 §3.1.1.10): all transports including an unknown token", () => {
    const r = parseViaList(
      "SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw, SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf,SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj , SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en,SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.map((v) => v.transport),
      ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"],
    );
  });

  it("a comma inside a quoted parameter value does not split", () => {
    const r = parseViaList('SIP/2.0/UDP a;x="1,2", SIP/2.0/UDP b');
    assert.ok(r.ok);
    assert.equal(r.value.length, 2);
    assert.deepEqual(r.value[0]!.params, [["x", '"1,2"']]);
  });

  for (const [text, offset] of [
    ["SIP/2.0/UDP a,,SIP/2.0/UDP b", 14],
    ["SIP/2.0/UDP a,", 14],
    [",SIP/2.0/UDP a", 0],
    ["SIP/2.0/UDP a;;,", 14],
  ] as const) {
    it(`refuses empty elements: ${JSON.stringify(text)}`, () => {
      const r = parseViaList(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.offset, offset, r.detail);
    });
  }
});

describe("formatVia", () => {
  it("writes sent-protocol, one SP, sent-by and the parameters", () => {
    const v = ok(
      "SIP / 2.0 / tls  Proxy.Example.COM : 5061 ; branch = z9hG4bK1 ; rport ; received=[2001:db8:0::1]",
    );
    assert.equal(
      formatVia(v),
      "SIP/2.0/TLS proxy.example.com:5061;branch=z9hG4bK1;rport;received=[2001:db8:0::1]",
    );
  });
  it("a host, token or parameter name that would not re-parse is a programmer error", () => {
    const v = ok("SIP/2.0/UDP h");
    assert.throws(() => formatVia({ ...v, host: "h\r\nX: y" }), TypeError);
    assert.throws(() => formatVia({ ...v, transport: "U DP" }), TypeError);
    assert.throws(() => formatVia({ ...v, params: [["a;b", null]] }), TypeError);
    assert.throws(() => formatVia({ ...v, port: 65536 }), TypeError);
    assert.throws(() => formatVia({ ...v, port: Number.NaN }), TypeError);
  });
});

describe("properties (fast-check)", () => {
  const host = fc.constantFrom("a.example", "192.0.2.1", "[2001:db8::1]", "h");
  const ws = fc.constantFrom("", " ", "  ", "\t", "\r\n ", " \r\n\t");
  it("any legal white space around separators parses to the same Via", () => {
    fc.assert(
      fc.property(
        host,
        fc.option(fc.integer({ min: 0, max: 65535 })),
        fc.array(ws, { minLength: 12, maxLength: 12 }),
        (h, port, w) => {
          const lws = w[3] === "" ? " " : w[3]!;
          const text =
            `${w[0]}SIP${w[1]}/${w[2]}2.0${w[4]}/${w[5]}TLS${lws}${h}` +
            (port === null ? "" : `${w[6]}:${w[7]}${port}`) +
            `${w[8]};${w[9]}branch${w[10]}=${w[11]}z9hG4bKabc;rport`;
          const v = ok(text);
          assert.equal(v.transport, "TLS");
          assert.equal(v.port, port ?? undefined);
          assert.equal(v.branch, "z9hG4bKabc");
          assert.equal(v.hasRport, true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("parseVia(formatVia(v)) deep-equals v", () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9.!%*_+`'~-]{0,6}$/);
    const typed = fc.oneof(
      token.map((b) => ["branch", "z9hG4bK" + b] as const),
      fc.constantFrom(["received", "192.0.2.1"] as const, ["received", "[2001:db8::1]"] as const),
      fc
        .option(fc.integer({ min: 0, max: 65535 }))
        .map((p) => ["rport", p === null ? null : String(p)] as const),
      fc.constantFrom(["maddr", "224.0.0.1"] as const, ["alias", null] as const),
      fc.integer({ min: 0, max: 255 }).map((t) => ["ttl", String(t)] as const),
    );
    const other = fc.tuple(
      token.map((t) => "x-" + t),
      fc.option(
        fc.oneof(
          token,
          token.map((t) => `"${t} ,;"`),
        ),
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("UDP", "TCP", "TLS", "SCTP", "WSS", "FOO"),
        host,
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.uniqueArray(fc.oneof(typed, other), { maxLength: 5, selector: (p) => p[0] }),
        (transport, h, port, params) => {
          const v = ok(`SIP/2.0/${transport} ${h}${port === undefined ? "" : ":" + String(port)}`);
          const built = { ...v, params };
          const back = ok(formatVia(built));
          assert.deepEqual(back.params, params);
          assert.equal(back.port, port);
          assert.equal(formatVia(back), formatVia(built));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("arbitrary text never throws; refusals carry an in-range offset", () => {
    const alphabet = fc.constantFrom(...'SIP/2.0UDP h:5060;branch=z9hG4bK,"[]:.\r\n\t\u0000\u0001'.split(""));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 50 }).map((a) => a.join("")),
        (text) => {
          for (const r of [parseVia(text), parseViaList(text), parseVia("SIP/2.0/UDP " + text)]) {
            if (r.ok) continue;
            assert.ok(r.offset >= 0 && r.offset <= text.length + 12);
            assert.match(r.detail, /^[\x20-\x7e]+$/, "details reach logs and reason phrases");
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
