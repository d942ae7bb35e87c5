/**
 * Option-tag lists: Require, Proxy-Require, Supported, Unsupported (RFC 3261 §20.32, §20.29, §20.37, §20.40):
 * option-tag = token, separated by commas. Supported may be empty ("Supported:" with no tag).
 */
import { TOKEN, allIn } from "./chars.js";
import { valueError, type ValueResult } from "./errors.js";
import { splitListBounds } from "./split.js";

export function parseOptionTags(text: string, allowEmpty: boolean): ValueResult<string[]> {
  if (text.length === 0)
    return allowEmpty ? { ok: true, value: [] } : valueError("expected an option-tag", 0);
  const tags: string[] = [];
  for (const b of splitListBounds(text)) {
    const tag = text.slice(b.start, b.end);
    if (!allIn(TOKEN, tag)) return valueError("option-tag must be a token", b.start);
    tags.push(tag);
  }
  return { ok: true, value: tags };
}
