import {
  DurableTaskError,
  eventRaisedEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "@durabletask/api";
import { describe, expect, it } from "vitest";
import type { OrchestrationContext } from "../src/index.js";
import { actionsOf, begin, completionOf, run, startedAt, t0 } from "./history.js";

const approve = async (ctx: OrchestrationContext) => ctx.waitForExternalEvent<string>("Approve");

describe("external events", () => {
  it("waits without a timer when no timeout is given", async () => {
    const response = await run(approve, [], begin());
    expect(actionsOf(response)).toEqual([]);
  });

  it("receives an event raised after the wait started", async () => {
    const response = await run(approve, begin(), [
      startedAt(5),
      eventRaisedEvent(t0 + 5, "Approve", '"yes"'),
    ]);
    expect(actionsOf(response)).toEqual([
      { id: 0, kind: "completeOrchestration", status: "COMPLETED", result: '"yes"' },
    ]);
  });

  it("receives an event raised before the wait (buffered)", async () => {
    const response = await run(
      async (ctx) => {
        await ctx.createTimer(1_000);
        return ctx.waitForExternalEvent("Approve");
      },
      [...begin(), timerCreatedEvent(0, t0, t0 + 1_000), eventRaisedEvent(t0, "Approve", "42")],
      [startedAt(1_000), timerFiredEvent(t0 + 1_000, 0, t0 + 1_000)],
    );
    expect(completionOf(response)).toMatchObject({ id: 1, status: "COMPLETED", result: "42" });
  });

  it("matches names case-insensitively", async () => {
    const response = await run(approve, begin(), [
      startedAt(5),
      eventRaisedEvent(t0 + 5, "aPPROVE", '"ok"'),
    ]);
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: '"ok"' });
  });

  it("pairs waiters and events first in, first out", async () => {
    const response = await run(
      async (ctx) => {
        const first = ctx.waitForExternalEvent("step");
        const second = ctx.waitForExternalEvent("step");
        return Promise.all([first, second]);
      },
      begin(),
      [
        startedAt(5),
        eventRaisedEvent(t0 + 5, "step", '"a"'),
        eventRaisedEvent(t0 + 6, "STEP", '"b"'),
      ],
    );
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: '["a","b"]' });
  });

  it("consumes buffered events oldest first", async () => {
    const response = await run(
      async (ctx) => {
        await ctx.createTimer(10);
        const a = await ctx.waitForExternalEvent("step");
        const b = await ctx.waitForExternalEvent("step");
        return [a, b];
      },
      [
        ...begin(),
        timerCreatedEvent(0, t0, t0 + 10),
        eventRaisedEvent(t0, "step", "1"),
        eventRaisedEvent(t0, "other", "0"),
        eventRaisedEvent(t0, "step", "2"),
      ],
      [startedAt(10), timerFiredEvent(t0 + 10, 0, t0 + 10)],
    );
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: "[1,2]" });
  });

  it("schedules a timer for a timeout", async () => {
    const response = await run(
      async (ctx) => ctx.waitForExternalEvent("Approve", { timeoutMs: 30_000 }),
      [],
      begin(),
    );
    expect(actionsOf(response)).toEqual([{ id: 0, kind: "createTimer", fireAtMs: t0 + 30_000 }]);
  });

  it("cancels the wait with TaskCanceled when the timeout timer fires", async () => {
    const response = await run(
      async (ctx) => {
        try {
          await ctx.waitForExternalEvent("Approve", { timeoutMs: 30_000 });
          return "approved";
        } catch (err) {
          return DurableTaskError.is(err, "TaskCanceled") ? `canceled: ${err.message}` : "other";
        }
      },
      [...begin(), timerCreatedEvent(0, t0, t0 + 30_000)],
      [startedAt(30_000), timerFiredEvent(t0 + 30_000, 0, t0 + 30_000)],
    );
    expect(completionOf(response)).toMatchObject({
      id: 1,
      status: "COMPLETED",
      result: JSON.stringify(
        "canceled: Timed out after 30000 ms waiting for external event 'Approve'",
      ),
    });
  });

  it("ignores a timeout timer that fires after the event arrived", async () => {
    const response = await run(
      async (ctx) => {
        const value = await ctx.waitForExternalEvent("Approve", { timeoutMs: 30_000 });
        await ctx.createTimer(60_000);
        return value;
      },
      [...begin(), timerCreatedEvent(0, t0, t0 + 30_000)],
      [
        startedAt(5),
        eventRaisedEvent(t0 + 5, "Approve", '"yes"'),
        timerFiredEvent(t0 + 30_000, 0, t0 + 30_000),
      ],
    );
    expect(actionsOf(response)).toEqual([{ id: 1, kind: "createTimer", fireAtMs: t0 + 60_005 }]);
  });

  it("cancels at once with timeoutMs 0 when no event is buffered", async () => {
    const response = await run(
      async (ctx) => {
        const task = ctx.waitForExternalEvent("Approve", { timeoutMs: 0 });
        const failed = task.isFailed;
        const error = await task.then(
          () => "none",
          (err: DurableTaskError) => err.code,
        );
        return [failed, error];
      },
      [],
      begin(),
    );
    expect(actionsOf(response)).toEqual([
      {
        id: 0,
        kind: "completeOrchestration",
        status: "COMPLETED",
        result: '[true,"TaskCanceled"]',
      },
    ]);
  });

  it("returns a buffered event even with timeoutMs 0", async () => {
    const response = await run(
      async (ctx) => {
        await ctx.createTimer(1);
        return ctx.waitForExternalEvent("Approve", { timeoutMs: 0 });
      },
      [...begin(), timerCreatedEvent(0, t0, t0 + 1), eventRaisedEvent(t0, "approve", '"early"')],
      [startedAt(1), timerFiredEvent(t0 + 1, 0, t0 + 1)],
    );
    expect(completionOf(response)).toMatchObject({ status: "COMPLETED", result: '"early"' });
  });
});
