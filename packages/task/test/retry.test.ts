import {
  DurableTaskError,
  orchestratorCompletedEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationFailedEvent,
  taskCompletedEvent,
  taskFailedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import type { OrchestrationContext, RetryPolicy } from "../src/index.js";
import { actionsOf, begin, completionOf, failure, run, startedAt, t0 } from "./history.js";

function callFlaky(retry: RetryPolicy) {
  return async (ctx: OrchestrationContext) => {
    try {
      return await ctx.callActivity("flaky", undefined, { retry });
    } catch (err) {
      return DurableTaskError.is(err, "TaskFailed")
        ? `gave up: ${err.failureDetails?.errorMessage}`
        : "?";
    }
  };
}

/** History of an activity at id `id` that failed at `atMs`. */
function failedAttempt(id: number, atMs: number, nonRetriable = false): HistoryEvent[] {
  return [
    taskScheduledEvent(id, atMs, "flaky"),
    orchestratorCompletedEvent(atMs),
    startedAt(atMs - t0 + 1),
    taskFailedEvent(atMs + 1, id, failure(`boom ${id}`, "Error", nonRetriable)),
  ];
}

const policy: RetryPolicy = { maxAttempts: 3, firstRetryIntervalMs: 10, backoffCoefficient: 2 };

describe("retry policies", () => {
  it("schedules a durable timer after a failure, with the first interval", async () => {
    const response = await run(callFlaky(policy), begin(), failedAttempt(0, t0));
    expect(actionsOf(response)).toEqual([{ id: 1, kind: "createTimer", fireAtMs: t0 + 1 + 10 }]);
  });

  it("uses ids 0 (call), 1 (timer), 2 (call), 3 (timer), 4 (call) with growing delays", async () => {
    const past = [
      ...begin(),
      ...failedAttempt(0, t0),
      timerCreatedEvent(1, t0 + 1, t0 + 11),
      startedAt(11),
      timerFiredEvent(t0 + 11, 1, t0 + 11),
      ...failedAttempt(2, t0 + 11),
    ];
    const afterSecondFailure = await run(callFlaky(policy), past, []);
    // Failure at t0+12: delay 10 × 2^(2-1) = 20 ms.
    expect(actionsOf(afterSecondFailure)).toEqual([
      { id: 3, kind: "createTimer", fireAtMs: t0 + 32 },
    ]);

    const more = [
      timerCreatedEvent(3, t0 + 12, t0 + 32),
      startedAt(32),
      timerFiredEvent(t0 + 32, 3, t0 + 32),
    ];
    const thirdCall = await run(callFlaky(policy), [...past, ...more], []);
    expect(actionsOf(thirdCall)).toEqual([
      { id: 4, kind: "scheduleTask", name: "flaky", input: undefined },
    ]);

    const exhausted = await run(
      callFlaky(policy),
      [...past, ...more, ...failedAttempt(4, t0 + 32)],
      [],
    );
    expect(actionsOf(exhausted)).toEqual([
      { id: 5, kind: "completeOrchestration", status: "COMPLETED", result: '"gave up: boom 4"' },
    ]);
  });

  it("succeeds when a retry succeeds", async () => {
    const past = [
      ...begin(),
      ...failedAttempt(0, t0),
      timerCreatedEvent(1, t0 + 1, t0 + 11),
      startedAt(11),
      timerFiredEvent(t0 + 11, 1, t0 + 11),
      taskScheduledEvent(2, t0 + 11, "flaky"),
    ];
    const response = await run(callFlaky(policy), past, [
      startedAt(12),
      taskCompletedEvent(t0 + 12, 2, '"ok"'),
    ]);
    expect(completionOf(response)).toMatchObject({ id: 3, status: "COMPLETED", result: '"ok"' });
  });

  it("caps the delay at maxRetryIntervalMs", async () => {
    const capped = {
      ...policy,
      firstRetryIntervalMs: 1_000,
      backoffCoefficient: 10,
      maxRetryIntervalMs: 5_000,
    };
    const past = [
      ...begin(),
      ...failedAttempt(0, t0),
      timerCreatedEvent(1, t0 + 1, t0 + 1_001),
      startedAt(1_001),
      timerFiredEvent(t0 + 1_001, 1, t0 + 1_001),
      ...failedAttempt(2, t0 + 1_001),
    ];
    const response = await run(callFlaky(capped), past, []);
    expect(actionsOf(response)).toEqual([
      { id: 3, kind: "createTimer", fireAtMs: t0 + 1_002 + 5_000 },
    ]);
  });

  it("stops retrying once retryTimeoutMs has passed on the orchestration clock", async () => {
    const past = [
      ...begin(),
      taskScheduledEvent(0, t0, "flaky"),
      startedAt(5),
      taskFailedEvent(t0 + 5, 0, failure("late")),
    ];
    const expired = await run(callFlaky({ ...policy, retryTimeoutMs: 5 }), past, []);
    expect(actionsOf(expired)).toEqual([
      { id: 1, kind: "completeOrchestration", status: "COMPLETED", result: '"gave up: late"' },
    ]);
    const inTime = await run(callFlaky({ ...policy, retryTimeoutMs: 6 }), past, []);
    expect(actionsOf(inTime)).toEqual([{ id: 1, kind: "createTimer", fireAtMs: t0 + 15 }]);
  });

  it("asks handle() whether to retry", async () => {
    const seen: string[] = [];
    const handle = (err: DurableTaskError) => {
      seen.push(`${err.code}:${err.failureDetails?.errorType}`);
      return err.failureDetails?.errorType === "Transient";
    };
    const history = (errorType: string) => [
      ...begin(),
      taskScheduledEvent(0, t0, "flaky"),
      startedAt(1),
      taskFailedEvent(t0 + 1, 0, failure("x", errorType)),
    ];
    const retried = await run(callFlaky({ ...policy, handle }), history("Transient"), []);
    expect(actionsOf(retried)).toEqual([{ id: 1, kind: "createTimer", fireAtMs: t0 + 11 }]);
    const notRetried = await run(callFlaky({ ...policy, handle }), history("Fatal"), []);
    expect(completionOf(notRetried)).toMatchObject({ id: 1, result: '"gave up: x"' });
    expect(seen).toEqual(["TaskFailed:Transient", "TaskFailed:Fatal"]);
  });

  it("does not retry a non-retriable failure", async () => {
    const response = await run(callFlaky(policy), [...begin(), ...failedAttempt(0, t0, true)], []);
    expect(actionsOf(response)).toEqual([
      { id: 1, kind: "completeOrchestration", status: "COMPLETED", result: '"gave up: boom 0"' },
    ]);
  });

  it("re-creates a sub-orchestration with the same child instance id", async () => {
    const orchestrator = async (ctx: OrchestrationContext) =>
      ctx.callSubOrchestrator("child", "in", {
        retry: { maxAttempts: 2, firstRetryIntervalMs: 100 },
      });
    const past = [
      ...begin(),
      subOrchestrationCreatedEvent(0, t0, { instanceId: "abc:0000", name: "child", input: '"in"' }),
      startedAt(1),
      subOrchestrationFailedEvent(t0 + 1, 0, failure("child broke")),
      timerCreatedEvent(1, t0 + 1, t0 + 101),
      startedAt(101),
    ];
    const response = await run(orchestrator, past, [timerFiredEvent(t0 + 101, 1, t0 + 101)]);
    expect(actionsOf(response)).toEqual([
      { id: 2, kind: "createSubOrchestration", name: "child", instanceId: "abc:0000", input: "in" },
    ]);
  });
});
