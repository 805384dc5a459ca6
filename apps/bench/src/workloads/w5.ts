import type { OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { mean, percentile } from "../stats.js";
import type { BenchClient } from "./bench-client.js";
import { countMatching, instancesWithPrefix, registerThreeSteps } from "./three-steps.js";
import { waitForAll } from "./wait-for-all.js";
import type { Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w5-";
export const timerName = "TimerLateness";

/**
 * Orchestrator: one durable timer of `delayMs`, then returns its lateness in milliseconds:
 * `currentUtcDateTime` after the timer (the start of the episode that applied `TimerFired`,
 * taken once the work item was locked and its history loaded) minus the timer's `fireAt`
 * (`currentUtcDateTime` of the first episode + `delayMs`, as `createTimer` computes it). Both
 * are history timestamps, so the result replays identically.
 */
async function timerLateness(ctx: OrchestrationContext, input: string): Promise<number> {
  const fireAtMs = ctx.currentUtcDateTime.getTime() + Number(input);
  await ctx.createTimer(Number(input));
  return ctx.currentUtcDateTime.getTime() - fireAtMs;
}

function latenessOf(serialized: string | undefined): number | undefined {
  if (serialized === undefined) return undefined;
  const value = JSON.parse(serialized) as unknown;
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * W5, durable timers: `timers` (1000) orchestrations started at once, each waiting one timer of
 * `timerMs` (1000 ms). Reports the timers' firing lateness (see {@link timerLateness}) p50, p99,
 * max and mean, the earliest (negative would be a timer firing early) and the whole run's time.
 */
export const w5: Workload = {
  name: "W5",
  register(registry: TaskRegistry): void {
    registerThreeSteps(registry); // the sidecar modes warm up with it
    registry.addOrchestrator(timerName, timerLateness);
  },
  async run(client: BenchClient, settings: WorkloadSettings): Promise<WorkloadRun> {
    const { timers: n, timerMs, wait } = settings;
    const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const startedAt = performance.now();
    await Promise.all(
      ids.map((instanceId) =>
        client.scheduleNewOrchestration(timerName, { instanceId, input: String(timerMs) }),
      ),
    );
    const scheduledAt = performance.now();
    await waitForAll(client, ids, wait);
    const totalMs = performance.now() - startedAt;
    const lateness = (await instancesWithPrefix(client, prefix)).flatMap(
      (m) => latenessOf(m.serializedOutput) ?? [],
    );
    return {
      figures: {
        lateness_p50_ms: percentile(lateness, 50),
        lateness_p99_ms: percentile(lateness, 99),
        lateness_max_ms: Math.max(...lateness),
        lateness_min_ms: Math.min(...lateness),
        lateness_mean_ms: mean(lateness),
        schedule_all_ms: scheduledAt - startedAt,
        total_s: totalMs / 1000,
      },
      orchestrations: n,
    };
  },
  countCompleted: (client) =>
    countMatching(
      client,
      prefix,
      (m) => m.runtimeStatus === "COMPLETED" && latenessOf(m.serializedOutput) !== undefined,
    ),
};
