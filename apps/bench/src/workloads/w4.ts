import { setTimeout as sleep } from "node:timers/promises";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { DurableTaskError, type OrchestrationStatus } from "@durabletask/api";
import type { OrchestrationContext, TaskRegistry } from "@durabletask/task";
import type { Figures } from "../modes/bench-mode.js";
import { peakRssMb, rssMb } from "../sidecar/proc-stats.js";
import type { BenchClient } from "./bench-client.js";
import { countCorrect, registerThreeSteps } from "./three-steps.js";
import { workloadTimeoutMs } from "./wait-for-all.js";
import type { RunContext, Workload, WorkloadRun, WorkloadSettings } from "./workload.js";

const prefix = "w4-";
export const waiterName = "WaitForGo";
export const eventName = "Go";

/** Client calls (schedules, raises) in flight at once: enough to batch commits, bounded memory. */
const inFlight = 500;

/** Poll period while waiting for all the instances to reach a state. */
const pollMs = 100;

/** Orchestrator: waits for the external event `Go` and returns its data with a mark. */
async function waitForGo(ctx: OrchestrationContext, _input: string): Promise<string> {
  const data = await ctx.waitForExternalEvent<string>(eventName);
  return `${data}!`;
}

/** Runs `call(i)` for i in [0, count) with at most {@link inFlight} at once. */
async function forEachLimited(count: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** Resolves once no instance has one of `statuses` (one id asked for per poll). */
async function untilNone(client: BenchClient, statuses: OrchestrationStatus[]): Promise<void> {
  const deadline = Date.now() + workloadTimeoutMs;
  for (;;) {
    const page = await client.listInstanceIds({
      statuses,
      pageSize: 1,
      lastInstanceKey: undefined,
    });
    if (page.instanceIds.length === 0) return;
    if (Date.now() > deadline)
      throw new DurableTaskError("Timeout", `W4: instances still ${statuses}`);
    await sleep(pollMs);
  }
}

const mb = (bytes: number) => bytes / 2 ** 20;

/** V8's full garbage collection (`global.gc` of `--expose-gc`, made available on demand). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/**
 * Where the process's memory is while all wait, in MB: resident V8 heap (and of it the young
 * generation, which V8 sizes by allocation rate, not by what is live), the rest of the RSS
 * outside the V8 heap (Node itself, SQLite's page cache, native allocations), and the JS heap
 * still in use after a full garbage collection: what the engine, the store and this client
 * actually retain for the waiting instances. `rss` is the reading the breakdown splits, so the
 * parts add up to the RSS reported rather than to a second, slightly later reading.
 */
function memoryBreakdown(rss: number): Record<string, number> {
  let v8Resident = 0;
  let youngResident = 0;
  for (const space of getHeapSpaceStatistics()) {
    v8Resident += space.physical_space_size;
    if (space.space_name === "new_space") youngResident += space.physical_space_size;
  }
  collectGarbage();
  return {
    v8_heap_resident_mb: mb(v8Resident),
    v8_young_generation_mb: mb(youngResident),
    outside_v8_heap_mb: mb(rss - v8Resident),
    heap_live_after_gc_mb: mb(process.memoryUsage().heapUsed),
  };
}

/**
 * The engine's memory while all wait, in MB. Embedded (the engine in this process): the RSS, the
 * peak RSS so far, the JS heap in use and the {@link memoryBreakdown} (which forces one full
 * garbage collection). Through a sidecar: the sidecar process's RSS and peak RSS from /proc, and
 * this (client and worker) process's own RSS beside them.
 */
function engineMemory({ enginePid }: RunContext): Figures {
  if (enginePid !== undefined) {
    return {
      rss_all_waiting_mb: rssMb(enginePid),
      peak_rss_until_all_waiting_mb: peakRssMb(enginePid),
      workload_rss_all_waiting_mb: mb(process.memoryUsage().rss),
    };
  }
  const memory = process.memoryUsage();
  const peak = process.resourceUsage().maxRSS / 1024;
  return {
    rss_all_waiting_mb: mb(memory.rss),
    heap_used_all_waiting_mb: mb(memory.heapUsed),
    ...memoryBreakdown(memory.rss),
    peak_rss_until_all_waiting_mb: peak,
  };
}

/**
 * W4, many waiting: `waiting` (100,000) orchestrations each waiting on an external event.
 * Schedules them all (at most 500 calls in flight), waits until none is PENDING (each ran its
 * first episode and waits), reads the engine's memory ({@link engineMemory}; not counted in the
 * timings), then raises every event (500 in flight) and waits until every instance is terminal.
 */
export const w4: Workload = {
  name: "W4",
  freshProcess: true,
  register(registry: TaskRegistry): void {
    registerThreeSteps(registry);
    registry.addOrchestrator(waiterName, waitForGo);
  },
  async run(
    client: BenchClient,
    { waiting: n }: WorkloadSettings,
    context: RunContext,
  ): Promise<WorkloadRun> {
    const idOf = (i: number) => `${prefix}${i}`;
    const startedAt = performance.now();
    await forEachLimited(n, (i) =>
      client.scheduleNewOrchestration(waiterName, { instanceId: idOf(i), input: "" }),
    );
    await untilNone(client, ["PENDING"]);
    const allWaitingAt = performance.now();
    const memory = engineMemory(context);
    const raiseFrom = performance.now();
    await forEachLimited(n, (i) => client.raiseEvent(idOf(i), eventName, idOf(i)));
    const raisedAt = performance.now();
    await untilNone(client, ["PENDING", "RUNNING"]);
    const doneAt = performance.now();
    return {
      figures: {
        start_all_waiting_s: (allWaitingAt - startedAt) / 1000,
        ...memory,
        raise_all_s: (raisedAt - raiseFrom) / 1000,
        raise_to_all_completed_s: (doneAt - raiseFrom) / 1000,
        completions_per_s: (n * 1000) / (doneAt - raiseFrom),
      },
      orchestrations: n,
    };
  },
  countCompleted: (client) => countCorrect(client, prefix, (id) => JSON.stringify(`${id}!`)),
};
