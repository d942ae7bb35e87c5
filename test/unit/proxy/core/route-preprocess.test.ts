import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalNames } from "../../../../src/proxy/core/local-names.js";
import { preprocessRoute } from "../../../../src/proxy/core/route-preprocess.js";
import { INTERFACES, request } from "./harness.js";

const names = new LocalNames(INTERFACES);

test("§16.4 / RFC 5658: up to two of our top Route entries are removed; the next hop is what remains", () => {
  const cases: Array<{
    route: string[];
    uri: string;
    removed: string[] | undefined;
    next: string;
    ours: boolean;
  }> = [
    { route: [], uri: "sip:bob@example.net", removed: undefined, next: "sip:bob@example.net", ours: false },
    {
      route: [
        "<sip:edge.example.com:5061;transport=tls;lr>",
        "<sip:127.0.0.1:5070;lr>",
        "<sip:p.example.net;lr>",
      ],
      uri: "sip:bob@example.net",
      removed: ["<sip:p.example.net;lr>"],
      next: "sip:p.example.net;lr",
      ours: true,
    },
    {
      route: ["<sip:p.example.net;lr>", "<sip:edge.example.com;lr>"],
      uri: "sip:bob@example.net",
      removed: undefined,
      next: "sip:p.example.net;lr",
      ours: false,
    },
    {
      // Another port of our host is not us.
      route: ["<sip:edge.example.com:9999;lr>"],
      uri: "sip:bob@example.net",
      removed: undefined,
      next: "sip:edge.example.com:9999;lr",
      ours: false,
    },
  ];
  for (const c of cases) {
    const plan = preprocessRoute(request({ method: "BYE", uri: c.uri, route: c.route }), names);
    assert.deepEqual(plan.routes, c.removed, JSON.stringify(c.route));
    assert.equal(plan.nextHopText, c.next);
    assert.equal(plan.viaOurRoute, c.ours);
  }
});

test("§16.4 strict-router fix-up: our Record-Route in the Request-URI is replaced by the last Route value", () => {
  const plan = preprocessRoute(
    request({
      method: "BYE",
      uri: "sip:ft-abc.def@edge.example.com:5061;transport=tls;lr",
      route: ["<sip:p.example.net;lr>", "<sip:bob@192.0.2.1:5060>"],
    }),
    names,
  );
  assert.equal(plan.requestUri, "sip:bob@192.0.2.1:5060");
  assert.deepEqual(plan.routes, ["<sip:p.example.net;lr>"]);
  assert.equal(plan.flowToken, "ft-abc.def");
  assert.equal(plan.viaOurRoute, true);
});

test("the flow token is read from our Route entries", () => {
  const plan = preprocessRoute(
    request({
      method: "BYE",
      uri: "sip:alice@192.0.2.10",
      route: ["<sip:127.0.0.1:5070;transport=udp;lr>", "<sip:ft-x.y@edge.example.com:5061;transport=tls;lr>"],
    }),
    names,
  );
  assert.equal(plan.flowToken, "ft-x.y");
  assert.deepEqual(plan.routes, []);
  assert.equal(plan.nextHopIsRoute, false);
});
