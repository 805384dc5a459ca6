import { DurableTaskError, type ErrorCode, type FailureDetails, failureOf } from "@durabletask/api";

/** Default of `maxEpisodeAttempts` (task hub worker option, sidecar `--max-episode-attempts`). */
export const defaultMaxEpisodeAttempts = 10;

/** The `errorType` of the failure a poison work item ends with. */
export const poisonErrorType = "PoisonWorkItem";

/**
 * Failures that say nothing about the work item itself: shutdown, a lost lease, storage that is
 * busy or unreachable (an aborted attempt fails with `Aborted` or `WorkItemLockLost`). They never
 * end a work item.
 */
const transientCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "Aborted",
  "Unavailable",
  "WorkItemLockLost",
  "NotInitialized",
]);

/** Settings of {@link poisonFailure}. */
export interface PoisonCheck {
  /** Deliveries before this one (the work item's `retryCount`). */
  readonly retryCount: number;
  readonly maxAttempts: number;
}

/**
 * When the attempt that threw `error` was the last one allowed, the failure to end the work
 * item with (type `PoisonWorkItem`, a message naming the attempts and the last error, which is
 * also the inner failure); otherwise `undefined` (the item is given back with back-off).
 * Attempt n is delivery n, so attempts cut short by a crash count too; but only an attempt that
 * fails in this process, for a reason that is not transient, ends the item.
 */
export function poisonFailure(
  what: string,
  error: unknown,
  check: PoisonCheck,
): FailureDetails | undefined {
  const attempts = check.retryCount + 1;
  if (attempts < check.maxAttempts) return undefined;
  if (error instanceof DurableTaskError && transientCodes.has(error.code)) return undefined;
  const last = failureOf(error);
  return {
    errorType: poisonErrorType,
    errorMessage:
      `${what} failed ${attempts} times outside user code (limit maxEpisodeAttempts = ` +
      `${check.maxAttempts}); last error: ${last.errorType}: ${last.errorMessage}`,
    innerFailure: last,
    isNonRetriable: true,
  };
}
