import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatNameAddr,
  isStarContact,
  isQvalue,
  parseNameAddr,
  type NameAddr,
} from "../../../src/sip/name-addr.js";
import { formatUri, isSipUri, uriEquals, parseUri } from "../../../src/sip/uri.js";
import {
  findRepeated,
  formatGenericParams,
  parseGenericParams,
  quote,
  scanQuotedString,
  ScanError,
  skipSws,
  unquote,
} from "../../../src/sip/params.js";

function ok(text: string, options?: Parameters<typeof parseNameAddr>[1]): NameAddr {
  const r = parseNameAddr(text, options);
  if (!r.ok) assert.fail(`${JSON.stringify(text)}: ${r.code} ${r.detail} at ${r.offset}`);
  return r.value;
}

describe("parseNameAddr: accepted forms (RFC 3261 §20.10, §25.1)", () => {
  const cases: Array<[string, Partial<NameAddr> & { uri?: string }]> = [
    [
      "<sip:alice@atlanta.com>",
      { form: "name-addr", uriText: "sip:alice@atlanta.com", displayName: undefined },
    ],
    ['"Alice" <sip:alice@atlanta.com>;tag=1928301774', { displayName: "Alice", tag: "1928301774" }],
    ['"" <sip:a@b>', { displayName: "" }],
    ["Bob <sips:bob@biloxi.com> ;tag=a48s", { displayName: "Bob", tag: "a48s" }],
    ["Anonymous Coward  \t<sip:c@d>", { displayName: "Anonymous Coward" }],
    [
      "sip:alice@atlanta.com;tag=88sja8x",
      { form: "addr-spec", uriText: "sip:alice@atlanta.com", tag: "88sja8x" },
    ],
    ["  sip:a@b  ", { form: "addr-spec", uriText: "sip:a@b" }],
    ["<tel:+1-201-555-0123>;tag=x", { uriText: "tel:+1-201-555-0123", tag: "x" }],
    ['"\\"quoted\\" \\\\ name" <sip:a@b>', { displayName: '"quoted" \\ name' }],
    ['"caf\u00c3\u00a9 \u00e2\u0082\u00ac" <sip:a@b>', { displayName: "caf\u00c3\u00a9 \u00e2\u0082\u00ac" }],
    ['"folded\r\n name" <sip:a@b>', { displayName: "folded name" }],
    [
      "<sip:a@b>;Expires=60;Q=0.5",
      {
        params: [
          ["expires", "60"],
          ["q", "0.5"],
        ],
      },
    ],
    [
      '<sip:a@b>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
      {
        params: [["+sip.instance", '"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"']],
      },
    ],
    [
      "<sip:a@b>;received=[2001:db8::1];x",
      {
        params: [
          ["received", "[2001:db8::1]"],
          ["x", null],
        ],
      },
    ],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const v = ok(text);
      for (const [k, e] of Object.entries(expected)) {
        assert.deepEqual((v as unknown as Record<string, unknown>)[k], e, `field ${k}`);
      }
    });
  }

  it("the URI object equals parseUri of uriText", () => {
    const v = ok('"A" <sip:%61lice@AtLanTa.com;transport=tcp>;tag=1');
    const u = parseUri(v.uriText);
    assert.ok(u.ok && uriEquals(u.uri, v.uri));
    assert.equal(formatUri(v.uri), "sip:alice@atlanta.com;transport=tcp");
  });
});

