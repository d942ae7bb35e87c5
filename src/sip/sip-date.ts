/**
 * Date header (RFC 3261 §20.17): SIP-date = rfc1123-date = wkday "," SP date1 SP time SP "GMT", with
 * date1 = 2DIGIT SP month SP 4DIGIT and time = 2DIGIT ":" 2DIGIT ":" 2DIGIT. Only GMT is allowed
 * ("always in GMT"); RFC 4475 §3.1.2.12 shows "EST" as the malformed case.
 */
import { valueError, type ValueResult } from "./errors.js";

const WKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SHAPE = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

export function parseSipDate(text: string): ValueResult<Date> {
  const m = SHAPE.exec(text);
  if (m === null) return valueError("expected 'Wkd, DD Mon YYYY HH:MM:SS GMT'", 0);
  const [, wkday, dd, mon, yyyy, hh, mi, ss] = m as unknown as string[];
  const month = MONTHS.indexOf(mon!);
  if (!WKDAYS.includes(wkday!) || month < 0) return valueError("unknown weekday or month name", 0);
  const day = Number(dd);
  const date = new Date(Date.UTC(Number(yyyy), month, day, Number(hh), Number(mi), Number(ss)));
  // Reject impossible dates (31 Feb) and times (25:61:61) instead of letting Date roll them over.
  // The weekday is not cross-checked: it carries no information and senders get it wrong harmlessly.
  if (
    date.getUTCDate() !== day ||
    date.getUTCHours() !== Number(hh) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(ss)
  ) {
    return valueError("date or time out of range", 0);
  }
  return { ok: true, value: date };
}
