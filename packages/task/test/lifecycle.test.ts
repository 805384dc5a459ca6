import {
  eventRaisedEvent,
  eventSentEvent,
  executionResumedEvent,
  executionSuspendedEvent,
  executionTerminatedEvent,
  orchestratorCompletedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { OrchestrationContext } from "../src/index.js";
import { actionsOf, begin, run, startedAt, t0 } from "./history.js";

const twoSteps = async (ctx: OrchestrationContext) => {
  const a = await ctx.callActivity<number>("step", 1);
  const b = await ctx.callActivity<number>("step", 2);
  return a + b;
};

describe("suspend and resume", () => {
  const past = [...begin(), taskScheduledEvent(0, t0, "step", "1"), orchestratorCompletedEvent(t0)];

  it("emits no actions while suspended", async () => {
    const response = await run(twoSteps, past, [
      startedAt(1),
      executionSuspendedEvent(t0 + 1),
      taskCompletedEvent(t0 + 2, 0, "10"),
    ]);
    expect(response.actions).toEqual([]);
  });

  it("continues with the held-back events after resume", async () => {
    const response = await run(twoSteps, past, [
      startedAt(1),
      executionSuspendedEvent(t0 + 1),
      taskCompletedEvent(t0 + 2, 0, "10"),
      executionResumedEvent(t0 + 3),
    ]);
    expect(actionsOf(response)).toEqual([{ id: 1, kind: "scheduleTask", name: "step", input: 2 }]);
  });

  it("replays a suspension that was resumed in an earlier episode", async () => {
    const response = await run(
      twoSteps,
      [
        ...past,
        startedAt(1),
        executionSuspendedEvent(t0 + 1),
        taskCompletedEvent(t0 + 2, 0, "10"),
        executionResumedEvent(t0 + 3),
        taskScheduledEvent(1, t0 + 3, "step", "2"),
      ],
      [startedAt(4), taskCompletedEvent(t0 + 4, 1, "20")],
    );
    expect(actionsOf(response)).toEqual([
      { id: 2, kind: "completeOrchestration", status: "COMPLETED", result: "30" },
    ]);
  });

  it("still terminates while suspended", async () => {
    const response = await run(twoSteps, past, [
      startedAt(1),
      executionSuspendedEvent(t0 + 1),
      executionTerminatedEvent(t0 + 2, '"stop"'),
    ]);
    expect(actionsOf(response)).toEqual([
      { id: 1, kind: "completeOrchestration", status: "TERMINATED", result: '"stop"' },
    ]);
  });
});

describe("terminate", () => {
  it("completes TERMINATED with the terminate input passed through, dropping pending work", async () => {
    const response = await run(
      async (ctx) => {
        await ctx.whenAll([ctx.callActivity("a"), ctx.callActivity("b")]);
      },
      [...begin(), taskScheduledEvent(0, t0, "a"), taskScheduledEvent(1, t0, "b")],
      [startedAt(1), executionTerminatedEvent(t0 + 1, "not json at all")],
    );
    expect(actionsOf(response)).toEqual([
      { id: 2, kind: "completeOrchestration", status: "TERMINATED", result: "not json at all" },
    ]);
  });
});

describe("continueAsNew", () => {
  const counter = async (ctx: OrchestrationContext, n: number) => {
    await ctx.callActivity("work", n);
    ctx.continueAsNew(n + 1);
    return "ignored";
  };

  it("emits only CONTINUED_AS_NEW with the new input", async () => {
    const response = await run(
      async (ctx: OrchestrationContext, n: number) => {
        ctx.sendEvent("other", "ping");
        return counter(ctx, n);
      },
      [
        ...begin("orch", 7),
        eventSentEvent(0, t0, "other", "ping"),
        taskScheduledEvent(1, t0, "work", "7"),
      ],
      [startedAt(1), eventRaisedEvent(t0 + 1, "unused", '"x"'), taskCompletedEvent(t0 + 1, 1)],
    );
    expect(actionsOf(response)).toEqual([
      { id: 2, kind: "completeOrchestration", status: "CONTINUED_AS_NEW", result: "8" },
    ]);
    const complete = response.actions[0]?.orchestratorActionType;
    expect(complete?.case === "completeOrchestration" && complete.value.carryoverEvents).toEqual(
      [],
    );
  });

  it("carries unconsumed external events over when asked to", async () => {
    const raisedA = eventRaisedEvent(t0 + 1, "a", '"one"');
    const raisedB = eventRaisedEvent(t0 + 1, "b", '"two"');
    const response = await run(
      async (ctx: OrchestrationContext, n: number) => {
        await ctx.callActivity("work", n);
        ctx.continueAsNew(n + 1, { keepUnprocessedEvents: true });
      },
      [...begin("orch", 1), taskScheduledEvent(0, t0, "work", "1")],
      [startedAt(1), raisedA, raisedB, taskCompletedEvent(t0 + 1, 0)],
    );
    const complete = response.actions[0]?.orchestratorActionType;
    expect(complete?.case).toBe("completeOrchestration");
    if (complete?.case !== "completeOrchestration") return;
    expect(complete.value.result).toBe("2");
    expect(complete.value.carryoverEvents.map((e) => e.eventType.value)).toMatchObject([
      { name: "a", input: '"one"' },
      { name: "b", input: '"two"' },
    ]);
  });

  it("carries over raised events that come after the point where it continued as new", async () => {
    const first = eventRaisedEvent(t0 + 1, "tick", "0");
    const later = [eventRaisedEvent(t0 + 1, "tick", "1"), eventRaisedEvent(t0 + 1, "tick", "2")];
    const response = await run(
      async (ctx: OrchestrationContext, n: number) => {
        await ctx.waitForExternalEvent("tick");
        ctx.continueAsNew(n + 1, { keepUnprocessedEvents: true });
      },
      [],
      [startedAt(0), ...begin("orch", 1).slice(1), first, ...later],
    );
    const complete = response.actions[0]?.orchestratorActionType;
    expect(complete?.case).toBe("completeOrchestration");
    if (complete?.case !== "completeOrchestration") return;
    expect(complete.value.carryoverEvents.map((e) => e.eventType.value)).toMatchObject([
      { name: "tick", input: "1" },
      { name: "tick", input: "2" },
    ]);
  });
});