describe("parseNameAddr: RFC 4475 header values", () => {
  it("wsinv (§3.1.1.1): folded LWS around ';' and '=', escaped quotes in the display name", () => {
    const to = ok(" \r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
    assert.equal(to.form, "addr-spec");
    assert.equal(to.tag, "1918181833n");
    const from = ok('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8');
    assert.equal(from.displayName, 'J Rosenberg \\"');
    assert.equal(from.tag, "98asjd8");
  });

  it("intmeth (§3.1.1.2): control characters as quoted-pairs; token display names; odd tokens", () => {
    const to = ok(
      '"BEL:\\\u0007 NUL:\\\u0000 DEL:\\\u007f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
    );
    assert.equal(to.displayName, "BEL:\u0007 NUL:\u0000 DEL:\u007f");
    assert.ok(isSipUri(to.uri) && to.uri.user === "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    const from = ok(
      "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u00d1\u0080\u00d0\u00b0\";tag=_token~1'+`*%!-.",
    );
    assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(from.tag, "_token~1'+`*%!-.");
    assert.deepEqual(from.params[0], ["fromparam''~+*_!.-%", '"\u00d1\u0080\u00d0\u00b0"']);
  });

  it("esc01 (§3.1.1.3): escaped contact URI parameters stay URI parameters", () => {
    const c = ok("\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>", { contact: true });
    assert.ok(isSipUri(c.uri));
    assert.deepEqual(c.uri.params, [
      ["lr", null],
      ["name", "value%41"],
    ]);
    assert.deepEqual(c.params, []);
  });

  it("lwsdisp (§3.1.1.6): token display name directly before '<'", () => {
    const v = ok("caller<sip:caller@example.com>;tag=323");
    assert.equal(v.displayName, "caller");
    assert.equal(v.tag, "323");
  });

  it("longreq (§3.1.1.7): long display name and many long URI parameters", () => {
    const name = "I have a user name of " + "extreme".repeat(10) + " proportion";
    const v = ok(
      `"${name}"<sip:user@example.com:6000;unknownparam1=${"long".repeat(20)}value;${"name".repeat(25)}=shortvalue;${"long".repeat(24)}ParameterNameWithNoValue>`,
    );
    assert.equal(v.displayName, name);
    assert.ok(isSipUri(v.uri) && v.uri.port === 6000 && v.uri.params.length === 3);
  });

  it("cparam01 (§3.3.12): in addr-spec form ';unknownparam' is a header parameter", () => {
    const v = ok("sip:+19725552222@gw1.example.net;unknownparam", { contact: true });
    assert.equal(v.form, "addr-spec");
    assert.ok(isSipUri(v.uri));
    assert.deepEqual(v.uri.params, []);
    assert.deepEqual(v.params, [["unknownparam", null]]);
  });

  it("cparam02 (§3.3.13): inside '<>' it is a URI parameter", () => {
    const v = ok("<sip:+19725552222@gw1.example.net;unknownparam>", { contact: true });
    assert.ok(isSipUri(v.uri));
    assert.deepEqual(v.uri.params, [["unknownparam", null]]);
    assert.deepEqual(v.params, []);
  });

  it("regescrt (§3.3.14): escaped Route header inside '<>' is accepted and kept", () => {
    const v = ok("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", { contact: true });
    assert.ok(isSipUri(v.uri));
    assert.deepEqual(v.uri.headers, [["Route", "<sip:sip.example.com>"]]);
  });

  it("unksm2 (§3.3.4): non-SIP schemes in To, From and Contact", () => {
    assert.equal(ok("isbn:2983792873").uri.scheme, "isbn");
    assert.equal(ok("<http://www.example.com>;tag=3234233").tag, "3234233");
    assert.equal(ok("<name:John_Smith>", { contact: true }).uri.scheme, "name");
  });

  it("mpart01 / esc02: quoted display name with '%' that is not an escape", () => {
    assert.equal(ok('"%Z%45" <sip:resource@example.com>').displayName, "%Z%45");
  });

  const refused: Array<[string, string, number, string]> = [
    ['"Mr. J. User <sip:j.user@example.com>', "bad-name-addr", 0, "quotbal §3.1.2.6"],
    ['"Watson, Thomas" < sip:t.watson@example.org >', "bad-uri", 18, "badaspec §3.1.2.14"],
    ["Bell", "bad-uri", 4, "baddn §3.1.2.15 (first half after comma split)"],
    ['"Joe" <sip:joe@example.org>;;;;', "bad-name-addr", 28, "badinv01 §3.1.2.1"],
    ["sip:user@example.com?Route=%3Csip:sip.example.com%3E", "bad-name-addr", 20, "regbadct §3.1.2.13"],
    ["<sip:a@b", "bad-name-addr", 0, "missing '>'"],
    ["sip:a@b>", "bad-uri", 7, "stray '>'"],
    ["<sip:a@b> junk", "bad-name-addr", 10, "text after the address"],
    ["<sip:a@b>;tag=1;tag=2", "bad-name-addr", 16, "tag twice"],
    ['<sip:a@b>;tag="x"', "bad-name-addr", 10, "quoted tag"],
    ["<sip:a@b>;tag", "bad-name-addr", 10, "tag without value"],
    ["<sip:a@b>;tag=", "bad-name-addr", 14, "empty value"],
    ["", "bad-name-addr", 0, "empty"],
    ["   ", "bad-name-addr", 3, "only white space"],
    ['"a" sip:a@b', "bad-name-addr", 4, "quoted name without '<'"],
    ['"a\\\r\n" <sip:a@b>', "bad-name-addr", 2, "quoted-pair of CR"],
    ['"a\u0001" <sip:a@b>', "bad-name-addr", 2, "control character in quoted string"],
    ['<sip:a@b>;x="open', "bad-name-addr", 12, "unterminated quoted param value"],
    ["<sip:a@b>;x=[::1", "bad-name-addr", 12, "unterminated IPv6 param value"],
    ["Al,ice <sip:a@b>", "bad-name-addr", 2, "comma in token display name"],
    ["sip:a@b,sip:c@d", "bad-name-addr", 7, "two addr-specs"],
  ];
  for (const [text, code, offset, why] of refused) {
    it(`refuses ${JSON.stringify(text)} (${why})`, () => {
      const r = parseNameAddr(text);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.code, code, r.detail);
      assert.equal(r.offset, offset, r.detail);
    });
  }
});

