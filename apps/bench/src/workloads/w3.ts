import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import type { BenchClient } from "./bench-client.js";
import { episodesOf } from "./episodes.js";
import { countMatching, instancesWithPrefix, registerThreeSteps } from "./three-steps.js";
import type { Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w3-";
export const sequenceName = "Sequence";

/** W3 may run far longer than the other workloads (the whole history is replayed per episode). */
const sequenceTimeoutMs = 3_600_000;

/** The activity of {@link sequence}. */
export const stampName = "Stamp";

/** The wall clock now, in ms since the epoch (sub-millisecond). */
export function stampNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Activity: the wall clock (ms since the epoch, sub-millisecond) when it ran. */
async function stamp(_ctx: ActivityContext, _i: number): Promise<number> {
  return stampNow();
}

/** What the W3 orchestration returns: mean round trip of its first and last `window` activities. */
export interface SequenceOutput {
  readonly count: number;
  readonly window: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

/** The window of round trips compared at the start and at the end: 100, less for short runs. */
export function windowOf(count: number): number {
  return Math.max(1, Math.min(100, Math.floor((count - 1) / 2)));
}

/**
 * Orchestrator: `count` activities one after another, each returning when it ran. A round trip
 * is the time between two consecutive activities' stamps: the first one's completion committed,
 * an episode (history load, replay, commit) scheduling the next, the next one dispatched. The
 * stamps are activity results, so they are in history and the computation replays identically.
 */
async function sequence(ctx: OrchestrationContext, input: string): Promise<SequenceOutput> {
  const count = Number(input);
  const stamps: number[] = [];
  for (let i = 0; i < count; i++) stamps.push(await ctx.callActivity<number>(stampName, i));
  return sequenceOutput(stamps);
}

/** The output of a sequence whose activities ran at `stamps` (at least 3 of them). */
export function sequenceOutput(stamps: readonly number[]): SequenceOutput {
  const count = stamps.length;
  const window = windowOf(count);
  const meanRoundTrip = (from: number) =>
    ((stamps[from + window] as number) - (stamps[from] as number)) / window;
  return { count, window, firstMs: meanRoundTrip(0), lastMs: meanRoundTrip(count - 1 - window) };
}

function outputOf(serialized: string | undefined): SequenceOutput | undefined {
  if (serialized === undefined) return undefined;
  const output = JSON.parse(serialized) as SequenceOutput;
  return Number.isFinite(output.firstMs) && Number.isFinite(output.lastMs) ? output : undefined;
}

/**
 * W3, a long sequence: one orchestration of `sequence` (10,000) activities in a row. Reports the
 * mean round trip (activity to next activity) over the first and the last `window` (100) of
 * them, their ratio (goal ≤ 2), the total time and the mean per activity.
 */
export const w3: Workload = {
  name: "W3",
  register(registry: TaskRegistry): void {
    registerThreeSteps(registry); // the sidecar modes warm up with it
    registry.addOrchestrator(sequenceName, sequence).addActivity(stampName, stamp);
  },
  async run(client: BenchClient, { sequence: count }: WorkloadSettings): Promise<WorkloadRun> {
    if (count < 3) throw new Error(`W3: --sequence must be at least 3, got ${count}`);
    const instanceId = `${prefix}0`;
    const startedAt = performance.now();
    await client.scheduleNewOrchestration(sequenceName, { instanceId, input: String(count) });
    await client.waitForOrchestrationCompletion(instanceId, {
      timeoutMs: sequenceTimeoutMs,
      fetchPayloads: false,
    });
    const totalMs = performance.now() - startedAt;
    const [instance] = await instancesWithPrefix(client, prefix);
    const output = outputOf(instance?.serializedOutput);
    if (output === undefined) throw new Error(`W3: no output (${instance?.runtimeStatus})`);
    return {
      figures: {
        first_round_trip_ms: output.firstMs,
        last_round_trip_ms: output.lastMs,
        last_to_first_ratio: output.lastMs / output.firstMs,
        total_s: totalMs / 1000,
        mean_ms_per_activity: totalMs / count,
        ...(await episodesOf(client, instanceId)),
      },
      orchestrations: 1,
    };
  },
  countCompleted: (client) =>
    countMatching(
      client,
      prefix,
      (m) => m.runtimeStatus === "COMPLETED" && outputOf(m.serializedOutput) !== undefined,
    ),
};
