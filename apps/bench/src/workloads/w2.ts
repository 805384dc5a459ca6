import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { median } from "../stats.js";
import type { BenchClient } from "./bench-client.js";
import { episodesOf } from "./episodes.js";
import { countCorrect, registerThreeSteps } from "./three-steps.js";
import { workloadTimeoutMs } from "./wait-for-all.js";
import type { Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w2-";
export const fanOutName = "FanOut";

/** The activity of {@link fanOut}. */
export const fanOutItemName = "FanOutItem";

/** The sum {@link fanOut} returns for its activities' results. */
export function sumOf(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

/** Activity: returns its input. */
async function fanOutItem(_ctx: ActivityContext, i: number): Promise<number> {
  return i;
}

/** Orchestrator: `count` activities at once, joined with `whenAll`; returns the sum. */
async function fanOut(ctx: OrchestrationContext, input: string): Promise<number> {
  const tasks = Array.from({ length: Number(input) }, (_, i) =>
    ctx.callActivity<number>(fanOutItemName, i),
  );
  return sumOf(await ctx.whenAll(tasks));
}

/** The output a fan-out of `count` must produce: 0 + 1 + … + (count − 1). */
function expectedOutput(count: number): string {
  return JSON.stringify((count * (count - 1)) / 2);
}

/** Runs one fan-out of `count` activities; resolves with the milliseconds until it completed. */
async function runOne(client: BenchClient, instanceId: string, count: number): Promise<number> {
  const startedAt = performance.now();
  await client.scheduleNewOrchestration(fanOutName, { instanceId, input: String(count) });
  await client.waitForOrchestrationCompletion(instanceId, {
    timeoutMs: workloadTimeoutMs,
    fetchPayloads: false,
  });
  return performance.now() - startedAt;
}

/** The instance ids of a run: `w2-<count>-<i>`. */
const idOf = (count: number, i: number) => `${prefix}${count}-${i}`;

/**
 * W2, fan-out/fan-in: one orchestration schedules `fanOut` (100) activities at once and joins
 * them with `whenAll`, `fanOutRuns` times one after another (latency from schedule to observed
 * completion, median); then one orchestration of `fanOutLarge` (10,000) activities (total
 * time). `*_us_per_activity` divide by the activity count, so equal values mean a flat
 * per-activity cost.
 */
export const w2: Workload = {
  name: "W2",
  register(registry: TaskRegistry): void {
    registerThreeSteps(registry); // the sidecar modes warm up with it
    registry.addOrchestrator(fanOutName, fanOut).addActivity(fanOutItemName, fanOutItem);
  },
  async run(client: BenchClient, settings: WorkloadSettings): Promise<WorkloadRun> {
    const { fanOut: small, fanOutRuns, fanOutLarge: large } = settings;
    const latenciesMs: number[] = [];
    for (let i = 0; i < fanOutRuns; i++)
      latenciesMs.push(await runOne(client, idOf(small, i), small));
    const largeMs = await runOne(client, idOf(large, 0), large);
    const smallMs = median(latenciesMs);
    const smallEpisodes = await episodesOf(client, idOf(small, 0));
    const largeEpisodes = await episodesOf(client, idOf(large, 0));
    const figures: Record<string, number> = {
      fanout_small_latency_p50_ms: smallMs,
      fanout_small_latency_max_ms: Math.max(...latenciesMs),
      fanout_small_us_per_activity: (smallMs * 1000) / small,
      fanout_large_total_ms: largeMs,
      fanout_large_us_per_activity: (largeMs * 1000) / large,
      large_to_small_per_activity_ratio: largeMs / large / (smallMs / small),
    };
    if (smallEpisodes.episodes !== undefined)
      figures.fanout_small_episodes = smallEpisodes.episodes;
    if (largeEpisodes.episodes !== undefined)
      figures.fanout_large_episodes = largeEpisodes.episodes;
    return { figures, orchestrations: fanOutRuns + 1 };
  },
  countCompleted: (client) =>
    countCorrect(client, prefix, (id) =>
      expectedOutput(Number(id.slice(prefix.length).split("-")[0])),
    ),
};
