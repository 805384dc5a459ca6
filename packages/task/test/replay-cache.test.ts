import { create } from "@bufbuild/protobuf";
import {
  orchestratorCompletedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import {
  type HistoryEvent,
  OrchestratorRequestSchema,
  type OrchestratorResponse,
} from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import { createTaskExecutor, type OrchestrationContext } from "../src/index.js";
import {
  actionsOf,
  begin,
  expectInvalid,
  instanceId,
  registryWith,
  startedAt,
  t0,
} from "./history.js";

/** Three steps; counts how often the orchestrator function is entered. */
function threeSteps(calls: { count: number }) {
  return async (ctx: OrchestrationContext) => {
    calls.count += 1;
    let total = 0;
    for (let step = 1; step <= 3; step++) total += await ctx.callActivity<number>("step", step);
    return total;
  };
}

function engine(calls: { count: number }, replayCacheSize?: number) {
  const executor = createTaskExecutor({
    registry: registryWith(threeSteps(calls)),
    replayCacheSize,
  });
  return (past: HistoryEvent[], next: HistoryEvent[], signal?: AbortSignal) =>
    executor.executeOrchestrator(
      create(OrchestratorRequestSchema, {
        instanceId,
        executionId: "exec-1",
        pastEvents: past,
        newEvents: next,
      }),
      { signal },
    );
}

/** The history after episode `step` committed (the engine appends the scheduled task). */
function committed(past: HistoryEvent[], next: HistoryEvent[], step: number): HistoryEvent[] {
  return [
    ...past,
    ...next,
    taskScheduledEvent(step, t0 + step, "step", String(step + 1)),
    orchestratorCompletedEvent(t0 + step),
  ];
}

function decodedAgain(events: HistoryEvent[]): HistoryEvent[] {
  return events.map((e) => structuredClone(e));
}

const firstNew = begin();

describe("replay cache", () => {
  it("resumes a warm execution: the orchestrator is entered once across episodes", async () => {
    const calls = { count: 0 };
    const execute = engine(calls);
    expect(actionsOf(await execute([], firstNew))).toEqual([
      { id: 0, kind: "scheduleTask", name: "step", input: 1 },
    ]);
    const past1 = committed([], firstNew, 0);
    const new1 = [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")];
    expect(actionsOf(await execute(past1, new1))).toEqual([
      { id: 1, kind: "scheduleTask", name: "step", input: 2 },
    ]);
    // Events equal to the applied ones but decoded again (another read of the same rows).
    const past2 = decodedAgain(committed(past1, new1, 1));
    const response = await execute(past2, [startedAt(2), taskCompletedEvent(t0 + 2, 1, "20")]);
    expect(actionsOf(response)).toEqual([{ id: 2, kind: "scheduleTask", name: "step", input: 3 }]);
    expect(calls.count).toBe(1);
  });

  it("applies the events another worker committed after what it has seen", async () => {
    const calls = { count: 0 };
    const execute = engine(calls);
    await execute([], firstNew);
    // Another worker ran the second episode; this one sees its events in pastEvents.
    const past1 = committed([], firstNew, 0);
    const new1 = [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")];
    const past2 = committed(past1, new1, 1);
    const response = await execute(past2, [startedAt(2), taskCompletedEvent(t0 + 2, 1, "20")]);
    expect(actionsOf(response)).toEqual([{ id: 2, kind: "scheduleTask", name: "step", input: 3 }]);
    expect(calls.count).toBe(1);
  });

  it("replays from the start when the history does not continue what it applied", async () => {
    const calls = { count: 0 };
    const execute = engine(calls);
    await execute([], firstNew);
    const past1 = committed([], firstNew, 0);
    // This episode's result was never committed (say its lease was lost) ...
    await execute(past1, [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")]);
    // ... and another worker committed a different one: the task returned 11, at another time.
    const other = [startedAt(5), taskCompletedEvent(t0 + 5, 0, "11")];
    const past2 = committed(past1, other, 1);
    const response = await execute(past2, [startedAt(6), taskCompletedEvent(t0 + 6, 1, "20")]);
    expect(actionsOf(response)).toEqual([{ id: 2, kind: "scheduleTask", name: "step", input: 3 }]);
    expect(calls.count).toBe(2);
    const last = await execute(
      committed(past2, [startedAt(6), taskCompletedEvent(t0 + 6, 1, "20")], 2),
      [startedAt(7), taskCompletedEvent(t0 + 7, 2, "1")],
    );
    expect(actionsOf(last)).toEqual([
      { id: 3, kind: "completeOrchestration", status: "COMPLETED", result: "32" },
    ]);
  });

  it("replays from the start when the history is shorter (purged and re-created)", async () => {
    const calls = { count: 0 };
    const execute = engine(calls);
    await execute([], firstNew);
    await execute(committed([], firstNew, 0), [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")]);
    const again: OrchestratorResponse = await execute([], begin());
    expect(actionsOf(again)).toEqual([{ id: 0, kind: "scheduleTask", name: "step", input: 1 }]);
    expect(calls.count).toBe(2);
  });

  it("does not keep an episode that was aborted", async () => {
    const calls = { count: 0 };
    const execute = engine(calls);
    const aborted = new AbortController();
    aborted.abort();
    await execute([], firstNew, aborted.signal);
    await execute(committed([], firstNew, 0), [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")]);
    expect(calls.count).toBe(2);
  });

  it("forgets a completed execution and replays every episode with replayCacheSize 0", async () => {
    const calls = { count: 0 };
    const execute = engine(calls, 0);
    await execute([], firstNew);
    await execute(committed([], firstNew, 0), [startedAt(1), taskCompletedEvent(t0 + 1, 0, "10")]);
    expect(calls.count).toBe(2);
  });

  it("refuses a replayCacheSize that is not a non-negative integer", () => {
    const registry = registryWith(threeSteps({ count: 0 }));
    expectInvalid(() => createTaskExecutor({ registry, replayCacheSize: -1 }), "replayCacheSize");
    expectInvalid(() => createTaskExecutor({ registry, replayCacheSize: 1.5 }), "replayCacheSize");
  });
});
