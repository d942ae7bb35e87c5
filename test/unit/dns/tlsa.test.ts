import { test } from "node:test";
import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import type { Answer } from "dns-packet";
import { DnsClient } from "../../../src/dns/client.js";
import { decodeTlsaRdata, lookupTlsa, tlsaName } from "../../../src/dns/tlsa.js";
import { respond, startFakeDns, zoneHandler } from "./fake-dns.js";

const digest = Buffer.from("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", "hex");
const tlsa = (
  name: string,
  usage: number,
  selector: number,
  matchingType: number,
  certificate: Buffer,
): Answer => ({
  type: "TLSA",
  name,
  ttl: 3600,
  data: { usage, selector, matchingType, certificate },
});

function client(address: string): DnsClient {
  return new DnsClient({ resolver: address, timeoutMs: 500, retries: 0, cache: false });
}

test("TLSA RDATA is decoded from the raw octets (RFC 6698 §2.1)", () => {
  const rdata = Buffer.concat([Buffer.from([3, 1, 1]), digest]);
  assert.deepEqual(decodeTlsaRdata(rdata), { usage: 3, selector: 1, matchingType: 1, data: digest });
  assert.deepEqual(decodeTlsaRdata(Buffer.from([2, 0, 0])), {
    usage: 2,
    selector: 0,
    matchingType: 0,
    data: Buffer.alloc(0),
  });
  assert.equal(decodeTlsaRdata(Buffer.from([3, 1])), undefined);
  assert.equal(tlsaName(5061, "SIP1.Example.COM."), "_5061._tcp.sip1.example.com");
});

test("lookupTlsa returns the secure RRset with its records, TTL and step", async (t) => {
  const server = await startFakeDns(
    zoneHandler({
      secure: [".secure.example"],
      records: [
        tlsa("_5061._tcp.sip1.secure.example", 3, 1, 1, digest),
        tlsa("_5061._tcp.sip1.secure.example", 2, 0, 2, Buffer.alloc(64, 7)),
        tlsa("_5061._tcp.sip.unsigned.example", 3, 1, 1, digest),
        { type: "A", name: "sip2.secure.example", ttl: 60, data: "192.0.2.2" },
      ],
    }),
  );
  t.after(() => server.close());
  const c = client(server.address);
  const secure = await lookupTlsa(c, 5061, "sip1.secure.example");
  assert.deepEqual(
    [secure.name, secure.status, secure.code, secure.ttl, secure.malformed],
    ["_5061._tcp.sip1.secure.example", "secure", "answer", 3600, 0],
  );
  assert.deepEqual(
    secure.records.map((r) => [r.usage, r.selector, r.matchingType, r.data.length]),
    [
      [3, 1, 1, 32],
      [2, 0, 2, 64],
    ],
  );
  assert.deepEqual(secure.records[0]?.data, digest);
  assert.match(secure.steps[0]?.answers[0] ?? "", / IN TLSA 3 1 1 a1b2c3d4/);
  const insecure = await lookupTlsa(c, 5061, "sip.unsigned.example");
  assert.deepEqual([insecure.status, insecure.records.length], ["insecure", 1]);
  const absent = await lookupTlsa(c, 5061, "sip2.secure.example");
  assert.deepEqual(
    [absent.status, absent.code, absent.records.length],
    ["secure", "nxdomain", 0],
    "securely absent",
  );
});

test("bogus TLSA is reported as bogus", async (t) => {
  const server = await startFakeDns(
    zoneHandler({ secure: [".secure.example"], records: [], bogus: ["_443._tcp.x.secure.example"] }),
  );
  t.after(() => server.close());
  const r = await lookupTlsa(client(server.address), 443, "x.secure.example");
  assert.deepEqual([r.status, r.records.length], ["bogus", 0]);
});

test("a TLSA RDATA shorter than three octets is counted as malformed, not decoded", async (t) => {
  const server = await startFakeDns(({ query }) => {
    // Encode as type NULL (opaque RDATA), then relabel the record type as TLSA (52).
    const packet = respond(query, {
      ad: true,
      answers: [
        { type: "NULL", name: "_5061._tcp.short.example", ttl: 60, data: Buffer.from([3, 1]) } as Answer,
        tlsa("_5061._tcp.short.example", 3, 1, 1, digest),
      ],
    });
    const bytes = dnsPacket.encode(packet);
    const at = bytes.indexOf(Buffer.from([0, 10, 0, 1, 0, 0, 0, 60]));
    bytes.writeUInt16BE(52, at);
    return { raw: bytes };
  });
  t.after(() => server.close());
  const r = await lookupTlsa(client(server.address), 5061, "short.example");
  assert.deepEqual([r.status, r.malformed, r.records.length], ["secure", 1, 1]);
});

test("a TLSA RRset reached through a CNAME takes the worst status of the hops (RFC 1034 §5.3.3, RFC 7671 §7)", async (t) => {
  // The resolver does not chase CNAMEs here, so every hop is its own query with its own AD bit.
  const server = await startFakeDns(
    zoneHandler({
      noChase: true,
      secure: [".secure.example"],
      bogus: ["_5061._tcp.broken.secure.example"],
      records: [
        // An unsigned alias pointing into a signed zone: the alias could have been forged, so nothing is secure.
        {
          type: "CNAME",
          name: "_5061._tcp.sip.unsigned.example",
          ttl: 300,
          data: "_5061._tcp.sip.secure.example",
        },
        // A signed alias pointing into an unsigned zone.
        {
          type: "CNAME",
          name: "_5061._tcp.alias.secure.example",
          ttl: 300,
          data: "_5061._tcp.sip.unsigned2.example",
        },
        // A signed alias into a bogus name.
        {
          type: "CNAME",
          name: "_5061._tcp.tobogus.secure.example",
          ttl: 300,
          data: "_5061._tcp.broken.secure.example",
        },
        // Signed all the way.
        {
          type: "CNAME",
          name: "_5061._tcp.signed.secure.example",
          ttl: 300,
          data: "_5061._tcp.sip.secure.example",
        },
        tlsa("_5061._tcp.sip.secure.example", 3, 1, 1, digest),
        tlsa("_5061._tcp.sip.unsigned2.example", 3, 1, 1, digest),
        tlsa("_5061._tcp.broken.secure.example", 3, 1, 1, digest),
      ],
    }),
  );
  t.after(() => server.close());
  const c = client(server.address);
  const cases: [host: string, status: string, hops: string[]][] = [
    ["sip.unsigned.example", "insecure", ["insecure", "secure"]],
    ["alias.secure.example", "insecure", ["secure", "insecure"]],
    ["tobogus.secure.example", "bogus", ["secure", "bogus"]],
    ["signed.secure.example", "secure", ["secure", "secure"]],
  ];
  for (const [host, status, hops] of cases) {
    const r = await lookupTlsa(c, 5061, host);
    assert.deepEqual(
      r.steps.map((s) => s.status),
      hops,
      `${host}: one step per hop`,
    );
    assert.equal(r.status, status, host);
  }
});
