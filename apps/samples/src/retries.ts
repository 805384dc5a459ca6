import type { Activity } from "@durabletask/task";
import { createTaskRegistry, type OrchestrationContext, type RetryPolicy } from "@durabletask/task";
import {
  outputOf,
  runToCompletion,
  type SampleOptions,
  withSampleEngine,
} from "./sample-engine.js";
import { createSeededRandom } from "./seeded-random.js";

/** The share of calls the flaky activity fails. */
export const failureRate = 0.7;

/** Up to 10 attempts, waiting 100 ms, 200 ms, 400 ms, … but never more than 3 s between them. */
export const retryPolicy: RetryPolicy = {
  maxAttempts: 10,
  firstRetryIntervalMs: 100,
  backoffCoefficient: 2,
  maxRetryIntervalMs: 3_000,
};

/** Options of the `retries` sample. */
export interface RetriesOptions extends SampleOptions {
  /** Seed of the activity's failures; default 1 (which succeeds on the 4th attempt). */
  readonly seed?: number | undefined;
}

/**
 * An activity failing about 70 % of its calls, drawing from `random`. It returns the number of
 * the call that succeeded (1-based), which is the attempt count the retry policy needed.
 */
export function createRandomFailActivity(random: () => number): Activity<unknown, number> {
  let calls = 0;
  return async () => {
    calls += 1;
    if (random() < failureRate) throw new Error(`random failure on attempt ${calls}`);
    return calls;
  };
}

/** Orchestrator: calls the flaky activity with {@link retryPolicy}. */
export async function flakyWork(ctx: OrchestrationContext): Promise<number> {
  return ctx.callActivity<number>("RandomFail", undefined, { retry: retryPolicy });
}

/**
 * The `retries` sample (durabletask-go `samples/retries`): durable retries with exponential
 * back-off. Returns the attempt on which the activity succeeded; the orchestration fails (and
 * this rejects) when all 10 attempts fail.
 */
export async function main(options: RetriesOptions = {}): Promise<number> {
  const seed = options.seed ?? 1;
  const registry = createTaskRegistry()
    .addOrchestrator("FlakyWork", flakyWork)
    .addActivity("RandomFail", createRandomFailActivity(createSeededRandom(seed)));
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const startedAt = Date.now();
    const attempts = outputOf<number>(await runToCompletion(client, "FlakyWork"));
    const elapsedMs = Date.now() - startedAt;
    print(
      `Succeeded on attempt ${attempts} of ${retryPolicy.maxAttempts} (seed ${seed}, ${elapsedMs} ms).`,
    );
    return attempts;
  });
}
