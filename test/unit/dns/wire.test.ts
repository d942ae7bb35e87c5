import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import dnsPacket from "dns-packet";
import type { Answer, Packet } from "dns-packet";
import { decodeMessage, encodeQuery, matchesQuery } from "../../../src/dns/wire.js";

function response(extra: Partial<Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: "response",
    id: 77,
    flags: dnsPacket.AUTHENTIC_DATA | 3,
    questions: [{ name: "sip.example", type: "SRV", class: "IN" }],
    answers: [
      {
        type: "SRV",
        name: "sip.example",
        ttl: 60,
        data: { priority: 1, weight: 2, port: 5061, target: "a.example" },
      },
    ],
    authorities: [
      {
        type: "SOA",
        name: "example",
        ttl: 30,
        data: {
          mname: "ns.example",
          rname: "h.example",
          serial: 1,
          refresh: 2,
          retry: 3,
          expire: 4,
          minimum: 5,
        },
      },
    ],
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 1,
        flags: dnsPacket.DNSSEC_OK,
        options: [{ code: 15, data: Buffer.from([0, 6, 0x68, 0x69]) }],
      } as never,
    ],
    ...extra,
  });
}

test("decodes header flags, extended RCODE, sections, OPT options and raw RDATA", () => {
  const decoded = decodeMessage(response());
  assert.ok(decoded.ok);
  const m = decoded.message;
  assert.deepEqual([m.id, m.qr, m.ad, m.tc], [77, true, true, false]);
  assert.equal(m.rcode, (1 << 4) | 3, "RFC 6891 §6.1.3: extended RCODE = OPT high bits + header RCODE");
  assert.equal(m.answers[0]?.type, "SRV");
  assert.deepEqual(m.answers[0]?.data, { priority: 1, weight: 2, port: 5061, target: "a.example" });
  assert.equal(m.answers[0]?.rdata.length, 6 + 11);
  assert.equal(m.authorities[0]?.type, "SOA");
  assert.equal(m.additionals.length, 0, "the OPT record is lifted out of the additional section");
  assert.deepEqual(
    m.opt?.options.map((o) => [o.code, o.data.toString("hex")]),
    [[15, "00066869"]],
  );
  assert.equal(m.opt?.doBit, true);
});

test("the encoded query asks one question with EDNS0 DO=1 and matches its own response only", () => {
  const q = dnsPacket.decode(encodeQuery(9, "sip.example", "NAPTR"));
  assert.equal(q.questions?.[0]?.type, "NAPTR");
  const r = decodeMessage(
    dnsPacket.encode({
      type: "response",
      id: 9,
      questions: [{ name: "SIP.Example", type: "NAPTR", class: "IN" }],
    }),
  );
  assert.ok(r.ok);
  assert.equal(matchesQuery(r.message, 9, "sip.example", "NAPTR"), true, "names compare case-insensitively");
  assert.equal(matchesQuery(r.message, 10, "sip.example", "NAPTR"), false, "other ID");
  assert.equal(matchesQuery(r.message, 9, "sip.example", "SRV"), false, "other type");
  assert.equal(matchesQuery(r.message, 9, "other.example", "NAPTR"), false, "other name");
});

