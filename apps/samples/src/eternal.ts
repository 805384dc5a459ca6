import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import {
  outputOf,
  runToCompletion,
  type SampleOptions,
  withSampleEngine,
} from "./sample-engine.js";

/** Input of each generation of the counter. */
export interface CounterInput {
  /** 1-based number of this generation. */
  readonly generation: number;
  /** Stop after this generation. */
  readonly limit: number;
  /** Durable timer between generations, in milliseconds. */
  readonly intervalMs: number;
}

/** Options of the `eternal` sample. */
export interface EternalOptions extends SampleOptions {
  /** How many generations to run; default 5. */
  readonly generations?: number | undefined;
  /** Pause between generations; default 50 ms. */
  readonly intervalMs?: number | undefined;
}

/**
 * Orchestrator: one generation of an "eternal" counter. It publishes its generation as custom
 * status, sleeps on a durable timer, then continues as new with the next generation (which
 * resets the history, so it can run forever without growing) until it reaches `limit`.
 */
export async function counter(ctx: OrchestrationContext, input: CounterInput): Promise<number> {
  ctx.setCustomStatus({ generation: input.generation });
  await ctx.createTimer(input.intervalMs);
  if (input.generation >= input.limit) return input.generation;
  ctx.continueAsNew({ ...input, generation: input.generation + 1 });
  return input.generation;
}

/**
 * The `eternal` sample: continue-as-new. Runs the counter for N generations and returns the
 * generation the last execution reported (N).
 */
export async function main(options: EternalOptions = {}): Promise<number> {
  const limit = options.generations ?? 5;
  const intervalMs = options.intervalMs ?? 50;
  const registry = createTaskRegistry().addOrchestrator("Counter", counter);
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const input: CounterInput = { generation: 1, limit, intervalMs };
    const metadata = await runToCompletion(client, "Counter", input);
    const generation = outputOf<number>(metadata);
    print(
      `Counter stopped at generation ${generation} (custom status ${metadata.serializedCustomStatus}).`,
    );
    return generation;
  });
}
