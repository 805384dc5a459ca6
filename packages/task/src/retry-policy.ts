import { type DurableTaskError, describe, invalidArgument } from "@durabletask/api";

/**
 * When and how often a failed activity or sub-orchestration is called again. Retries wait on
 * durable timers, so they survive restarts and replay deterministically.
 *
 * Attempt `n` (1-based) that fails is retried when `n < maxAttempts`, `handle(error)` returns
 * true, the failure is not marked `isNonRetriable`, and the orchestration clock is still before
 * the first attempt plus `retryTimeoutMs`. The wait before attempt `n + 1` is
 * `min(firstRetryIntervalMs × backoffCoefficient^(n-1), maxRetryIntervalMs)`.
 */
export interface RetryPolicy {
  /** Total number of attempts, the first included; an integer ≥ 1. */
  readonly maxAttempts: number;
  /** Wait before the first retry, in milliseconds; > 0. */
  readonly firstRetryIntervalMs: number;
  /** Factor applied to the wait after each retry; ≥ 1, default 1. */
  readonly backoffCoefficient?: number | undefined;
  /** Upper bound of a single wait, in milliseconds; default unbounded. */
  readonly maxRetryIntervalMs?: number | undefined;
  /** No retry starts this long after the first attempt, in milliseconds; default unbounded. */
  readonly retryTimeoutMs?: number | undefined;
  /** Decides whether a failure is worth retrying; default: every failure is. */
  readonly handle?: ((error: DurableTaskError) => boolean) | undefined;
}

/** A validated {@link RetryPolicy} with its defaults filled in. @internal */
export interface NormalizedRetryPolicy {
  readonly maxAttempts: number;
  readonly firstRetryIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maxRetryIntervalMs: number;
  readonly retryTimeoutMs: number;
  readonly handle: (error: DurableTaskError) => boolean;
}

/**
 * Validates `policy` and fills in its defaults.
 *
 * @throws {@link DurableTaskError} `InvalidArgument` naming the offending field of `field`.
 * @internal
 */
export function normalizeRetryPolicy(policy: unknown, field: string): NormalizedRetryPolicy {
  if (typeof policy !== "object" || policy === null) {
    throw invalidArgument(field, `must be a retry policy object, got ${describe(policy)}`);
  }
  const p = policy as RetryPolicy;
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) {
    throw invalidArgument(
      `${field}.maxAttempts`,
      `must be an integer ≥ 1, got ${describe(p.maxAttempts)}`,
    );
  }
  if (!Number.isFinite(p.firstRetryIntervalMs) || p.firstRetryIntervalMs <= 0) {
    const got = describe(p.firstRetryIntervalMs);
    throw invalidArgument(
      `${field}.firstRetryIntervalMs`,
      `must be a finite number > 0, got ${got}`,
    );
  }
  const backoffCoefficient = p.backoffCoefficient ?? 1;
  checkNumber(backoffCoefficient, `${field}.backoffCoefficient`, 1, true);
  const maxRetryIntervalMs = p.maxRetryIntervalMs ?? Number.POSITIVE_INFINITY;
  checkNumber(maxRetryIntervalMs, `${field}.maxRetryIntervalMs`, 0, false);
  const retryTimeoutMs = p.retryTimeoutMs ?? Number.POSITIVE_INFINITY;
  checkNumber(retryTimeoutMs, `${field}.retryTimeoutMs`, 0, true);
  if (p.handle !== undefined && typeof p.handle !== "function") {
    throw invalidArgument(`${field}.handle`, `must be a function, got ${describe(p.handle)}`);
  }
  const handle = p.handle ?? (() => true);
  const { maxAttempts, firstRetryIntervalMs } = p;
  return {
    maxAttempts,
    firstRetryIntervalMs,
    backoffCoefficient,
    maxRetryIntervalMs,
    retryTimeoutMs,
    handle,
  };
}

// `Infinity` is allowed: it is how "unbounded" is spelled.
function checkNumber(value: unknown, field: string, min: number, inclusive: boolean): void {
  const ok =
    typeof value === "number" && !Number.isNaN(value) && (inclusive ? value >= min : value > min);
  if (!ok)
    throw invalidArgument(
      field,
      `must be a number ${inclusive ? "≥" : ">"} ${min}, got ${describe(value)}`,
    );
}

/** The wait in milliseconds after failed attempt `attempt` (1-based). @internal */
export function retryDelayMs(policy: NormalizedRetryPolicy, attempt: number): number {
  const delay = policy.firstRetryIntervalMs * policy.backoffCoefficient ** (attempt - 1);
  return Math.min(delay, policy.maxRetryIntervalMs);
}

/**
 * Whether failed attempt `attempt` (1-based) should be retried, `elapsedMs` after the first
 * attempt on the orchestration clock. A throwing `handle` counts as "do not retry".
 *
 * @internal
 */
export function shouldRetry(
  policy: NormalizedRetryPolicy,
  attempt: number,
  error: DurableTaskError,
  elapsedMs: number,
): boolean {
  if (attempt >= policy.maxAttempts) return false;
  if (error.failureDetails?.isNonRetriable === true) return false;
  if (elapsedMs >= policy.retryTimeoutMs) return false;
  try {
    return policy.handle(error) === true;
  } catch {
    return false;
  }
}