describe("parseNameAddr: options", () => {
  it("requireNameAddr refuses addr-spec (Route, Record-Route: RFC 3261 §20.30, §20.34)", () => {
    assert.equal(parseNameAddr("sip:p1.example.com;lr", { requireNameAddr: true }).ok, false);
    const v = ok("<sip:p1.example.com;lr>", { requireNameAddr: true });
    assert.ok(isSipUri(v.uri));
    assert.deepEqual(v.uri.params, [["lr", null]]);
  });

  const contact: Array<[string, boolean]> = [
    ["<sip:a@b>;q=0", true],
    ["<sip:a@b>;q=0.7", true],
    ["<sip:a@b>;q=0.123", true],
    ["<sip:a@b>;q=1.000", true],
    ["<sip:a@b>;q=1.001", false],
    ["<sip:a@b>;q=0.1234", false],
    ["<sip:a@b>;q=2", false],
    ["<sip:a@b>;q", false],
    ["<sip:a@b>;expires=0", true],
    ["<sip:a@b>;expires=4294967295", true],
    ["<sip:a@b>;expires=4294967296", false],
    ["<sip:a@b>;expires=-1", false],
    ["<sip:a@b>;expires=3600;expires=60", false],
  ];
  for (const [text, valid] of contact) {
    it(`contact: ${text} ${valid ? "accepted" : "refused"}`, () => {
      assert.equal(parseNameAddr(text, { contact: true }).ok, valid);
    });
  }

  it("without the contact option q and expires are generic parameters", () => {
    assert.equal(parseNameAddr("<sip:a@b>;q=2;expires=x").ok, true);
  });

  it("scalar02 (§3.1.2.4): contact expires beyond 2^32-1 is refused", () => {
    assert.equal(
      parseNameAddr("<sip:user@host129.example.com>;expires=280297596632815", { contact: true }).ok,
      false,
    );
  });
});

