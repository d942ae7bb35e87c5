// Issue 7, hostile input from the inside: datagrams to the edge's inside UDP port that are not SIP, cut short,
// 64 KiB large, stray responses; and hostile answers of the inner server to a forwarded INVITE (a 200 whose
// top Via is not the edge's, a response with thousands of header fields). Each is counted in admin /metrics
// (nothing vanishes unseen), answered when it can be, never forwarded to the outside; the edge keeps running
// and the real answer still reaches the caller.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { freshIds, probeEdge, scrape, total, type HostileLab } from "./hostile-lab.js";
import { InnerUas } from "./inner-uas.js";
import { header, requestText, type WireMessage } from "./sip-wire.js";
import type { TlsPeer } from "./tls-peer.js";

/** IPv4 UDP payload maximum (65,535 − 20 IP − 8 UDP). */
const MAX_DATAGRAM = 65_507;
const WAIT_MS = 3000;

/** Deterministic bytes that are not SIP (a linear congruential generator; no 0x0d/0x0a-only prefix). */
function garbage(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  out[0] = 0xfe;
  return out;
}

function insideRequest(from: InnerUas, method: string, extra: readonly string[] = [], drop?: string): string {
  const { branch, callId } = freshIds(`in-${method.toLowerCase()}`);
  const text = requestText({
    method,
    requestUri: "sip:bob@far.example",
    via: `UDP 127.0.0.1:${from.port}`,
    branch,
    callId,
    from: "<sip:alice@inner.example>",
    extra,
  });
  return drop === undefined ? text : text.replace(new RegExp(`^${drop}:.*\\r\\n`, "im"), "");
}

type Expect =
  | { readonly kind: "malformed" }
  | { readonly kind: "keepalive" }
  | { readonly kind: "stray" }
  | { readonly kind: "answer"; readonly status: number };

interface InsideCase {
  readonly name: string;
  readonly bytes: (sender: InnerUas, lab: HostileLab) => Buffer | string;
  readonly expect: Expect;
}

