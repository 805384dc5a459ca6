import {
  subOrchestrationCreatedEvent,
  taskCompletedEvent,
  taskFailedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
} from "@durabletask/api";
import { describe, expect, it } from "vitest";
import { createTaskRegistry, type OrchestrationContext } from "../src/index.js";
import { actionsOf, begin, completionOf, failure, run, startedAt, t0 } from "./history.js";

const oneActivity = async (ctx: OrchestrationContext) => {
  const a = await ctx.callActivity("a");
  await ctx.createTimer(1_000);
  return a;
};

describe("nondeterminism", () => {
  it("fails when history has a different activity name at an id", async () => {
    const response = await run(oneActivity, [...begin(), taskScheduledEvent(0, t0, "b")], []);
    expect(actionsOf(response)).toEqual([
      {
        id: 1,
        kind: "completeOrchestration",
        status: "FAILED",
        result: undefined,
        errorType: "NonDeterminism",
        errorMessage:
          "Non-deterministic orchestrator: history event taskScheduled#0 records a call to activity " +
          "'b' at sequence number 0, but the orchestrator now produced a call to activity 'a' with " +
          "that sequence number. Orchestrator code must make the same calls in the same order on every replay.",
      },
    ]);
  });

  it("fails when history has a different kind of action at an id", async () => {
    const response = await run(oneActivity, [...begin(), timerCreatedEvent(0, t0, t0 + 5)], []);
    expect(completionOf(response)).toMatchObject({ status: "FAILED", errorType: "NonDeterminism" });
    expect(String(completionOf(response).errorMessage)).toContain(
      "timerCreated#0 records a timer at sequence number 0, but the orchestrator now produced a call to activity 'a'",
    );
  });

  it("fails when history has an action the code did not produce", async () => {
    const response = await run(
      oneActivity,
      [
        ...begin(),
        taskScheduledEvent(0, t0, "a"),
        subOrchestrationCreatedEvent(1, t0, { instanceId: "x", name: "child" }),
      ],
      [],
    );
    expect(actionsOf(response)).toHaveLength(1);
    expect(String(completionOf(response).errorMessage)).toContain(
      "subOrchestrationInstanceCreated#1 records a call to sub-orchestrator 'child' at sequence number 1, " +
        "but the orchestrator did not schedule anything with that sequence number",
    );
  });

  it("detects a mismatch found after user code resumed, without throwing", async () => {
    const response = await run(
      oneActivity,
      [
        ...begin(),
        taskScheduledEvent(0, t0, "a"),
        taskCompletedEvent(t0, 0, "1"),
        taskScheduledEvent(1, t0, "z"),
      ],
      [],
    );
    expect(completionOf(response)).toMatchObject({
      id: 2,
      status: "FAILED",
      errorType: "NonDeterminism",
    });
  });

  it("fails an orchestrator that awaits a non-durable promise", async () => {
    const response = await run(
      async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return ctx.callActivity("a");
      },
      [],
      begin(),
    );
    expect(actionsOf(response)).toEqual([
      expect.objectContaining({
        id: 0,
        kind: "completeOrchestration",
        status: "FAILED",
        errorType: "NonDeterminism",
      }),
    ]);
    expect(String(completionOf(response).errorMessage)).toContain("awaited a non-durable promise");
  });

  it("detects a non-durable await after a durable one", async () => {
    const response = await run(
      async (ctx) => {
        const pending = ctx.callActivity("b");
        await ctx.callActivity("a");
        await fetchLike();
        return pending;
      },
      [...begin(), taskScheduledEvent(0, t0, "b"), taskScheduledEvent(1, t0, "a")],
      [startedAt(1), taskCompletedEvent(t0 + 1, 1)],
    );
    expect(completionOf(response)).toMatchObject({
      id: 2,
      status: "FAILED",
      errorType: "NonDeterminism",
    });
    expect(String(completionOf(response).errorMessage)).toContain("awaited a non-durable promise");
  });
});

function fetchLike(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setTimeout(resolve, 1)));
}

describe("orchestrator failures", () => {
  it("fails with the thrown error's type and message", async () => {
    const response = await run(
      async () => {
        throw new TypeError("bad thing");
      },
      [],
      begin(),
    );
    expect(actionsOf(response)).toEqual([
      {
        id: 0,
        kind: "completeOrchestration",
        status: "FAILED",
        result: undefined,
        errorType: "TypeError",
        errorMessage: "bad thing",
      },
    ]);
  });

  it("fails when a synchronous orchestrator throws", async () => {
    const response = await run(
      () => {
        throw new RangeError("sync");
      },
      [],
      begin(),
    );
    expect(completionOf(response)).toMatchObject({
      status: "FAILED",
      errorType: "RangeError",
      errorMessage: "sync",
    });
  });

  it("surfaces an unhandled activity failure as TaskFailed with the activity's details", async () => {
    const response = await run(
      oneActivity,
      [...begin(), taskScheduledEvent(0, t0, "a")],
      [startedAt(1), taskFailedEvent(t0 + 1, 0, failure("disk full", "IOError"))],
    );
    expect(completionOf(response)).toMatchObject({
      id: 1,
      status: "FAILED",
      errorType: "DurableTaskError",
      errorMessage: "Activity 'a' (task 0) failed: disk full",
    });
    const complete = response.actions[0]?.orchestratorActionType;
    const inner =
      complete?.case === "completeOrchestration"
        ? complete.value.failureDetails?.innerFailure
        : undefined;
    expect(inner?.errorType).toBe("IOError");
  });

  it("fails when the output cannot be serialized", async () => {
    const response = await run(async () => ({ big: 1n }), [], begin());
    expect(completionOf(response)).toMatchObject({
      status: "FAILED",
      errorType: "DurableTaskError",
    });
    expect(String(completionOf(response).errorMessage)).toMatch(
      /^output: cannot be serialized to JSON/,
    );
  });

  it("fails with OrchestratorNotRegistered for an unknown name", async () => {
    const registry = createTaskRegistry().addOrchestrator("other", () => 1);
    const response = await run(registry, [], begin("missing"));
    expect(actionsOf(response)).toEqual([
      {
        id: 0,
        kind: "completeOrchestration",
        status: "FAILED",
        result: undefined,
        errorType: "OrchestratorNotRegistered",
        errorMessage: "No orchestrator named 'missing' is registered",
      },
    ]);
  });

  it("falls back to the wildcard orchestrator", async () => {
    const registry = createTaskRegistry().addOrchestrator("*", (ctx) => `ran as ${ctx.name}`);
    const response = await run(registry, [], begin("anything"));
    expect(completionOf(response)).toMatchObject({
      status: "COMPLETED",
      result: '"ran as anything"',
    });
  });

  it("fails when the input is not JSON", async () => {
    const history = begin();
    const start = history[1]?.eventType;
    if (start?.case === "executionStarted") start.value.input = "{oops";
    const response = await run(async () => 1, [], history);
    expect(completionOf(response)).toMatchObject({
      status: "FAILED",
      errorMessage: "input: is not valid JSON",
    });
  });
});
