import {
  orchestratorCompletedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { ActivityContext, OrchestrationContext, Task } from "../src/index.js";
import { actionsOf, begin, completionOf, run, startedAt, t0 } from "./history.js";

async function sequence(ctx: OrchestrationContext, input: string): Promise<string[]> {
  const a = await ctx.callActivity<string>("hello", `${input}-1`);
  const b = await ctx.callActivity<string>("hello", `${input}-2`);
  const c = await ctx.callActivity<string>("hello", `${input}-3`);
  return [a, b, c];
}

describe("orchestration replay", () => {
  it("schedules the first activity in the first episode", async () => {
    const response = await run(sequence, [], begin("orch", "x"));
    expect(response.instanceId).toBe("abc");
    expect(actionsOf(response)).toEqual([
      { id: 0, kind: "scheduleTask", name: "hello", input: "x-1" },
    ]);
  });

  it("replays a 3-activity sequence to completion", async () => {
    const past = [
      ...begin("orch", "x"),
      taskScheduledEvent(0, t0, "hello", '"x-1"'),
      orchestratorCompletedEvent(t0),
      startedAt(1),
      taskCompletedEvent(t0 + 1, 0, '"A"'),
      taskScheduledEvent(1, t0 + 1, "hello", '"x-2"'),
      orchestratorCompletedEvent(t0 + 1),
      startedAt(2),
      taskCompletedEvent(t0 + 2, 1, '"B"'),
      taskScheduledEvent(2, t0 + 2, "hello", '"x-3"'),
    ];
    const response = await run(sequence, past, [
      startedAt(3),
      taskCompletedEvent(t0 + 3, 2, '"C"'),
    ]);
    expect(actionsOf(response)).toEqual([
      { id: 3, kind: "completeOrchestration", status: "COMPLETED", result: '["A","B","C"]' },
    ]);
  });

  it("emits only the next activity mid-sequence", async () => {
    const past = [...begin("orch", "x"), taskScheduledEvent(0, t0, "hello", '"x-1"')];
    const response = await run(sequence, past, [
      startedAt(1),
      taskCompletedEvent(t0 + 1, 0, '"A"'),
    ]);
    expect(actionsOf(response)).toEqual([
      { id: 1, kind: "scheduleTask", name: "hello", input: "x-2" },
    ]);
  });

  it("completes with no result when the orchestrator returns undefined", async () => {
    const response = await run(async () => undefined, [], begin());
    expect(actionsOf(response)).toEqual([
      { id: 0, kind: "completeOrchestration", status: "COMPLETED", result: undefined },
    ]);
  });

  it("passes the JSON input and accepts synchronous orchestrators", async () => {
    const response = await run(
      (_ctx, input: { n: number }) => input.n * 2,
      [],
      begin("orch", { n: 21 }),
    );
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: "42" });
  });

  it("exposes the execution identity on the context", async () => {
    let seen: unknown;
    await run(
      (ctx) => {
        seen = [ctx.instanceId, ctx.executionId, ctx.name, ctx.parentInstanceId];
      },
      [],
      begin(),
    );
    expect(seen).toEqual(["abc", "exec-1", "orch", undefined]);
  });
});

describe("typing", () => {
  it("infers input and output types from function references", async () => {
    async function double(_ctx: ActivityContext, n: number): Promise<number> {
      return n * 2;
    }
    const orchestrator = async (ctx: OrchestrationContext) => {
      const typed: Task<number> = ctx.callActivity(double, 21);
      // @ts-expect-error the input must match the activity's parameter
      ctx.callActivity(double, "21");
      const byName: Task<string> = ctx.callActivity<string>("double", 1);
      return [typed.isComplete, byName.isComplete];
    };
    const response = await run(orchestrator, [], begin());
    expect(actionsOf(response).map((a) => a.name)).toEqual([
      "double",
      "double",
      "double",
      undefined,
    ]);
  });
});

describe("fan-out", () => {
  const tenCalls = (ctx: OrchestrationContext) =>
    Array.from({ length: 10 }, (_, i) => ctx.callActivity<number>("square", i));
  const scheduled = Array.from({ length: 10 }, (_, i) =>
    taskScheduledEvent(i, t0, "square", `${i}`),
  );
  // Completions arrive in reverse order; results must still follow the call order.
  const completed = Array.from({ length: 10 }, (_, k) => 9 - k).map((i) =>
    taskCompletedEvent(t0 + 1, i, `${i * i}`),
  );
  const squares = "[0,1,4,9,16,25,36,49,64,81]";

  it("schedules 10 activities at once", async () => {
    const response = await run(async (ctx) => Promise.all(tenCalls(ctx)), [], begin());
    expect(actionsOf(response).map((a) => [a.id, a.kind, a.input])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i, "scheduleTask", i]),
    );
  });

  it("collects results with Promise.all", async () => {
    const response = await run(
      async (ctx) => Promise.all(tenCalls(ctx)),
      [...begin(), ...scheduled],
      [startedAt(1), ...completed],
    );
    expect(actionsOf(response)).toEqual([
      { id: 10, kind: "completeOrchestration", status: "COMPLETED", result: squares },
    ]);
  });

  it("collects results with ctx.whenAll", async () => {
    const response = await run(
      async (ctx) => ctx.whenAll(tenCalls(ctx)),
      [...begin(), ...scheduled],
      [startedAt(1), ...completed],
    );
    expect(completionOf(response)).toMatchObject({ id: 10, status: "COMPLETED", result: squares });
  });

  it("ctx.whenAll of no tasks completes at once", async () => {
    const response = await run(async (ctx) => ctx.whenAll([]), [], begin());
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: "[]" });
  });
});

