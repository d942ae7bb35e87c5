/** `siptrust sip parse`: output and exit codes (0 valid, 1 invalid, 2 unreadable), run as a real process. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT, RFC4475_DIR } from "./corpus.js";

function run(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "bin", "siptrust.js"), "sip", "parse", ...args], {
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("valid message: exit 0, JSON with start line, headers in order with parsed values, body length", () => {
  const r = run(["--json", join(RFC4475_DIR, "dblreq.dat")]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.ok, true);
  assert.equal(out.kind, "request");
  assert.equal(out.method, "REGISTER");
  assert.equal(out.requestUri, "sip:example.com");
  assert.equal(out.bodyLength, 0);
  assert.deepEqual(
    out.headers.map((h: { key: string }) => h.key),
    ["to", "from", "max-forwards", "call-id", "contact", "cseq", "via", "content-length"],
  );
  const cseq = out.headers.find((h: { key: string }) => h.key === "cseq");
  assert.deepEqual(cseq.parsed, { seq: 8, method: "REGISTER" });
  assert.equal(
    out.headers.find((h: { key: string }) => h.key === "via").parsed[0].branch,
    "z9hG4bKkdjuw23492",
  );
});

test("invalid message: exit 1 and {ok:false, code, detail} in JSON, or the code on stderr", () => {
  const json = run(["--json", join(RFC4475_DIR, "badvers.dat")]);
  assert.equal(json.status, 1);
  const out = JSON.parse(json.stdout);
  assert.equal(out.ok, false);
  assert.equal(out.code, "bad-version");
  assert.equal(typeof out.detail, "string");
  const text = run([join(RFC4475_DIR, "mismatch01.dat")]);
  assert.equal(text.status, 1);
  assert.match(text.stderr, /cseq-method-mismatch/);
});

test("'-' reads standard input", () => {
  const msg = Buffer.from(
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
  );
  const r = run(["-"], msg);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^valid response: SIP\/2.0 200 OK/);
});

test("unreadable file or missing argument: exit 2", () => {
  assert.equal(run([join(RFC4475_DIR, "does-not-exist.dat")]).status, 2);
  assert.equal(run([]).status, 2);
});
