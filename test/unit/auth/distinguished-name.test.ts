import { test } from "node:test";
import assert from "node:assert/strict";
import { dnStringKey, subjectKey } from "../../../src/auth/distinguished-name.js";

function key(result: ReturnType<typeof dnStringKey>): string {
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.key;
}

test("a Node subject and the RFC 4514 string of the same name have the same key", () => {
  const node = "C=DE\nO=Fed\\, A\\+B\nCN=Root One + UID=x1";
  const pairs: ReadonlyArray<readonly [string, boolean]> = [
    ["CN=Root One+UID=x1, O=Fed\\, A\\+B, C=DE", true],
    ["uid=X1 + cn=root  one,o=fed\\2C A\\2bB,c=de", true], // case, blanks, hex escapes, AVA order
    ["CN=Root One, O=Fed\\, A\\+B, C=DE", false], // UID missing
    ["CN=Root One+UID=x1, O=Fed\\, A\\+B, C=FR", false],
  ];
  for (const [text, same] of pairs)
    assert.equal(key(dnStringKey(text)) === key(subjectKey(node)), same, text);
});

test("malformed names are reported, not guessed", () => {
  for (const text of ["", "   ", "no equals sign", "=value", "CN=a\\q", "C N=x", "CN=x, O=Fed A+B"]) {
    const result = dnStringKey(text);
    assert.equal(result.ok, false, text);
  }
});