test("hostile structures are rejected as malformed", () => {
  const good = response();
  const cases: [string, Buffer][] = [
    ["short header", good.subarray(0, 11)],
    ["truncated in the middle of a record", good.subarray(0, good.length - 20)],
    [
      "counts larger than the message",
      Buffer.concat([good.subarray(0, 6), Buffer.from([0x7f, 0xff]), good.subarray(8)]),
    ],
    // question name is a pointer to itself
    ["pointer loop", Buffer.from([0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    ["label type 0x40", Buffer.from([0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1])],
  ];
  // RDLENGTH claims fewer octets than the SRV RDATA holds
  const shortRdlen = Buffer.from(good);
  const srvRdlenAt = good.indexOf(Buffer.from([0, 33, 0, 1, 0, 0, 0, 60])) + 8;
  assert.ok(srvRdlenAt > 8 && good.readUInt16BE(srvRdlenAt) === 17, "found the SRV RDLENGTH");
  shortRdlen.writeUInt16BE(5, srvRdlenAt);
  cases.push(["RDLENGTH shorter than the SRV RDATA", shortRdlen]);
  const twoOpt = dnsPacket.encode({
    type: "response",
    id: 1,
    questions: [],
    additionals: [
      { type: "OPT", name: ".", udpPayloadSize: 1232, options: [] } as never,
      { type: "OPT", name: ".", udpPayloadSize: 1232, options: [] } as never,
    ],
  });
  cases.push(["two OPT records", twoOpt]);
  const optInAnswer = dnsPacket.encode({
    type: "response",
    id: 1,
    answers: [{ type: "OPT", name: ".", udpPayloadSize: 1232, options: [] } as never],
  });
  cases.push(["OPT in the answer section", optInAnswer]);
  for (const [label, bytes] of cases) {
    const r = decodeMessage(bytes);
    assert.equal(r.ok, false, label);
  }
});

test("RDATA padded inside its RDLENGTH is malformed, for every type location relies on", () => {
  const answers: Answer[] = [
    { type: "A", name: "s.example", ttl: 60, data: "192.0.2.1" },
    { type: "AAAA", name: "s.example", ttl: 60, data: "2001:db8::1" },
    { type: "CNAME", name: "s.example", ttl: 60, data: "t.example" },
    {
      type: "SRV",
      name: "s.example",
      ttl: 60,
      data: { priority: 1, weight: 1, port: 5061, target: "t.example" },
    },
    {
      type: "NAPTR",
      name: "s.example",
      ttl: 60,
      data: {
        order: 1,
        preference: 1,
        flags: "s",
        services: "SIPS+D2T",
        regexp: "",
        replacement: "_sips._tcp.s.example",
      },
    },
    {
      type: "SOA",
      name: "s.example",
      ttl: 60,
      data: {
        mname: "ns.example",
        rname: "h.example",
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
      },
    },
  ];
  for (const answer of answers) {
    const plain = dnsPacket.encode({ type: "response", id: 5, questions: [], answers: [answer] });
    assert.ok(decodeMessage(plain).ok, answer.type);
    // The record is last: its RDLENGTH sits right after owner (11 octets), type, class and TTL.
    const rdlenAt = 12 + 11 + 8;
    const padded = Buffer.concat([plain, Buffer.from([0])]);
    padded.writeUInt16BE(padded.readUInt16BE(rdlenAt) + 1, rdlenAt);
    const r = decodeMessage(padded);
    assert.equal(r.ok, false, answer.type);
    assert.match(r.ok ? "" : r.detail, /RDLENGTH|RDATA/, answer.type);
  }
});

test("a short SRV RDATA cannot borrow octets from the record after it", () => {
  const two = dnsPacket.encode({
    type: "response",
    id: 5,
    questions: [],
    answers: [
      {
        type: "SRV",
        name: "s.example",
        ttl: 60,
        data: { priority: 1, weight: 1, port: 5061, target: "t.example" },
      },
      { type: "A", name: "s.example", ttl: 60, data: "192.0.2.1" },
    ],
  });
  const rdlenAt = 12 + 11 + 8;
  assert.equal(two.readUInt16BE(rdlenAt), 17);
  two.writeUInt16BE(8, rdlenAt); // the target name now "continues" into the next record
  assert.equal(decodeMessage(two).ok, false);
});

test("TTLs with the top bit set read as zero (RFC 2181 §8)", () => {
  const bytes = Buffer.from(response());
  const ttlAt = bytes.indexOf(Buffer.from([0, 33, 0, 1, 0, 0, 0, 60])) + 4;
  bytes.writeUInt32BE(0x80000001, ttlAt);
  const r = decodeMessage(bytes);
  assert.ok(r.ok);
  assert.equal(r.message.answers[0]?.ttl, 0);
});

test("random mutations and truncations never throw, and decode in bounded time", () => {
  const seedMessage = response();
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(seedMessage.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(seedMessage.length),
      (flips, cut) => {
        const bytes = Buffer.from(seedMessage.subarray(0, Math.max(cut, 1)));
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
        const r = decodeMessage(bytes);
        assert.equal(typeof r.ok, "boolean");
      },
    ),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (arr) => {
      const r = decodeMessage(Buffer.from(arr));
      assert.equal(typeof r.ok, "boolean");
    }),
    { numRuns: 3000 },
  );
});
