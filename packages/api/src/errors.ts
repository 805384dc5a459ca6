/**
 * Every way an engine operation can fail, as a stable string a caller can switch on.
 *
 * - `InvalidArgument`: a caller passed something malformed; the message names the field.
 * - `InstanceNotFound` / `InstanceExists`: the instance id is unknown / already taken.
 * - `NotCompleted` / `NotStarted`: the instance is not in a state that allows the operation.
 * - `WorkItemLockLost`: another worker owns the work item now (its lease expired).
 * - `NonDeterminism`: replay found the orchestrator doing something different from its history.
 * - `NotRegistered`: no orchestrator or activity with that name.
 * - `TaskFailed`: an awaited activity or sub-orchestration failed (see `failureDetails`).
 * - `TaskCanceled`: an awaited task was canceled (e.g. an external-event wait timed out).
 * - `Timeout` / `Aborted`: a wait ran past its `timeoutMs` / its `AbortSignal` fired.
 * - `NotInitialized`: the backend was used before `start()` (or after `stop()`).
 * - `TaskHubExists` / `TaskHubNotFound`: task hub lifecycle conflicts.
 * - `PayloadTooLarge`: a payload is over the configured limit.
 * - `Unavailable`: storage is busy, read-only, full or unreachable; the operation may be retried.
 * - `Unimplemented`: the operation is not supported by this backend or server.
 * - `Unauthenticated`: the server requires credentials (e.g. a bearer token) that were missing or
 *   wrong.
 * - `Internal`: a bug or an unexpected state; the message says what was seen.
 */
export type ErrorCode =
  | "InvalidArgument"
  | "InstanceNotFound"
  | "InstanceExists"
  | "NotCompleted"
  | "NotStarted"
  | "WorkItemLockLost"
  | "NonDeterminism"
  | "NotRegistered"
  | "TaskFailed"
  | "TaskCanceled"
  | "Timeout"
  | "Aborted"
  | "NotInitialized"
  | "TaskHubExists"
  | "TaskHubNotFound"
  | "PayloadTooLarge"
  | "Unavailable"
  | "Unimplemented"
  | "Unauthenticated"
  | "Internal";

const brand = Symbol.for("@durabletask/api/DurableTaskError");

/** Failure details of a failed activity, sub-orchestration or orchestration. */
export interface FailureDetails {
  /** The error's type name, e.g. `TypeError` or an application error name. */
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stackTrace?: string | undefined;
  readonly innerFailure?: FailureDetails | undefined;
  /** When true, retry policies do not retry this failure. */
  readonly isNonRetriable?: boolean | undefined;
}

/** Options of {@link DurableTaskError}. */
export interface DurableTaskErrorOptions {
  readonly cause?: unknown;
  /** For `TaskFailed`: the failure the task reported. */
  readonly failureDetails?: FailureDetails | undefined;
}

/**
 * The one error type the engine throws. Switch on {@link DurableTaskError.code}; the message is
 * for people and names the offending field or instance.
 *
 * `instanceof` works across copies of this package (the check uses a global symbol), and
 * {@link DurableTaskError.is} narrows `unknown` values, optionally to one code.
 */
export class DurableTaskError extends Error {
  override readonly name = "DurableTaskError";
  readonly code: ErrorCode;
  readonly failureDetails: FailureDetails | undefined;

  constructor(code: ErrorCode, message: string, options: DurableTaskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.failureDetails = options.failureDetails;
    Object.defineProperty(this, brand, { value: true });
  }

  /** True when `value` is a DurableTaskError (from any copy of this package), with `code` if given. */
  static is(value: unknown, code?: ErrorCode): value is DurableTaskError {
    if (typeof value !== "object" || value === null || !(brand in value)) return false;
    return code === undefined || (value as { code?: unknown }).code === code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return DurableTaskError.is(value);
  }
}

/** Shorthand for an `InvalidArgument` error about `field`. */
export function invalidArgument(field: string, problem: string): DurableTaskError {
  return new DurableTaskError("InvalidArgument", `${field}: ${problem}`);
}