describe("params.ts: the shared lexical layer (RFC 3261 §25.1)", () => {
  const sws: Array<[string, number]> = [
    ["", 0],
    ["  x", 2],
    ["\t \r\n x", 5],
    ["\r\n\tx", 3],
    ["\n x", 2],
    ["\r\nx", 0],
    ["\r x", 0],
    [" \r\n", 1],
  ];
  for (const [text, expected] of sws) {
    it(`skipSws(${JSON.stringify(text)}) = ${expected}: a line break counts only as a fold`, () => {
      assert.equal(skipSws(text, 0, text.length), expected);
    });
  }

  const quoted: Array<[string, number | string]> = [
    ['"abc" rest', 5],
    ['"a\\"b"', 6],
    ['"\r\n folded"', 11],
    ['"tab\tok"', 8],
    ['"é UTF-8 bytes \u00c3\u00a9"', 18],
    ['"open', "unterminated quoted string"],
    ['"a\r\nb"', "line break inside quoted string"],
    ['"a\rb"', "line break inside quoted string"],
    ['"a\u0000"', "control character inside quoted string"],
    ['"a\u007f"', "control character inside quoted string"],
    ['"a\\\r\n b"', "bad quoted-pair in quoted string"],
    ['"a\\é"', "bad quoted-pair in quoted string"],
    ['"a\\', "bad quoted-pair in quoted string"],
  ];
  for (const [text, expected] of quoted) {
    it(`scanQuotedString(${JSON.stringify(text)})`, () => {
      const r = scanQuotedString(text, 0, text.length);
      if (typeof expected === "number") assert.equal(r, expected);
      else assert.ok(r instanceof ScanError && r.detail === expected, String(r));
    });
  }

  it("unquote resolves quoted-pairs and removes folds; quote is its inverse on one line", () => {
    assert.equal(unquote('"a\\"b\\\\c"'), 'a"b\\c');
    assert.equal(unquote('"x\r\n y"'), "x y");
    assert.equal(quote('a"b\\c\u0001'), '"a\\"b\\\\c\\\u0001"');
    assert.equal(quote("line\r\nbreak"), '"line  break"');
  });

  it("parseGenericParams: SEMI/EQUAL white space, names lower-cased, values as written, name offsets", () => {
    const text = ' ;A = 1 ;\r\n b ; c="x;y" ;d=[::1] tail';
    const r = parseGenericParams(text, 0, text.length);
    assert.ok(!(r instanceof ScanError));
    assert.deepEqual(r.params, [
      ["a", "1"],
      ["b", null],
      ["c", '"x;y"'],
      ["d", "[::1]"],
    ]);
    assert.deepEqual(
      r.starts.map((k) => text[k]),
      ["A", "b", "c", "d"],
    );
    assert.equal(text.slice(r.end), " tail");
  });

  it("parseGenericParams refuses empty parameters and values", () => {
    for (const [text, offset] of [
      [";", 1],
      [";;a", 1],
      [";a=", 3],
      [";a= ;b", 4],
      [';a="x', 3],
      [";a=[::1", 3],
      [";a=[1::2::3]", 4],
    ] as const) {
      const r = parseGenericParams(text, 0, text.length);
      assert.ok(r instanceof ScanError, text);
      assert.equal(r.offset, offset, `${text}: ${r.detail}`);
    }
  });

  it("findRepeated gives the index of the second occurrence of a listed name", () => {
    const params = [
      ["tag", "1"],
      ["x", null],
      ["x", null],
      ["tag", "2"],
    ] as const;
    assert.equal(findRepeated(params, ["tag"]), 3);
    assert.equal(findRepeated(params, ["q"]), -1);
  });

  it("formatGenericParams quotes values that are not gen-values and refuses non-token names", () => {
    assert.equal(
      formatGenericParams([
        ["a", "tok"],
        ["b", null],
        ["c", '"q s"'],
        ["d", "[::1]"],
        ["e", "two words"],
        ["f", '"\r\n"'],
      ]),
      ';a=tok;b;c="q s";d=[::1];e="two words";f="\\"  \\""',
    );
    assert.throws(() => formatGenericParams([["a=b", null]]), TypeError);
    assert.throws(() => formatGenericParams([["", null]]), TypeError);
  });
});

describe("helpers", () => {
  it("isStarContact", () => {
    assert.ok(isStarContact("*"));
    assert.ok(isStarContact("  *\t"));
    assert.equal(isStarContact("*;expires=0"), false);
    assert.equal(isStarContact("<*>"), false);
    assert.equal(isStarContact(""), false);
  });
  it("isQvalue", () => {
    assert.ok(isQvalue("0.") && isQvalue("1.") && isQvalue("0.999"));
    assert.ok(!isQvalue(".5") && !isQvalue("01") && !isQvalue(""));
  });
  it("contact expires: leading zeros allowed, exponents and signs not", () => {
    assert.equal(parseNameAddr("<sip:a@b>;expires=007", { contact: true }).ok, true);
    assert.equal(parseNameAddr("<sip:a@b>;expires=1e3", { contact: true }).ok, false);
    assert.equal(parseNameAddr("<sip:a@b>;expires=+1", { contact: true }).ok, false);
  });
});

