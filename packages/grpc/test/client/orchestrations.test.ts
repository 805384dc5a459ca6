import { DurableTaskError } from "@durabletask/api";
import type { ActivityContext, OrchestrationContext } from "@durabletask/task";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type GrpcEngine, poll, sleep, startGrpcEngine, waitMs } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

class PaymentError extends Error {
  override name = "PaymentError";
}

describe("gRPC client and worker: orchestrations", () => {
  let engine: GrpcEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  async function start(register: Parameters<typeof startGrpcEngine>[0]) {
    engine = await startGrpcEngine(register);
    return engine;
  }

  async function run(e: GrpcEngine, name: string, input?: unknown, instanceId?: string) {
    const id = await e.client.scheduleNewOrchestration(name, { input, instanceId });
    return e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
  }

  it("runs a sequence of activities and reports input, output and timestamps", async () => {
    const e = await start((r) => {
      r.addActivity("Greet", (_ctx: ActivityContext, city: string) => `Hello, ${city}!`);
      r.addOrchestrator("Sequence", async (ctx: OrchestrationContext, cities: string[]) => {
        const out: string[] = [];
        for (const city of cities) out.push(await ctx.callActivity<string>("Greet", city));
        return out;
      });
    });
    const m = await run(e, "Sequence", ["Tokyo", "Seattle", "London"], "seq-1");
    expect(m.instanceId).toBe("seq-1");
    expect(m.name).toBe("Sequence");
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedInput).toBe('["Tokyo","Seattle","London"]');
    expect(JSON.parse(m.serializedOutput ?? "null")).toEqual([
      "Hello, Tokyo!",
      "Hello, Seattle!",
      "Hello, London!",
    ]);
    expect(m.completedAt?.getTime()).toBeGreaterThanOrEqual(m.createdAt.getTime());
    expect(m.lastUpdatedAt.getTime()).toBeGreaterThanOrEqual(m.createdAt.getTime());
    const history = await e.client.getOrchestrationHistory("seq-1");
    expect(history.filter((h) => h.eventType.case === "taskScheduled")).toHaveLength(3);
    expect(history.filter((h) => h.eventType.case === "taskCompleted")).toHaveLength(3);
    expect(history[0]?.eventType.case).toBe("orchestratorStarted");
    expect(history.at(-1)?.eventType.case).toBe("executionCompleted");
  });

  it("fans out 100 activities and fans in", async () => {
    let running = 0;
    let peak = 0;
    const e = await start((r) => {
      r.addActivity("Square", async (_ctx: ActivityContext, n: number) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(50);
        running--;
        return n * n;
      });
      r.addOrchestrator("FanOut", async (ctx: OrchestrationContext) => {
        const squares = await Promise.all(
          Array.from({ length: 100 }, (_, i) => ctx.callActivity<number>("Square", i)),
        );
        return squares.reduce((a, b) => a + b, 0);
      });
    });
    const m = await run(e, "FanOut");
    expect(m.serializedOutput).toBe("328350");
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(100);
  });

  it("runs a sub-orchestration and reports its parent", async () => {
    const e = await start((r) => {
      r.addActivity("Double", (_ctx: ActivityContext, x: number) => x * 2);
      r.addOrchestrator("Child", (ctx: OrchestrationContext, x: number) =>
        ctx.callActivity<number>("Double", x),
      );
      r.addOrchestrator("Parent", async (ctx: OrchestrationContext, x: number) => {
        const doubled = await ctx.callSubOrchestrator<number>("Child", x, {
          instanceId: `${ctx.instanceId}-child`,
        });
        return doubled + 1;
      });
    });
    const m = await run(e, "Parent", 20, "parent-1");
    expect(m.serializedOutput).toBe("41");
    const child = await e.client.getOrchestrationState("parent-1-child");
    expect(child?.runtimeStatus).toBe("COMPLETED");
    expect(child?.name).toBe("Child");
    expect(child?.parentInstanceId).toBe("parent-1");
    expect(child?.serializedOutput).toBe("40");
  });

  it("waits for a durable timer", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Timer", async (ctx: OrchestrationContext) => {
        const before = ctx.currentUtcDateTime.getTime();
        await ctx.createTimer(500);
        return ctx.currentUtcDateTime.getTime() - before;
      }),
    );
    const startedAt = Date.now();
    const m = await run(e, "Timer");
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(Number(m.serializedOutput)).toBeGreaterThanOrEqual(500);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(490);
    const history = await e.client.getOrchestrationHistory(m.instanceId);
    expect(history.filter((h) => h.eventType.case === "timerFired")).toHaveLength(1);
  });

  it("delivers external events raised before and after the orchestration waits", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Approval", async (ctx: OrchestrationContext) => {
        const early = await ctx.waitForExternalEvent<string>("early");
        const late = await ctx.waitForExternalEvent<number>("late");
        return { early, late };
      }),
    );
    const id = await e.client.scheduleNewOrchestration("Approval");
    await e.client.raiseEvent(id, "early", "first");
    await poll(async () => {
      const history = await e.client.getOrchestrationHistory(id);
      return history.some((h) => h.eventType.case === "eventRaised");
    }, "the early event in history");
    expect((await e.client.getOrchestrationState(id))?.runtimeStatus).toBe("RUNNING");
    await e.client.raiseEvent(id, "LATE", 42);
    const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(JSON.parse(m.serializedOutput ?? "null")).toEqual({ early: "first", late: 42 });
  });

  it("fails an external event wait that times out", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Impatient", async (ctx: OrchestrationContext) => {
        try {
          await ctx.waitForExternalEvent("never", { timeoutMs: 200 });
          return "got it";
        } catch (error) {
          return DurableTaskError.is(error) ? error.code : "other";
        }
      }),
    );
    const m = await run(e, "Impatient");
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedOutput).toBe('"TaskCanceled"');
  });

  for (const recursive of [true, false]) {
    it(`terminates an orchestration ${recursive ? "with" : "without"} its sub-orchestrations`, async () => {
      const e = await start((r) => {
        r.addOrchestrator("Blocked", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("go"));
        r.addOrchestrator("Root", (ctx: OrchestrationContext) =>
          ctx.callSubOrchestrator("Blocked", undefined, { instanceId: `${ctx.instanceId}-kid` }),
        );
      });
      const id = await e.client.scheduleNewOrchestration("Root", {
        instanceId: `root-${recursive}`,
      });
      await poll(
        async () =>
          (await e.client.getOrchestrationState(`${id}-kid`))?.runtimeStatus === "RUNNING",
        "the child to run",
      );
      await e.client.terminateOrchestration(id, { output: { by: "test" }, recursive });
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("TERMINATED");
      expect(m.serializedOutput).toBe('{"by":"test"}');
      if (recursive) {
        const child = await e.client.waitForOrchestrationCompletion(`${id}-kid`, {
          timeoutMs: waitMs,
        });
        expect(child.runtimeStatus).toBe("TERMINATED");
      } else {
        await sleep(300);
        expect((await e.client.getOrchestrationState(`${id}-kid`))?.runtimeStatus).toBe("RUNNING");
        await e.client.terminateOrchestration(`${id}-kid`);
      }
    });
  }

  it("suspends and resumes, keeping events raised meanwhile", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Summer", async (ctx: OrchestrationContext) => {
        let sum = 0;
        for (let i = 0; i < 3; i++) sum += await ctx.waitForExternalEvent<number>("n");
        return sum;
      }),
    );
    const id = await e.client.scheduleNewOrchestration("Summer");
    await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
    await e.client.suspendOrchestration(id, "maintenance");
    await poll(
      async () => (await e.client.getOrchestrationState(id))?.runtimeStatus === "SUSPENDED",
      "SUSPENDED",
    );
    for (const n of [1, 2, 3]) await e.client.raiseEvent(id, "n", n);
    await sleep(300);
    expect((await e.client.getOrchestrationState(id))?.runtimeStatus).toBe("SUSPENDED");
    await e.client.resumeOrchestration(id, "done");
    const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedOutput).toBe("6");
  });

  it("continues as new through ten generations", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Counter", async (ctx: OrchestrationContext, n: number) => {
        await ctx.createTimer(0);
        if (n < 10) {
          ctx.continueAsNew(n + 1);
          return;
        }
        return n * 100;
      }),
    );
    const m = await run(e, "Counter", 0);
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedInput).toBe("10");
    expect(m.serializedOutput).toBe("1000");
    const history = await e.client.getOrchestrationHistory(m.instanceId);
    expect(history.filter((h) => h.eventType.case === "executionStarted")).toHaveLength(1);
  });

  it("surfaces failure details of a failed activity and of the orchestrator", async () => {
    const e = await start((r) => {
      r.addActivity("Charge", () => {
        throw new PaymentError("card declined");
      });
      r.addOrchestrator("Checkout", (ctx: OrchestrationContext) => ctx.callActivity("Charge"));
      r.addOrchestrator("Broken", () => {
        throw new TypeError("bad state");
      });
    });
    const checkout = await run(e, "Checkout");
    expect(checkout.runtimeStatus).toBe("FAILED");
    expect(checkout.serializedOutput).toBeUndefined();
    expect(checkout.failureDetails?.errorMessage).toContain("card declined");
    expect(checkout.failureDetails?.innerFailure?.errorType).toBe("PaymentError");
    expect(checkout.failureDetails?.innerFailure?.errorMessage).toBe("card declined");
    const broken = await run(e, "Broken");
    expect(broken.runtimeStatus).toBe("FAILED");
    expect(broken.failureDetails?.errorType).toBe("TypeError");
    expect(broken.failureDetails?.errorMessage).toBe("bad state");
    expect(broken.failureDetails?.stackTrace).toContain("bad state");
  });

  it("retries a failing activity with durable timers between attempts", async () => {
    let attempts = 0;
    const e = await start((r) => {
      r.addActivity("Flaky", () => {
        attempts++;
        if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
        return `ok after ${attempts}`;
      });
      r.addOrchestrator("Retrying", (ctx: OrchestrationContext) =>
        ctx.callActivity("Flaky", undefined, {
          retry: { maxAttempts: 5, firstRetryIntervalMs: 50 },
        }),
      );
    });
    const m = await run(e, "Retrying");
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedOutput).toBe('"ok after 3"');
    expect(attempts).toBe(3);
    const history = await e.client.getOrchestrationHistory(m.instanceId);
    const scheduled = history
      .filter((h) => h.eventType.case === "taskScheduled" || h.eventType.case === "timerCreated")
      .map((h) => `${h.eventType.case}#${h.eventId}`);
    expect(scheduled).toEqual([
      "taskScheduled#0",
      "timerCreated#1",
      "taskScheduled#2",
      "timerCreated#3",
      "taskScheduled#4",
    ]);
  });

  it("publishes custom status", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Progress", async (ctx: OrchestrationContext) => {
        ctx.setCustomStatus({ step: 1 });
        await ctx.waitForExternalEvent("next");
        ctx.setCustomStatus({ step: 2 });
        return "ok";
      }),
    );
    const id = await e.client.scheduleNewOrchestration("Progress");
    await poll(
      async () =>
        (await e.client.getOrchestrationState(id))?.serializedCustomStatus === '{"step":1}',
      "custom status 1",
    );
    const withoutPayloads = await e.client.getOrchestrationState(id, { fetchPayloads: false });
    expect(withoutPayloads?.serializedCustomStatus).toBeUndefined();
    expect(withoutPayloads?.runtimeStatus).toBe("RUNNING");
    await e.client.raiseEvent(id, "next");
    const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedCustomStatus).toBe('{"step":2}');
  });

  it("honours a scheduled start time", async () => {
    const e = await start((r) => r.addOrchestrator("Later", () => "ran"));
    const startAt = new Date(Date.now() + 800);
    const id = await e.client.scheduleNewOrchestration("Later", { startAt });
    await sleep(200);
    const pending = await e.client.getOrchestrationState(id);
    expect(pending?.runtimeStatus).toBe("PENDING");
    expect(pending?.scheduledStartAt?.getTime()).toBe(startAt.getTime());
    await expect(e.client.waitForOrchestrationStart(id, { timeoutMs: 100 })).rejects.toMatchObject({
      code: "Timeout",
    });
    const started = await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
    expect(started.runtimeStatus).not.toBe("PENDING");
    const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"ran"');
    expect(m.lastUpdatedAt.getTime()).toBeGreaterThanOrEqual(startAt.getTime());
  });

  it("carries a 1 MiB payload through input, activity and output", async () => {
    const e = await start((r) => {
      r.addActivity("Reverse", (_ctx: ActivityContext, s: string) => [...s].reverse().join(""));
      r.addOrchestrator("Big", (ctx: OrchestrationContext, s: string) =>
        ctx.callActivity<string>("Reverse", s),
      );
    });
    const input = `${"a".repeat(512 * 1024)}${"b".repeat(512 * 1024)}`;
    const m = await run(e, "Big", input);
    expect(m.runtimeStatus).toBe("COMPLETED");
    const output = JSON.parse(m.serializedOutput ?? "null") as string;
    expect(output).toHaveLength(1024 * 1024);
    expect(output.startsWith("b".repeat(512 * 1024))).toBe(true);
    expect(output.endsWith("a".repeat(512 * 1024))).toBe(true);
    expect(m.serializedInput).toHaveLength(1024 * 1024 + 2);
  });

  it("accepts messages above gRPC's 4 MiB default in both directions", async () => {
    const e = await start((r) => {
      r.addActivity("Upper", (_ctx: ActivityContext, s: string) => s.toUpperCase());
      r.addOrchestrator("Huge", (ctx: OrchestrationContext, s: string) =>
        ctx.callActivity<string>("Upper", s),
      );
    });
    const m = await run(e, "Huge", "x".repeat(5 * 1024 * 1024));
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedOutput).toBe(`"${"X".repeat(5 * 1024 * 1024)}"`);
    expect(m.serializedInput).toHaveLength(5 * 1024 * 1024 + 2);
  });

  it("runs 500 orchestrations concurrently", async () => {
    const e = await start((r) => {
      r.addActivity("Inc", (_ctx: ActivityContext, n: number) => n + 1);
      r.addOrchestrator("One", (ctx: OrchestrationContext, n: number) =>
        ctx.callActivity("Inc", n),
      );
    });
    const ids = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        e.client.scheduleNewOrchestration("One", { input: i, instanceId: `many-${i}` }),
      ),
    );
    const results = await Promise.all(
      ids.map((id) => e.client.waitForOrchestrationCompletion(id, { timeoutMs: 60_000 })),
    );
    expect(results.map((m) => Number(m.serializedOutput))).toEqual(
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    expect(results.every((m) => m.runtimeStatus === "COMPLETED")).toBe(true);
  }, 90_000);
});