describe("races follow history order", () => {
  const history = [
    ...begin(),
    taskScheduledEvent(0, t0, "slow"),
    taskScheduledEvent(1, t0, "fast"),
  ];
  // The task created second completes first in history.
  const next = [
    startedAt(1),
    taskCompletedEvent(t0 + 1, 1, '"fast"'),
    taskCompletedEvent(t0 + 1, 0, '"slow"'),
  ];

  it("Promise.race picks the task that completed first in history", async () => {
    const response = await run(
      async (ctx) => Promise.race([ctx.callActivity("slow"), ctx.callActivity("fast")]),
      history,
      next,
    );
    expect(completionOf(response)).toMatchObject({ id: 2, status: "COMPLETED", result: '"fast"' });
  });

  it("Promise.race follows history even when the winner's continuation chain is longer", async () => {
    const response = await run(
      async (ctx) => {
        const slow = ctx.callActivity<string>("slow");
        const fast = (async () => {
          const value = await ctx.callActivity<string>("fast");
          await null;
          await null;
          return `${value} (after more awaits)`;
        })();
        return Promise.race([slow, fast]);
      },
      history,
      next,
    );
    expect(completionOf(response)).toMatchObject({ result: '"fast (after more awaits)"' });
  });

  it("ctx.whenAny yields the index of the first task to complete in history", async () => {
    const response = await run(
      async (ctx) => {
        const tasks = [ctx.callActivity("slow"), ctx.callActivity("fast")] as const;
        const winner = await ctx.whenAny(tasks);
        return [winner, await tasks[winner]];
      },
      history,
      next,
    );
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: '[1,"fast"]' });
  });

  it("a race decided in history stays decided when the loser completes in the same episode", async () => {
    const order: string[] = [];
    await run(
      async (ctx) => {
        const slow = ctx.callActivity<string>("slow").then((v) => order.push(v));
        const fast = ctx.callActivity<string>("fast").then((v) => order.push(v));
        await Promise.all([slow, fast]);
      },
      history,
      next,
    );
    expect(order).toEqual(["fast", "slow"]);
  });
});

describe("timers and the clock", () => {
  it("computes fireAt from the deterministic clock", async () => {
    const response = await run(
      async (ctx) => {
        await ctx.createTimer(5_000);
        await ctx.createTimer(new Date(t0 + 60_000));
      },
      [],
      [startedAt(1_000), ...begin().slice(1)],
    );
    expect(actionsOf(response)).toEqual([{ id: 0, kind: "createTimer", fireAtMs: t0 + 6_000 }]);
  });

  it("advances currentUtcDateTime with each orchestratorStarted", async () => {
    const seen: number[] = [];
    const response = await run(
      async (ctx) => {
        seen.push(ctx.currentUtcDateTime.getTime());
        await ctx.createTimer(1_000);
        seen.push(ctx.currentUtcDateTime.getTime());
        await ctx.createTimer(1_000);
        seen.push(ctx.currentUtcDateTime.getTime());
      },
      [...begin(), timerCreatedEvent(0, t0, t0 + 1_000)],
      [startedAt(1_500), timerFiredEvent(t0 + 1_500, 0, t0 + 1_000)],
    );
    expect(seen).toEqual([t0, t0 + 1_500]);
    expect(actionsOf(response)).toEqual([{ id: 1, kind: "createTimer", fireAtMs: t0 + 2_500 }]);
  });

  it("reports isReplaying [true, true, false] across two timers", async () => {
    const seen: boolean[] = [];
    const orchestrator = async (ctx: OrchestrationContext) => {
      seen.push(ctx.isReplaying);
      await ctx.createTimer(1_000);
      seen.push(ctx.isReplaying);
      await ctx.createTimer(1_000);
      seen.push(ctx.isReplaying);
      return "done";
    };
    const past = [
      ...begin(),
      timerCreatedEvent(0, t0, t0 + 1_000),
      orchestratorCompletedEvent(t0),
      startedAt(1_000),
      timerFiredEvent(t0 + 1_000, 0, t0 + 1_000),
      timerCreatedEvent(1, t0 + 1_000, t0 + 2_000),
      orchestratorCompletedEvent(t0 + 1_000),
    ];
    const next = [startedAt(2_000), timerFiredEvent(t0 + 2_000, 1, t0 + 2_000)];
    const response = await run(orchestrator, past, next);
    expect(seen).toEqual([true, true, false]);
    expect(completionOf(response)).toMatchObject({ id: 2, status: "COMPLETED", result: '"done"' });
  });
});
