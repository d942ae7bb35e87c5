/**
 * Exit codes shared by every CLI verb: 0 = yes/valid, 1 = no/invalid, 2 = usage or unreadable input.
 */
export const EXIT_OK = 0;
export const EXIT_NO = 1;
export const EXIT_USAGE = 2;

/** A usage or input error: the verb prints `message` and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
