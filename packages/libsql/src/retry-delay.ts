const firstDelayMs = 25;
const maxDelayMs = 1000;

/**
 * How long to wait before re-sending a batch for the `attempt`-th time (0-based): exponential
 * from 25 ms, capped at 1 s, with the upper half jittered so that racing writers spread out.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, firstDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
