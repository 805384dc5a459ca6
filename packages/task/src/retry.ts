import { DurableTaskError } from "@durabletask/api";
import { type NormalizedRetryPolicy, retryDelayMs, shouldRetry } from "./retry-policy.js";
import type { CompletableTask, TaskOutcome, TaskScope } from "./task.js";

/** What {@link withRetry} needs from the orchestration. @internal */
export interface RetryHost {
  readonly scope: TaskScope;
  /** The orchestration clock, in epoch milliseconds. */
  nowMs(): number;
  /** Schedules a durable timer firing at `fireAtMs`. */
  createTimer(fireAtMs: number): CompletableTask<void>;
}

/**
 * A task that runs `attempt()` and, while `policy` allows, waits on a durable timer and runs it
 * again after each failure. Every attempt and every timer takes fresh sequence numbers, so three
 * attempts use ids n (call), n+1 (timer), n+2 (call), n+3 (timer), n+4 (call).
 *
 * The retry decision runs synchronously while the failure event is applied, so the timer's id
 * is fixed by history order, not by when user code happens to resume.
 *
 * @internal
 */
export function withRetry<T>(
  host: RetryHost,
  policy: NormalizedRetryPolicy,
  attempt: () => CompletableTask<T>,
): CompletableTask<T> {
  const result = host.scope.create<T>();
  const firstAttemptMs = host.nowMs();
  const run = (attemptNumber: number): void => {
    attempt().onSettled((outcome) => {
      const delayMs = nextDelayMs(outcome, attemptNumber);
      if (delayMs === undefined) return settle(result, outcome);
      host.createTimer(host.nowMs() + delayMs).onSettled(() => run(attemptNumber + 1));
    });
  };
  const nextDelayMs = (outcome: TaskOutcome<T>, attemptNumber: number): number | undefined => {
    if (outcome.ok || !DurableTaskError.is(outcome.error)) return undefined;
    const elapsedMs = host.nowMs() - firstAttemptMs;
    if (!shouldRetry(policy, attemptNumber, outcome.error, elapsedMs)) return undefined;
    return retryDelayMs(policy, attemptNumber);
  };
  run(1);
  return result;
}

function settle<T>(task: CompletableTask<T>, outcome: TaskOutcome<T>): void {
  if (outcome.ok) task.resolve(outcome.value);
  else task.reject(outcome.error);
}