const INSIDE_CASES: readonly InsideCase[] = [
  {
    name: "an INVITE cut off in its header section",
    bytes: (s) => insideRequest(s, "INVITE").slice(0, 90),
    expect: { kind: "malformed" },
  },
  { name: "512 bytes of garbage", bytes: () => garbage(512), expect: { kind: "malformed" } },
  { name: "1,000 NUL bytes", bytes: () => Buffer.alloc(1000), expect: { kind: "malformed" } },
  {
    name: "a 64 KiB datagram (one header line of ~65,000 bytes)",
    bytes: (s) => {
      const head = insideRequest(s, "INVITE").replace("Content-Length: 0\r\n\r\n", "");
      const pad = MAX_DATAGRAM - head.length - "X-Pad: \r\nContent-Length: 0\r\n\r\n".length;
      return `${head}X-Pad: ${"a".repeat(pad)}\r\nContent-Length: 0\r\n\r\n`;
    },
    expect: { kind: "malformed" },
  },
  {
    name: "a 64 KiB datagram of 5,000 short header fields",
    bytes: (s) => {
      const head = insideRequest(s, "OPTIONS").replace("Content-Length: 0\r\n\r\n", "");
      return `${head}${"X: 1\r\n".repeat(5000)}Content-Length: 0\r\n\r\n`;
    },
    expect: { kind: "malformed" },
  },
  {
    name: "Content-Length larger than the datagram",
    bytes: (s) => insideRequest(s, "OPTIONS").replace("Content-Length: 0", "Content-Length: 4000"),
    expect: { kind: "malformed" },
  },
  { name: "a CRLFCRLF keep-alive", bytes: () => "\r\n\r\n", expect: { kind: "keepalive" } },
  {
    name: "a 200 OK that matches no transaction (foreign Via)",
    bytes: () =>
      [
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bKnotours1",
        "From: <sip:a@a.example>;tag=1",
        "To: <sip:b@b.example>;tag=2",
        "Call-ID: stray-1@hostile.test",
        "CSeq: 1 INVITE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    expect: { kind: "stray" },
  },
  {
    name: "a 180 naming the edge's inside Via with a branch it never sent",
    bytes: (_, lab) =>
      [
        "SIP/2.0 180 Ringing",
        `Via: SIP/2.0/UDP 127.0.0.1:${lab.insidePort};branch=z9hG4bKneversent`,
        "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKbelow",
        "From: <sip:a@a.example>;tag=1",
        "To: <sip:b@b.example>;tag=2",
        "Call-ID: stray-2@hostile.test",
        "CSeq: 1 INVITE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    expect: { kind: "stray" },
  },
  {
    name: "a request without Call-ID",
    bytes: (s) => insideRequest(s, "OPTIONS", [], "Call-ID"),
    expect: { kind: "answer", status: 400 },
  },
  {
    name: "a request with Max-Forwards: 0",
    bytes: (s) => insideRequest(s, "MESSAGE").replace("Max-Forwards: 70", "Max-Forwards: 0"),
    expect: { kind: "answer", status: 483 },
  },
  {
    name: "a request with an unsupported Proxy-Require",
    bytes: (s) => insideRequest(s, "OPTIONS", ["Proxy-Require: no-such-extension"]),
    expect: { kind: "answer", status: 420 },
  },
  {
    name: "a request to the outside while no outbound section is configured",
    bytes: (s) => insideRequest(s, "MESSAGE"),
    expect: { kind: "answer", status: 503 },
  },
];

async function waitForCount(
  lab: HostileLab,
  read: (s: Awaited<ReturnType<typeof scrape>>) => number,
  want: number,
) {
  const deadline = Date.now() + WAIT_MS;
  let series = await scrape(lab);
  while (read(series) < want && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    series = await scrape(lab);
  }
  return series;
}

export function insideSuite(getLab: () => HostileLab): void {
  describe("hostile datagrams and inner responses at the running edge", () => {
    let lab: HostileLab;
    let sender: InnerUas;
    let innerBefore = 0;

    before(async () => {
      lab = getLab();
      // The inner server answers only what a test tells it to.
      lab.uas.mode = "silent";
      innerBefore = lab.uas.requests.length;
      sender = await InnerUas.start("silent");
      sender.target = lab.insidePort;
    });
    after(async () => {
      lab.uas.mode = "answer";
      await sender?.close();
    });

    it("malformed datagrams are counted and dropped, bad requests answered, stray responses counted", async () => {
      const before = await scrape(lab);
      const malformed = (s: Awaited<ReturnType<typeof scrape>>): number =>
        total(s, "siptrust_sip_malformed_total", { transport: "udp" });
      const stray = (s: Awaited<ReturnType<typeof scrape>>): number =>
        total(s, "siptrust_dropped_total", { reason: "stray-response" });
      const keepalive = (s: Awaited<ReturnType<typeof scrape>>): number =>
        total(s, "siptrust_events_total", { name: "inner.udp.keepalive" });
      const count = (kind: Expect["kind"]): number =>
        INSIDE_CASES.filter((c) => c.expect.kind === kind).length;

      // Other suites share this edge and its inner server concurrently: only our own Call-IDs are ours.
      const sentCallIds = new Set<string>();
      for (const c of INSIDE_CASES) {
        const bytes = c.bytes(sender, lab);
        const sentCallId = /^Call-ID: (.*)$/im.exec(bytes.toString("latin1"))?.[1]?.trim();
        if (sentCallId !== undefined && sentCallId.length > 0) sentCallIds.add(sentCallId);
        const answersBefore = sender.responses.length;
        await sender.sendRaw(bytes);
        if (c.expect.kind === "answer") {
          const status = c.expect.status;
          const callId = /^Call-ID: (.*)$/im.exec(bytes.toString())?.[1];
          await sender.waitUntil(() => sender.responses.length > answersBefore, WAIT_MS);
          const answer: WireMessage | undefined = sender.responses[answersBefore];
          assert.equal(
            answer?.status,
            status,
            `${c.name}: answered ${String(answer?.startLine)}\n${lab.describe()}`,
          );
          if (callId !== undefined) assert.equal(header(answer!, "call-id"), callId.trim());
        }
      }
      const after = await waitForCount(
        lab,
        (s) => malformed(s) - malformed(before) + stray(s) - stray(before) + keepalive(s) - keepalive(before),
        count("malformed") + count("stray") + count("keepalive"),
      );
      const detail = `\n${lab.describe()}`;
      assert.equal(malformed(after) - malformed(before), count("malformed"), `malformed${detail}`);
      assert.equal(stray(after) - stray(before), count("stray"), `stray responses${detail}`);
      assert.equal(keepalive(after) - keepalive(before), count("keepalive"), `keep-alives${detail}`);
      // Nothing but the expected answers came back, and nothing reached the inner server.
      assert.equal(
        sender.responses.length,
        count("answer"),
        JSON.stringify(sender.responses.map((r) => r.startLine)),
      );
      assert.equal(sender.requests.length + sender.garbage.length, 0);
      const leaked = lab.uas.requests
        .slice(innerBefore)
        .filter((r) => sentCallIds.has(header(r, "call-id") ?? ""));
      assert.deepEqual(
        leaked.map((r) => r.startLine),
        [],
        "a hostile datagram reached the inner server",
      );
    });

    describe("hostile answers of the inner server to a forwarded INVITE", () => {
      let peer: TlsPeer;
      let invite: WireMessage;

      before(async () => {
        peer = await lab.connect();
        const { branch, callId } = freshIds("hostile-answer");
        peer.send(
          requestText({
            method: "INVITE",
            requestUri: "sip:bob@inner.example",
            via: `TLS 127.0.0.1:${peer.localPort}`,
            branch,
            callId,
          }),
        );
        const forwarded = await lab.uas.waitForRequest(callId, WAIT_MS);
        assert.ok(forwarded, `the INVITE was not forwarded\n${lab.describe()}`);
        invite = forwarded;
      });
      after(() => peer?.close());

      const finalOrRinging = (m: WireMessage): boolean => m.status !== undefined && m.status > 100;

      it("a 200 whose top Via is not the edge's is counted as stray and not forwarded", async () => {
        const before = total(await scrape(lab), "siptrust_dropped_total", { reason: "stray-response" });
        await lab.uas.respond(invite, "200 OK", {
          topVia: "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bKforeignvia",
          extra: ["Contact: <sip:evil@198.51.100.20>"],
        });
        const series = await waitForCount(
          lab,
          (s) => total(s, "siptrust_dropped_total", { reason: "stray-response" }),
          before + 1,
        );
        assert.equal(total(series, "siptrust_dropped_total", { reason: "stray-response" }), before + 1);
        assert.equal(
          await peer.waitFor(finalOrRinging, 300),
          undefined,
          "the foreign 200 reached the caller",
        );
      });

      it("a response with 3,000 header fields is counted as malformed and not forwarded", async () => {
        const malformed = (s: Awaited<ReturnType<typeof scrape>>): number =>
          total(s, "siptrust_sip_malformed_total", { transport: "udp" });
        const before = malformed(await scrape(lab));
        const junk = Array.from({ length: 3000 }, (_, i) => `X-${i}: x`);
        const text = lab.uas.responseTo(invite, "180 Ringing", { extra: junk });
        assert.ok(text.length < MAX_DATAGRAM, "the response must fit one datagram");
        await lab.uas.sendRaw(text);
        const series = await waitForCount(lab, malformed, before + 1);
        assert.equal(malformed(series), before + 1, lab.describe());
        assert.equal(await peer.waitFor(finalOrRinging, 300), undefined, "the 180 reached the caller");
      });

      it("the transaction survived: the real answer still reaches the caller, and the edge answers OPTIONS", async () => {
        await lab.uas.respond(invite, "486 Busy Here");
        const answer = await peer.waitFor(finalOrRinging, WAIT_MS);
        assert.equal(answer?.status, 486, lab.describe());
        assert.ok(lab.edge.running, lab.describe());
        const probe = await probeEdge(lab, 1000);
        assert.equal(probe.answer?.status, 200, `OPTIONS after the hostile input (${probe.ms} ms)`);
        // The inside answers too (RFC 3261 §11: OPTIONS to the edge's inside address).
        const { branch, callId } = freshIds("inside-options");
        await sender.sendRaw(
          requestText({
            method: "OPTIONS",
            requestUri: `sip:127.0.0.1:${lab.insidePort}`,
            via: `UDP 127.0.0.1:${sender.port}`,
            branch,
            callId,
          }),
        );
        await sender.waitUntil(() => sender.responses.some((r) => header(r, "call-id") === callId), WAIT_MS);
        const inside = sender.responses.find((r) => header(r, "call-id") === callId);
        assert.equal(inside?.status, 200, lab.describe());
      });
    });
  });
}
