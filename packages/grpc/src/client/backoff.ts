/** Exponential back-off settings, in milliseconds. */
export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The wait before retry `attempt` (0-based): `initialDelayMs × 2^attempt`, capped at
 * `maxDelayMs`, with ±20 % jitter so that many workers that lost the same sidecar do not
 * reconnect in lockstep. Never above `maxDelayMs`.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.initialDelayMs * 2 ** Math.min(attempt, 30), options.maxDelayMs);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), options.maxDelayMs);
}

/** Resolves after `ms`, or as soon as `signal` fires (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
