import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatUri,
  getUriParam,
  isAbsoluteUri,
  isSipUri,
  isTelUri,
  MAX_URI_LENGTH,
  parseHost,
  parseUri,
  uriEquals,
  type SipUri,
  type TelUri,
  type Uri,
} from "../../../src/sip/uri.js";

function ok(text: string): Uri {
  const r = parseUri(text);
  if (!r.ok) assert.fail(`${text}: ${r.detail} at ${r.offset}`);
  return r.uri;
}

function sip(text: string): SipUri {
  const u = ok(text);
  assert.ok(isSipUri(u), `${text} is not a SIP URI`);
  return u;
}

function tel(text: string): TelUri {
  const u = ok(text);
  assert.ok(isTelUri(u), `${text} is not a tel URI`);
  return u;
}

describe("parseUri: SIP and SIPS URIs (RFC 3261 §19.1.1, §25.1)", () => {
  const cases: Array<[string, Partial<SipUri>]> = [
    ["sip:alice@atlanta.com", { scheme: "sip", user: "alice", host: "atlanta.com", hostKind: "hostname" }],
    ["SIPS:Alice@AtLanTa.CoM", { scheme: "sips", user: "Alice", host: "atlanta.com" }],
    ["sip:alice:secretword@atlanta.com;transport=tcp", { user: "alice", password: "secretword" }],
    ["sip:alice:@atlanta.com", { user: "alice", password: "" }],
    ["sip:+1-212-555-1212:1234@gateway.com;user=phone", { user: "+1-212-555-1212", password: "1234" }],
    ["sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", { host: "atlanta.com", user: undefined }],
    ["sip:alice@192.0.2.4", { host: "192.0.2.4", hostKind: "ipv4" }],
    ["sip:alice@010.000.002.004", { host: "10.0.2.4", hostKind: "ipv4" }],
    ["sip:host.example.com.", { host: "host.example.com.", hostKind: "hostname" }],
    ["sip:x@[2001:DB8::1]", { host: "[2001:db8::1]", hostKind: "ipv6" }],
    ["sip:x@[2001:db8:0:0:0:0:0:1]:5061", { host: "[2001:db8::1]", port: 5061 }],
    ["sip:[::ffff:192.0.2.1]", { host: "[::ffff:192.0.2.1]", hostKind: "ipv6" }],
    ["sip:[::]:0", { host: "[::]", port: 0 }],
    ["sip:[1::]", { host: "[1::]" }],
    ["sip:[::1.2.3.4]", { host: "[::102:304]" }],
    ["sip:[1:2:3:4:5:6:1.2.3.4]", { host: "[1:2:3:4:5:6:102:304]" }],
    ["sip:[1:2:3:4:5:6:7::]", { host: "[1:2:3:4:5:6:7:0]" }],
    ["sip:[::2:3:4:5:6:7:8]", { host: "[0:2:3:4:5:6:7:8]" }],
    ["sip:[1:0:0:0:1:0:0:0]", { host: "[1::1:0:0:0]" }],
    ["sip:h:65535", { port: 65535 }],
    ["sip:h:05060", { port: 5060 }],
    ["sip:a-b.c1.example", { host: "a-b.c1.example" }],
    ["sip:1.example.com", { host: "1.example.com" }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${text}`, () => {
      const u = sip(text);
      for (const [k, v] of Object.entries(expected)) {
        assert.deepEqual((u as unknown as Record<string, unknown>)[k], v, `${text}: field ${k}`);
      }
    });
  }

  it("keeps uri-parameters in order with names lower-cased and values decoded", () => {
    const u = sip("sip:h;Transport=TCP;LR;maddr=239.255.255.1;ttl=15;x%41=%62c;user=ip;method=INVITE");
    assert.deepEqual(u.params, [
      ["transport", "TCP"],
      ["lr", null],
      ["maddr", "239.255.255.1"],
      ["ttl", "15"],
      ["xa", "bc"],
      ["user", "ip"],
      ["method", "INVITE"],
    ]);
    assert.equal(getUriParam(u, "TRANSPORT"), "TCP");
    assert.equal(getUriParam(u, "lr"), null);
    assert.equal(getUriParam(u, "nope"), undefined);
  });

  it("decodes ?headers in order, names keep their case", () => {
    const u = sip("sip:alice@atlanta.com?subject=project%20x&priority=urgent&Empty=");
    assert.deepEqual(u.headers, [
      ["subject", "project x"],
      ["priority", "urgent"],
      ["Empty", ""],
    ]);
  });
});

describe("parseUri: RFC 4475 torture URIs", () => {
  it("esc01 (§3.1.1.3): escaped userpart decodes, escaped param names and values decode", () => {
    const ruri = sip("sip:sips%3Auser%40example.com@example.net");
    assert.equal(ruri.user, "sips:user@example.com");
    assert.equal(ruri.host, "example.net");
    assert.equal(sip("sip:%75se%72@example.com").user, "user");
    assert.equal(sip("sip:I%20have%20spaces@example.net").user, "I have spaces");
    const contact = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
    assert.equal(contact.user, "caller");
    assert.deepEqual(contact.params, [
      ["lr", null],
      ["name", "value%41"],
    ]);
  });

  it("escnull (§3.1.1.4): %00 decodes to NUL and is not truncated", () => {
    assert.equal(sip("sip:null-%00-null@example.com").user, "null-\u0000-null");
    assert.equal(sip("sip:%00@host5.example.com").user, "\u0000");
    assert.equal(sip("sip:%00%00@host5.example.com").user, "\u0000\u0000");
    assert.ok(!uriEquals(ok("sip:%00@host5.example.com"), ok("sip:%00%00@host5.example.com")));
  });

  it("semiuri (§3.1.1.9): ';' inside the user part stays in the user", () => {
    const u = sip("sip:user;par=u%40example.net@example.com");
    assert.equal(u.user, "user;par=u@example.net");
    assert.equal(u.host, "example.com");
    assert.deepEqual(u.params, []);
  });

  it("intmeth (§3.1.1.2): every user-unreserved and mark character in a user part", () => {
    const u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
    assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(u.host, "example.com");
    const pw = sip(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    );
    assert.equal(pw.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  });

  it("regescrt (§3.3.14): an escaped Route header is kept", () => {
    const u = sip("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
    assert.deepEqual(u.headers, [["Route", "<sip:sip.example.com>"]]);
    assert.equal(formatUri(u), "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
  });

  it("cparam02 (§3.3.13): a parameter inside the URI belongs to the URI", () => {
    assert.deepEqual(sip("sip:+19725552222@gw1.example.net;unknownparam").params, [["unknownparam", null]]);
  });

  it("unkscm / novelsc / unksm2 (§3.3.2–3.3.4): other schemes are opaque absolute URIs", () => {
    for (const [text, scheme, opaque] of [
      ["nobodyKnowsThisScheme:totallyopaquecontent", "nobodyknowsthisscheme", "totallyopaquecontent"],
      ["soap.beep://192.0.2.103:3002", "soap.beep", "//192.0.2.103:3002"],
      ["isbn:2983792873", "isbn", "2983792873"],
      ["http://www.example.com", "http", "//www.example.com"],
      ["name:John_Smith", "name", "John_Smith"],
    ] as const) {
      const u = ok(text);
      assert.ok(isAbsoluteUri(u));
      assert.equal(u.scheme, scheme);
      assert.equal((u as { opaque: string }).opaque, opaque);
    }
  });

  it("ltgtruri (§3.1.2.7) and lwsruri (§3.1.2.8): brackets and white space are not URI text", () => {
    assert.equal(parseUri("<sip:user@example.com>").ok, false);
    assert.equal(parseUri("sip:user@example.com; lr").ok, false);
    assert.equal(parseUri("sip:user@example.com ").ok, false);
  });

  it("escruri (§3.1.2.11): headers in a URI are reported so the caller can refuse them in a Request-URI", () => {
    assert.deepEqual(sip("sip:user@example.com?Route=%3Csip:example.com%3E").headers, [
      ["Route", "<sip:example.com>"],
    ]);
  });
});

describe("parseUri: rejects malformed URIs with an offset", () => {
  const bad: Array<[string, number]> = [
    ["", 0],
    ["sip", 3],
    ["1sip:host", 0],
    ["sip:", 4],
    ["sip:@host", 4],
    ["sip:user@", 9],
    ["sip:host:", 9],
    ["sip:host:65536", 9],
    ["sip:host:99999999999999999999", 9],
    ["sip:host:-1", 9],
    ["sip:host:5060x", 13],
    ["sip:us er@host", 6],
    ["sip:user@ho st", 11],
    ["sip:a%2@host", 5],
    ["sip:a%zz@host", 5],
    ["sip:a%FF@host", 4],
    ["sip:a@b@c", 7],
    ["sip:host;", 9],
    ["sip:host;;lr", 9],
    ["sip:host;x=", 11],
    ["sip:host;transport", 9],
    ["sip:host;ttl=256", 9],
    ["sip:host;ttl=abc", 9],
    ["sip:host;maddr=-bad-", 9],
    ["sip:host;lr;LR", 12],
    ["sip:host?", 9],
    ["sip:host?x", 10],
    ["sip:host?=v", 9],
    ["sip:host?a=b&", 13],
    ["sip:host#frag", 8],
    ["sip:-host.example.com", 4],
    ["sip:host-.example.com", 8],
    ["sip:host..example.com", 9],
    ["sip:example.123", 12],
    ["sip:192.0.2.256", 4],
    ["sip:192.0.2", 4],
    ["sip:1.2.3.4.5", 4],
    ["sip:host_name.example.com", 8],
    ["sip:[2001:db8::1", 4],
    ["sip:[2001:db8::1::2]", 5],
    ["sip:[2001:db8:1:2:3:4:5:6:7]", 5],
    ["sip:[12345::1]", 5],
    ["sip:[::1%eth0]", 5],
    ["sip:[::g]", 5],
    ["sip:[]", 5],
    ["sip:[::1]x", 9],
    ["sip:[1:]", 5],
    ["sip:[:1]", 5],
    ["sip:[1:::2]", 5],
    ["sip:[1.2.3.4::]", 5],
    ["sip:[::ffff:1.2.3.256]", 5],
    ["sip:[1:2:3:4:5:6:7:1.2.3.4]", 5],
    ["sip:[1:2:3:4:5:6:7:8::]", 5],
    ["sip:[::1:2:3:4:5:6:7:8]", 5],
    ["sip:2001:db8::1", 4],
    ["tel:", 4],
    ["tel:+", 4],
    ["tel:1234", 4],
    ["tel:+1234;phone-context=example.com", 4],
    ["tel:+12;ext=abc", 8],
    ["tel:+12;ext=1;ext=2", 14],
    ["tel:+12 34", 7],
    ["mailto:", 7],
    ["http://a b", 8],
    ["x-:a\u00e9", 4],
  ];
  for (const [text, offset] of bad) {
    it(`refuses ${JSON.stringify(text)} at offset ${offset}`, () => {
      const r = parseUri(text);
      assert.equal(r.ok, false, `${text} was accepted`);
      if (r.ok) return;
      assert.equal(r.code, "bad-uri");
      assert.equal(r.offset, offset, `${text}: ${r.detail}`);
      assert.ok(r.detail.length > 0);
    });
  }

  it("refuses a label longer than 63 octets and a name longer than 253 (RFC 1035 §2.3.4)", () => {
    assert.equal(parseUri(`sip:${"a".repeat(63)}.example.com`).ok, true);
    assert.equal(parseUri(`sip:${"a".repeat(64)}.example.com`).ok, false);
    const long = Array.from({ length: 64 }, () => "abc").join(".");
    assert.equal(parseUri(`sip:${long}`).ok, false);
  });

  it("never echoes control characters of the input in a detail", () => {
    for (const text of [
      "sip:h;%0D%0A;%0d%0a",
      "sip:[::1\r\nX]",
      "sip:h;maddr=[1\r\n]",
      "sip:h;transport=%0D",
    ]) {
      const r = parseUri(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.detail, /^[\x20-\x7e]+$/, r.detail);
    }
  });

  it("accepts a 253-octet name (and its trailing dot), refuses 254 (RFC 1035 §2.3.4)", () => {
    const name253 = [...Array.from({ length: 4 }, () => "a".repeat(61)), "abcde"].join(".");
    assert.equal(name253.length, 253);
    assert.equal(sip(`sip:${name253}`).host, name253);
    assert.equal(sip(`sip:${name253}.`).host, name253 + ".");
    assert.equal(parseUri(`sip:x${name253}`).ok, false);
  });

  it("MAX_URI_LENGTH is inclusive", () => {
    const base = "sip:a@example.com;x=";
    assert.equal(parseUri(base + "v".repeat(MAX_URI_LENGTH - base.length)).ok, true);
    assert.equal(parseUri(base + "v".repeat(MAX_URI_LENGTH - base.length + 1)).ok, false);
  });

  it("refuses overlong input before scanning it", () => {
    const r = parseUri("sip:" + "a".repeat(10000) + "@example.com");
    assert.equal(r.ok, false);
  });
});

describe("uriEquals: RFC 3261 §19.1.4", () => {
  // The sets of equivalent URIs listed in RFC 3261 §19.1.4.
  const equal: string[][] = [
    ["sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"],
    ["sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"],
    [
      "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
      "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ],
    [
      "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
      "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ],
  ];
  // The pairs of non-equivalent URIs listed there.
  const notEqual: Array<[string, string, string]> = [
    ["SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", "different usernames"],
    ["sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", "can resolve to different ports"],
    ["sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", "can resolve to different transports"],
    ["sip:bob@biloxi.com", "sip:bob@192.0.2.4:5060;transport=tcp", "different port and transports"],
    ["sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", "header only in one"],
    ["sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", "host name vs its address"],
    // Equality is not transitive (§19.1.4 note).
    ["sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", "param in both differs"],
  ];
  for (const set of equal) {
    it(`equal: ${set.join("  ==  ")}`, () => {
      for (const a of set) for (const b of set) assert.ok(uriEquals(ok(a), ok(b)), `${a} vs ${b}`);
    });
  }
  for (const [a, b, why] of notEqual) {
    it(`not equal (${why}): ${a} / ${b}`, () => {
      assert.equal(uriEquals(ok(a), ok(b)), false);
      assert.equal(uriEquals(ok(b), ok(a)), false);
    });
  }
  it("the non-transitive example: both equal the URI without the parameter", () => {
    const plain = ok("sip:carol@chicago.com");
    assert.ok(uriEquals(plain, ok("sip:carol@chicago.com;security=on")));
    assert.ok(uriEquals(plain, ok("sip:carol@chicago.com;security=off")));
  });

  const more: Array<[string, string, boolean, string]> = [
    ["sip:a@h", "sips:a@h", false, "SIP and SIPS never equal"],
    ["sip:a@h;user=phone", "sip:a@h", false, "user param in one only"],
    ["sip:a@h;ttl=1", "sip:a@h", false, "ttl in one only"],
    ["sip:a@h;ttl=1", "sip:a@h;ttl=001", true, "ttl compared as number"],
    ["sip:a@h;method=INVITE", "sip:a@h", false, "method in one only"],
    ["sip:a@h;maddr=239.1.1.1", "sip:a@h", false, "maddr in one only"],
    ["sip:a@h;maddr=Proxy.Example", "sip:a@h;maddr=proxy.example", true, "maddr host case"],
    ["sip:a@h;transport=UDP", "sip:a@h;transport=udp", true, "param value case"],
    ["sip:a@h;lr", "sip:a@h", true, "lr in one only is ignored"],
    ["sip:a@h;foo", "sip:a@h;foo=bar", false, "valueless vs valued param in both"],
    ["sip:a:pw@h", "sip:a@h", false, "password in one only"],
    ["sip:a:pw@h", "sip:a:PW@h", false, "password case-sensitive"],
    ["sip:a:p%77@h", "sip:a:pw@h", true, "escaped unreserved in password"],
    ["sip:h", "sip:a@h", false, "user in one only"],
    ["sip:%2B1234@h", "sip:+1234@h", false, "reserved '+' differs from %2B"],
    ["sip:a%3Bb@h", "sip:a;b@h", false, "reserved ';' differs from %3B"],
    ["sip:%7e@h", "sip:~@h", true, "unreserved '~' equals %7e"],
    ["sip:a%20b@h", "sip:a%20b@h", true, "escaped space equals itself"],
    ["sip:a%c3%a9@h", "sip:a%C3%A9@h", true, "hex case of escapes"],
    ["sip:a@[2001:db8::1]", "sip:a@[2001:DB8:0:0:0:0:0:1]", true, "IPv6 by value"],
    ["sip:a@[::ffff:192.0.2.1]", "sip:a@[::FFFF:c000:201]", true, "IPv4-mapped forms"],
    ["sip:a@192.0.2.1", "sip:a@[::ffff:192.0.2.1]", false, "IPv4 vs IPv6 reference"],
    ["sip:a@h:5060", "sip:a@h:05060", true, "port by value"],
    ["sip:a@h?X=1", "sip:a@h?x=1", true, "header names case-insensitive"],
    ["sip:a@h?x=A", "sip:a@h?x=a", false, "header values exact"],
    ["sip:a@h?x=1&x=2", "sip:a@h?x=2&x=1", false, "repeated header order"],
    ["sip:a@h?x=1&y=2", "sip:a@h?y=2&x=1", true, "different headers in any order"],
    ["sip:a@h?x=1", "sip:a@h?x=1&x=1", false, "header count"],
    ["sip:a@h", "tel:+1234", false, "different schemes"],
    ["sip:h;x=a%2Bb", "sip:h;x=a+b", false, "reserved '+' in a param value differs from %2B"],
    ["sip:h;x=a%2bb", "sip:h;x=A%2Bb", true, "param value case and escape hex case"],
    ["sip:h;x=%61", "sip:h;x=A", true, "unreserved escape in a param value"],
    ["sip:h;x=%3A", "sip:h;x=:", false, "reserved ':' in a param value differs from %3A"],
    ["sip:h;ttl=%31", "sip:h;ttl=1", true, "escaped ttl compared as a number"],
    ["sip:h;maddr=%31.2.3.4", "sip:h;maddr=1.2.3.4", true, "escaped maddr compared as a host"],
    ["sip:h?x=a%2Bb", "sip:h?x=a+b", false, "reserved '+' in a header value differs from %2B"],
    ["sip:h?x=%61", "sip:h?x=a", true, "unreserved escape in a header value"],
  ];
  for (const [a, b, expected, why] of more) {
    it(`${expected ? "equal" : "not equal"} (${why}): ${a} / ${b}`, () => {
      assert.equal(uriEquals(ok(a), ok(b)), expected);
      assert.equal(uriEquals(ok(b), ok(a)), expected);
    });
  }

  it("hand-built URIs (no escaped forms) compare by their decoded parts", () => {
    const built: SipUri = {
      scheme: "sip",
      user: "+1234",
      host: "Example.COM",
      hostKind: "hostname",
      params: [],
      headers: [],
    };
    assert.ok(uriEquals(built, ok("sip:+1234@example.com")));
    assert.equal(uriEquals(built, ok("sip:%2B1234@example.com")), false);
    assert.equal(formatUri(built), "sip:+1234@example.com");
  });

  it("parameter and header escapes survive a spread of the URI, not a rebuilt list", () => {
    const u = sip("sip:h;x=a%2Bb?y=c%2Bd");
    assert.equal(formatUri({ ...u }), "sip:h;x=a%2Bb?y=c%2Bd");
    const rebuilt: SipUri = { ...u, params: [["x", "a+b"]], headers: [["y", "c+d"]] };
    assert.equal(formatUri(rebuilt), "sip:h;x=a+b?y=c+d");
    assert.equal(uriEquals(rebuilt, u), false);
  });

  it("a stale escaped form (user changed by the caller) is ignored", () => {
    const u = sip("sip:%2Balice@example.com");
    const changed: SipUri = { ...u, user: "bob" };
    assert.equal(formatUri(changed), "sip:bob@example.com");
    assert.ok(uriEquals(changed, ok("sip:bob@example.com")));
  });
});

describe("tel URIs (RFC 3966)", () => {
  it("parses global and local numbers with parameters", () => {
    const g = tel("tel:+1-201-555-0123;ext=1234;isub=5%20;Foo=Bar");
    assert.equal(g.global, true);
    assert.equal(g.number, "+1-201-555-0123");
    assert.deepEqual(g.params, [
      ["ext", "1234"],
      ["isub", "5 "],
      ["foo", "Bar"],
    ]);
    const l = tel("tel:7042;phone-context=example.com");
    assert.equal(l.global, false);
    assert.equal(l.number, "7042");
    const hex = tel("tel:*21%23;phone-context=+1-201");
    assert.equal(hex.number, "*21#");
  });

  const cases: Array<[string, string, boolean]> = [
    ["tel:+1-201-555-0123", "tel:+12015550123", true],
    ["tel:+1(201)555.0123", "tel:+12015550123", true],
    ["tel:+12015550123", "tel:+12015550124", false],
    ["tel:7042;phone-context=example.com", "tel:7042;phone-context=EXAMPLE.com", true],
    ["tel:7042;phone-context=+1-201", "tel:7042;phone-context=+1201", true],
    ["tel:7042;phone-context=example.com", "tel:7042;phone-context=example.org", false],
    ["tel:+1234;ext=1", "tel:+1234", false],
    ["tel:+1234;a=b;c=d", "tel:+1234;C=D;a=B", true],
    ["tel:+1234", "tel:1234;phone-context=+1", false],
    ["tel:abc;phone-context=x.example", "tel:ABC;phone-context=x.example", true],
  ];
  for (const [a, b, expected] of cases) {
    it(`${a} ${expected ? "==" : "!="} ${b} (RFC 3966 §4)`, () => {
      assert.equal(uriEquals(ok(a), ok(b)), expected);
      assert.equal(uriEquals(ok(b), ok(a)), expected);
    });
  }

  it("formats canonically: no visual separators, isub/ext, phone-context, then others sorted", () => {
    assert.equal(formatUri(ok("tel:+1-201-555-0123;Z=1;ext=22;a=2")), "tel:+12015550123;ext=22;a=2;z=1");
    assert.equal(
      formatUri(ok("tel:*21#;x=1;phone-context=example.com")),
      "tel:*21%23;phone-context=example.com;x=1",
    );
  });
});

describe("formatUri: canonical serialization", () => {
  const cases: Array<[string, string]> = [
    ["SIP:Alice@AtLanTa.CoM:05060;Transport=TCP", "sip:Alice@atlanta.com:5060;transport=TCP"],
    ["sip:%61lice%2b@h", "sip:alice%2B@h"],
    ["sip:a@[2001:DB8:0:0:1:0:0:1]", "sip:a@[2001:db8::1:0:0:1]"],
    ["sip:a@[2001:0:0:1:0:0:0:1]", "sip:a@[2001:0:0:1::1]"],
    ["sip:a@[1:0:0:2:0:0:3:4]", "sip:a@[1::2:0:0:3:4]"],
    ["sip:a@[1:2:3:4:5:6:7:0]", "sip:a@[1:2:3:4:5:6:7:0]"],
    ["sip:h;n%61me=v%61lue%25%34%31", "sip:h;name=value%2541"],
    ["sip:h?subject=project%20x&to=sip:bob%40b", "sip:h?subject=project%20x&to=sip:bob%40b"],
    ["sip:I%20have%20spaces@example.net", "sip:I%20have%20spaces@example.net"],
    ["sip:u:p%41ss@h", "sip:u:pAss@h"],
    ["Urn:Service:sos", "urn:Service:sos"],
    ["sip:h;x=a%2bb%41?y=c%2Bd%7e", "sip:h;x=a%2BbA?y=c%2Bd~"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => {
      const f = formatUri(ok(input));
      assert.equal(f, expected);
      assert.equal(formatUri(ok(f)), f, "canonical form is stable");
    });
  }
});

describe("formatUri: hand-built URIs", () => {
  const base: SipUri = {
    scheme: "sip",
    user: undefined,
    password: undefined,
    userEscaped: undefined,
    passwordEscaped: undefined,
    host: "example.com",
    hostKind: "hostname",
    port: undefined,
    params: [],
    headers: [],
  };
  it("escapes every character outside a component's literal set", () => {
    const u: SipUri = {
      ...base,
      user: "a b@c",
      password: "p:w",
      params: [["x y", "1;2"]],
      headers: [["h&", "v=1"]],
    };
    const f = formatUri(u);
    assert.equal(f, "sip:a%20b%40c:p%3Aw@example.com;x%20y=1%3B2?h%26=v%3D1");
    assert.deepEqual(ok(f), { ...u, userEscaped: "a%20b%40c", passwordEscaped: "p%3Aw" });
  });
  it("ignores an escaped form that is not valid for its component", () => {
    const u: SipUri = { ...base, user: "a@b", userEscaped: "a@b" };
    assert.equal(formatUri(u), "sip:a%40b@example.com");
  });
  it("compares a non-canonical escaped form by its canonical value", () => {
    const u: SipUri = { ...base, user: "alice", userEscaped: "%61lice" };
    assert.ok(uriEquals(u, ok("sip:alice@example.com")));
  });
  const bad: Array<[string, Uri]> = [
    ["host with CRLF", { ...base, host: "example.com\r\nX: y" }],
    ["empty host", { ...base, host: "" }],
    ["port out of range", { ...base, port: 70000 }],
    ["fractional port", { ...base, port: 50.5 }],
    ["empty param name", { ...base, params: [["", null]] }],
    ["empty param value", { ...base, params: [["x", ""]] }],
    ["empty header name", { ...base, headers: [["", "v"]] }],
    ["absolute URI with space", { scheme: "http", opaque: "//a b" }],
    ["absolute URI with CRLF", { scheme: "urn", opaque: "x\r\n" }],
    ["absolute URI with bad scheme", { scheme: "1x", opaque: "a" }],
    ["tel with letters in a global number", { scheme: "tel", number: "+12ab", global: true, params: [] }],
    ["tel with bad param name", { scheme: "tel", number: "+12", global: true, params: [["a b", null]] }],
  ];
  for (const [why, uri] of bad) {
    it(`throws TypeError (programmer error): ${why}`, () => {
      assert.throws(() => formatUri(uri), TypeError);
    });
  }
});

describe("parseHost", () => {
  it("accepts a bare IPv6 address only when asked (Via received)", () => {
    assert.equal(parseHost("2001:db8::1").ok, false);
    const r = parseHost("2001:db8::1", { allowBareIpv6: true });
    assert.deepEqual(r, { ok: true, host: "[2001:db8::1]", kind: "ipv6" });
    assert.equal(parseHost("[::1]").ok, true);
    assert.equal(parseHost("example.com:5060").ok, false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const userChars = alnum + "-_.!~*'()&=+$,;?/";
const passwordChars = alnum + "-_.!~*'()&=+$,";
const paramChars = alnum + "-_.!~*'()[]/:&+$";
const hnvChars = alnum + "-_.!~*'()[]/?:+$";

/** Text of one component: characters from `literal`, any character also as a %-escape of its UTF-8. */
function component(literal: string, minLength: number): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(...literal.split("")),
    fc.constantFrom(...literal.split("")).map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")),
    fc
      .constantFrom(" ", "@", "%", "é", "\u0000", "😀", "<", '"')
      .map((c) =>
        Array.from(
          new TextEncoder().encode(c),
          (b) => "%" + b.toString(16).toUpperCase().padStart(2, "0"),
        ).join(""),
      ),
  );
  return fc.array(piece, { minLength, maxLength: 8 }).map((a) => a.join(""));
}

const label = fc
  .tuple(
    fc.constantFrom(...alnum.split("")),
    fc.stringMatching(/^[a-zA-Z0-9-]{0,6}$/),
    fc.constantFrom(...alnum.split("")),
  )
  .map(([a, b, c]) => a + b + c);
const topLabel = fc
  .tuple(fc.constantFrom(..."abcdefXYZ".split("")), fc.stringMatching(/^[a-z0-9]{0,4}$/))
  .map(([a, b]) => a + b);
const hostname = fc
  .tuple(fc.array(label, { maxLength: 3 }), topLabel, fc.boolean())
  .map(([ls, top, dot]) => [...ls, top].join(".") + (dot ? "." : ""));
const ipv4 = fc
  .array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })
  .map((a) => a.join("."));
const ipv6 = fc
  .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .chain((groups) =>
    fc.constantFrom(
      `[${groups.map((g) => g.toString(16)).join(":")}]`,
      `[${groups.map((g) => g.toString(16).toUpperCase().padStart(4, "0")).join(":")}]`,
    ),
  );
const typedParam = fc.oneof(
  fc.constantFrom("transport=udp", "transport=TCP", "transport=tls", "user=phone", "method=INVITE", "lr"),
  fc.integer({ min: 0, max: 255 }).map((n) => `ttl=${n}`),
  fc.oneof(hostname, ipv4, ipv6).map((h) => `maddr=${h}`),
);
const otherParam = fc
  .tuple(component(paramChars, 1), fc.option(component(paramChars, 1)))
  .map(([n, v]) => "x" + n + (v === null ? "" : "=" + v));
const header = fc.tuple(component(hnvChars, 1), component(hnvChars, 0)).map(([n, v]) => `${n}=${v}`);

/** Generated SIP/SIPS URI texts that satisfy the RFC 3261 grammar. */
const sipUriText = fc
  .record({
    scheme: fc.constantFrom("sip", "sips", "SIP", "Sips"),
    user: fc.option(component(userChars, 1)),
    password: fc.option(component(passwordChars, 0)),
    host: fc.oneof(hostname, ipv4, ipv6),
    port: fc.option(fc.integer({ min: 0, max: 65535 })),
    params: fc.uniqueArray(fc.oneof(typedParam, otherParam), {
      maxLength: 4,
      selector: (p) => decodeURIComponentSafe(p.split("=")[0]!).toLowerCase(),
    }),
    headers: fc.array(header, { maxLength: 3 }),
  })
  .map((r) => {
    let s = r.scheme + ":";
    if (r.user !== null) s += r.user + (r.password !== null ? ":" + r.password : "") + "@";
    s += r.host + (r.port !== null ? ":" + String(r.port) : "");
    for (const p of r.params) s += ";" + p;
    r.headers.forEach((h, i) => (s += (i === 0 ? "?" : "&") + h));
    return s;
  });

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Error details go to logs and reason phrases: printable ASCII only. */
const PRINTABLE = /^[\x20-\x7e]+$/;

describe("properties (fast-check)", () => {
  it("formatUri(parseUri(x)) parses back to a deep-equal, uriEquals-equal URI, and is a fixed point", () => {
    fc.assert(
      fc.property(sipUriText, (text) => {
        const a = parseUri(text);
        if (!a.ok) throw new Error(`${text}: ${a.detail} at ${a.offset}`);
        const f = formatUri(a.uri);
        const b = parseUri(f);
        if (!b.ok) throw new Error(`${f}: ${b.detail} at ${b.offset}`);
        assert.deepEqual(b.uri, a.uri);
        assert.ok(uriEquals(a.uri, b.uri));
        assert.equal(formatUri(b.uri), f);
      }),
      { numRuns: 2000 },
    );
  });

  it("tel URIs: format is a fixed point and equal to the parsed URI (RFC 3966 §4)", () => {
    const sep = fc.constantFrom("", "", "-", ".", "(", ")");
    const digits = (alphabet: string) =>
      fc
        .array(fc.tuple(fc.constantFrom(...alphabet.split("")), sep), { minLength: 1, maxLength: 10 })
        .map((a) => a.map(([d, s]) => d + s).join(""));
    const pvalue = component(paramChars, 1);
    const telText = fc
      .record({
        global: fc.boolean(),
        number: fc.oneof(digits("0123456789"), digits("0123456789ABCDEFabcdef*#")),
        ext: fc.option(digits("0123456789")),
        context: fc.oneof(
          hostname,
          digits("0123456789").map((d) => "+" + d),
        ),
        others: fc.uniqueArray(fc.tuple(fc.stringMatching(/^x[a-z0-9-]{0,5}$/), fc.option(pvalue)), {
          maxLength: 3,
          selector: (p) => p[0],
        }),
      })
      .filter((r) => !r.global || /^[0-9]/.test(r.number))
      .map((r) => {
        let t =
          "tel:" + (r.global ? "+" + r.number.replace(/[^0-9().-]/g, "") : r.number.replace(/#/g, "%23"));
        if (r.ext !== null) t += ";ext=" + r.ext;
        for (const [n, v] of r.others) t += ";" + n + (v === null ? "" : "=" + v);
        if (!r.global) t += ";phone-context=" + r.context;
        return t;
      });
    fc.assert(
      fc.property(telText, (text) => {
        const a = parseUri(text);
        if (!a.ok) throw new Error(`${text}: ${a.detail} at ${a.offset}`);
        const f = formatUri(a.uri);
        const b = parseUri(f);
        if (!b.ok) throw new Error(`${f}: ${b.detail} at ${b.offset}`);
        assert.ok(uriEquals(a.uri, b.uri), `${text} vs ${f}`);
        assert.equal(formatUri(b.uri), f);
      }),
      { numRuns: 1000 },
    );
  });

  it("uriEquals is reflexive and symmetric; host case never matters, user case does", () => {
    fc.assert(
      fc.property(sipUriText, sipUriText, (x, y) => {
        const a = ok(x);
        const b = ok(y);
        assert.ok(uriEquals(a, a));
        assert.equal(uriEquals(a, b), uriEquals(b, a));
        const s = a as SipUri;
        assert.ok(uriEquals(a, { ...s, host: s.host.toUpperCase() }));
        if (s.user !== undefined && s.user.toUpperCase() !== s.user) {
          assert.equal(uriEquals(a, { ...s, user: s.user.toUpperCase(), userEscaped: undefined }), false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("arbitrary text never throws, and every refusal carries an in-range offset", () => {
    const alphabet = fc.constantFrom(
      ...'sip:tel+@[]%;?&=.-_ 1aF<>"\r\n\u0000é'.split(""),
      "%0D%0A",
      ";%0d",
      "[::\r\n",
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(alphabet, { maxLength: 40 }).map((a) => a.join("")),
        ),
        (text) => {
          for (const t of [text, "sip:" + text, "tel:" + text]) {
            const r = parseUri(t);
            if (!r.ok) {
              assert.equal(r.code, "bad-uri");
              assert.ok(r.offset >= 0 && r.offset <= t.length, `offset ${r.offset} for ${JSON.stringify(t)}`);
              assert.match(r.detail, PRINTABLE, "details reach logs and reason phrases");
            } else {
              assert.equal(typeof formatUri(r.uri), "string");
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