describe("formatNameAddr", () => {
  it("writes the display name quoted, the canonical URI in brackets, then the parameters", () => {
    const v = ok('Bob <sip:%62ob@Biloxi.COM;transport=tcp>;tag=a48s;x="1 2"');
    assert.equal(formatNameAddr(v), '"Bob" <sip:bob@biloxi.com;transport=tcp>;tag=a48s;x="1 2"');
    assert.equal(formatNameAddr(ok("sip:a@b;tag=1")), "<sip:a@b>;tag=1");
  });
  it("keeps URI parameters inside the brackets when the input was addr-spec", () => {
    const v = ok("<sip:+19725552222@gw1.example.net;unknownparam>");
    assert.equal(formatNameAddr(v), "<sip:+19725552222@gw1.example.net;unknownparam>");
  });
  it("cannot be made to emit a line break or an unbalanced quote", () => {
    const uri = ok("<sip:a@b>").uri;
    const text = formatNameAddr({
      displayName: 'evil"\r\nVia: x\u0000',
      uri,
      params: [
        ["x", "a;b\r\nFoo: bar"],
        ["y", '"open'],
      ],
    });
    assert.ok(!/[\r\n]/.test(text), text);
    const back = ok(text);
    assert.equal(back.displayName, 'evil"  Via: x\u0000');
    assert.deepEqual(back.params, [
      ["x", '"a;b  Foo: bar"'],
      ["y", '"\\"open"'],
    ]);
  });
  it("a parameter name that is not a token is a programmer error", () => {
    assert.throws(() => formatNameAddr({ uri: ok("<sip:a@b>").uri, params: [["a b", null]] }), TypeError);
  });
});

describe("properties (fast-check)", () => {
  it("a quoted display name round-trips through quote() for any text", () => {
    const text = fc.string({ unit: fc.constantFrom(...'ab \\"<>;,=é\t'.split("")), maxLength: 20 });
    fc.assert(
      fc.property(text, fc.constantFrom("", ";tag=x", " ; tag = y"), (name, params) => {
        const v = ok(`${quote(name)} <sip:a@example.com>${params}`);
        assert.equal(v.displayName, name);
      }),
      { numRuns: 1000 },
    );
  });

  it("parseNameAddr(formatNameAddr(v)) gives back v for any display name and parameter values", () => {
    const anyText = fc.string({
      unit: fc.constantFrom(...'ab \\"<>;,=é\t\r\n\u0001'.split("")),
      maxLength: 12,
    });
    const token = fc.stringMatching(/^[a-z][a-z0-9.!%*_+`'~-]{0,6}$/);
    fc.assert(
      fc.property(
        fc.option(anyText, { nil: undefined }),
        fc.uniqueArray(fc.tuple(token, fc.option(fc.oneof(token, anyText))), {
          maxLength: 4,
          selector: (p) => p[0],
        }),
        (displayName, params) => {
          const uri = ok("<sip:%2Bbob:pw@[::1]:5061;lr?x=1>").uri;
          const filtered = params.filter(([n]) => n !== "tag" && n !== "q" && n !== "expires");
          const text = formatNameAddr({ displayName, uri, params: filtered });
          const back = ok(text);
          const clean = (t: string): string => t.replace(/[\r\n]/g, " ");
          assert.equal(back.displayName, displayName === undefined ? undefined : clean(displayName));
          assert.ok(uriEquals(back.uri, uri));
          assert.equal(back.params.length, filtered.length);
          back.params.forEach(([n, v], i) => {
            assert.equal(n, filtered[i]![0]);
            const orig = filtered[i]![1];
            if (orig === null) assert.equal(v, null);
            else assert.ok(v === orig || v === quote(orig), `${v} vs ${orig}`);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("arbitrary text never throws; refusals carry an in-range offset", () => {
    const alphabet = fc.constantFrom(...'<>"\\;=, \r\n\tsip:a@b.c[]%*\u0000\u0001'.split(""), "%0D");
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((a) => a.join("")),
        (text) => {
          for (const opts of [{}, { contact: true }, { requireNameAddr: true }]) {
            const r = parseNameAddr(text, opts);
            if (r.ok) continue;
            assert.ok(r.offset >= 0 && r.offset <= text.length, `${JSON.stringify(text)} ${r.offset}`);
            assert.match(r.detail, /^[\x20-\x7e]+$/, "details reach logs and reason phrases");
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
