/**
 * A command line, environment or option the sidecar cannot run with. The message names the
 * flag; the CLI prints it and exits with code 2.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
