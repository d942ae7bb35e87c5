import { test } from "node:test";
import assert from "node:assert/strict";
import { createResponse, parseMessage, validateRequest } from "../../../src/sip/index.js";
import { corpusBytes } from "./corpus.js";

test("a 420 for bext01 copies Via/From/To/Call-ID/CSeq, adds the To tag and Unsupported (RFC 3261 §8.2.6.2)", () => {
  const req = parseMessage(corpusBytes("bext01.dat"));
  const v = validateRequest(req);
  assert.ok(!v.ok && v.status === 420);
  const resp = parseMessage(
    createResponse(req, v.status, v.reason, {
      toTag: "edge1",
      headers: [["Unsupported", v.unsupported!.join(", ")]],
    }),
  );
  assert.equal(resp.status, 420);
  assert.equal(resp.reason, "Bad Extension");
  assert.deepEqual(
    resp.via.map((x) => x.branch),
    req.via.map((x) => x.branch),
  );
  assert.equal(resp.from.tag, req.from.tag);
  assert.equal(resp.to.uriText, req.to.uriText);
  assert.equal(resp.to.tag, "edge1");
  assert.equal(resp.callId, req.callId);
  assert.deepEqual(resp.cseq, req.cseq);
  assert.deepEqual(resp.values("Unsupported"), ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]);
  assert.equal(resp.contentLength, 0);
});

test("an existing To tag is kept; a 100 gets no tag but the Timestamp", () => {
  const req = parseMessage(
    Buffer.from(
      "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\n" +
        "Call-ID: x\r\nCSeq: 1 INVITE\r\nTimestamp: 54\r\nContent-Length: 0\r\n\r\n",
    ),
  );
  assert.equal(parseMessage(createResponse(req, 486, "Busy Here", { toTag: "new" })).to.tag, "2");
  const trying = parseMessage(createResponse(req, 100, "Trying", { toTag: "new" }));
  assert.equal(trying.to.tag, "2");
  assert.equal(trying.get("Timestamp"), "54");
  assert.throws(() => createResponse(req, 99, "x"), RangeError);
});
