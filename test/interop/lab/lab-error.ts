// Why a lab could not start. Thrown only after everything it had started is stopped and removed.
export class LabStartError extends Error {
  /** The lab directory; removed (with every process) before this error is thrown. */
  dir = "";

  constructor(
    readonly code: "knot-failed" | "unbound-failed" | "timeout",
    message: string,
  ) {
    super(message);
    this.name = "LabStartError";
  }
}
