import { DurableTaskError, type OrchestrationMetadata } from "@durabletask/api";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { afterEach, describe, expect, it } from "vitest";
import type { BackendFactory } from "./backend-factory.js";
import {
  type EngineHarness,
  type StartEngineOptions,
  sleep,
  startEngine,
} from "./engine-harness.js";

const waitMs = 20_000;

/**
 * End-to-end orchestration tests on a backend: durabletask-go's `tests/orchestrations_test.go`
 * checklist, plus a test for each of its defects that this engine fixes.
 */
export function describeOrchestrationConformance(
  name: string,
  createBackend: BackendFactory,
): void {
  describe(`${name}: orchestrations`, { timeout: 30_000 }, () => {
    let engine: EngineHarness | undefined;
    afterEach(async () => {
      await engine?.stop();
      engine = undefined;
    });

    async function start(register: (r: TaskRegistry) => void, options?: StartEngineOptions) {
      engine = await startEngine(createBackend, register, options);
      return engine;
    }

    async function run(
      e: EngineHarness,
      orchestrator: string,
      input?: unknown,
      instanceId?: string,
    ): Promise<OrchestrationMetadata> {
      const id = await e.client.scheduleNewOrchestration(orchestrator, { input, instanceId });
      return e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    }

    it("completes an empty orchestration", async () => {
      const e = await start((r) => r.addOrchestrator("Empty", async () => undefined));
      const m = await run(e, "Empty");
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(m.serializedOutput).toBeUndefined();
      expect(m.lastUpdatedAt.getTime()).toBeGreaterThanOrEqual(m.createdAt.getTime());
    });

    it("fires a zero-delay timer", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Timer", async (ctx: OrchestrationContext) => {
          await ctx.createTimer(0);
          return "fired";
        }),
      );
      const m = await run(e, "Timer");
      expect(m.serializedOutput).toBe('"fired"');
    });

    it("runs concurrent timers in parallel", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Timers", async (ctx: OrchestrationContext) => {
          await Promise.all([ctx.createTimer(300), ctx.createTimer(300), ctx.createTimer(300)]);
          return "done";
        }),
      );
      const startedAt = Date.now();
      const m = await run(e, "Timers");
      expect(m.runtimeStatus).toBe("COMPLETED");
      const elapsed = Date.now() - startedAt;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(3000);
    });

    function registerReplaying(r: TaskRegistry, calls: { count: number }) {
      r.addOrchestrator("Replaying", async (ctx: OrchestrationContext) => {
        calls.count += 1;
        const seen = [ctx.isReplaying];
        await ctx.createTimer(0);
        seen.push(ctx.isReplaying);
        await ctx.createTimer(0);
        seen.push(ctx.isReplaying);
        return seen;
      });
    }

    it("reports isReplaying across episodes replayed from the start", async () => {
      const calls = { count: 0 };
      const e = await start((r) => registerReplaying(r, calls), { replayCacheSize: 0 });
      const m = await run(e, "Replaying");
      expect(JSON.parse(m.serializedOutput ?? "null")).toEqual([true, true, false]);
      expect(calls.count).toBe(3);
    });

    it("resumes a warm orchestration instead of replaying it, so no code re-runs", async () => {
      const calls = { count: 0 };
      const e = await start((r) => registerReplaying(r, calls));
      const m = await run(e, "Replaying");
      expect(JSON.parse(m.serializedOutput ?? "null")).toEqual([false, false, false]);
      expect(calls.count).toBe(1);
    });

    it("round-trips Unicode through an activity", async () => {
      const e = await start((r) => {
        r.addActivity("Hello", (_ctx: ActivityContext, who: string) => `Hello, ${who}!`);
        r.addOrchestrator("SingleActivity", (ctx: OrchestrationContext, who: string) =>
          ctx.callActivity<string>("Hello", who),
        );
      });
      const m = await run(e, "SingleActivity", "世界");
      expect(m.serializedInput).toBe('"世界"');
      expect(JSON.parse(m.serializedOutput ?? "null")).toBe("Hello, 世界!");
    });

    it("chains ten activities", async () => {
      const e = await start((r) => {
        r.addActivity("PlusOne", (_ctx: ActivityContext, n: number) => n + 1);
        r.addOrchestrator("Chain", async (ctx: OrchestrationContext) => {
          let n = 0;
          for (let i = 0; i < 10; i++) n = await ctx.callActivity<number>("PlusOne", n);
          return n;
        });
      });
      expect((await run(e, "Chain")).serializedOutput).toBe("10");
    });

    it("retries a failing activity with durable timers between attempts", async () => {
      let attempts = 0;
      const e = await start((r) => {
        r.addActivity("Flaky", () => {
          attempts++;
          throw new Error("boom");
        });
        r.addOrchestrator("Retries", (ctx: OrchestrationContext) =>
          ctx.callActivity("Flaky", undefined, {
            retry: { maxAttempts: 3, firstRetryIntervalMs: 10 },
          }),
        );
      });
      const startedAt = Date.now();
      const m = await run(e, "Retries");
      expect(m.runtimeStatus).toBe("FAILED");
      expect(attempts).toBe(3);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(20);
      expect(m.failureDetails?.errorMessage).toContain("boom");
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

    it("fans out activities in parallel and fans in", async () => {
      const e = await start(
        (r) => {
          r.addActivity("Slow", async (_ctx: ActivityContext, i: number) => {
            await sleep(300);
            return i;
          });
          r.addOrchestrator("FanOut", async (ctx: OrchestrationContext) => {
            const tasks = Array.from({ length: 10 }, (_, i) => ctx.callActivity<number>("Slow", i));
            const results = await Promise.all(tasks);
            return results.sort((a, b) => b - a);
          });
        },
        { maxConcurrentActivities: 10 },
      );
      const startedAt = Date.now();
      const m = await run(e, "FanOut");
      expect(JSON.parse(m.serializedOutput ?? "null")).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(Date.now() - startedAt).toBeLessThan(2500);
    });

    it("runs activities in parallel with the default worker settings", async () => {
      // durabletask-go's workers default to one item at a time; ours must not.
      engine = await startEngine(createBackend, (r) => {
        r.addActivity("Wait", () => sleep(300));
        r.addOrchestrator("Parallel", async (ctx: OrchestrationContext) => {
          await Promise.all([0, 1, 2, 3, 4].map(() => ctx.callActivity("Wait")));
        });
      });
      const startedAt = Date.now();
      const m = await run(engine, "Parallel");
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(Date.now() - startedAt).toBeLessThan(1200);
    });

    it("runs a sub-orchestration with an explicit id", async () => {
      const e = await start((r) => {
        r.addOrchestrator("Child", (_ctx: OrchestrationContext, x: number) => x * 2);
        r.addOrchestrator("Parent", (ctx: OrchestrationContext, x: number) =>
          ctx.callSubOrchestrator<number>("Child", x, { instanceId: `${ctx.instanceId}_child` }),
        );
      });
      const m = await run(e, "Parent", 21, "parent-1");
      expect(m.serializedOutput).toBe("42");
      const child = await e.client.getOrchestrationState("parent-1_child");
      expect(child?.runtimeStatus).toBe("COMPLETED");
      expect(child?.parentInstanceId).toBe("parent-1");
    });

    it("surfaces a sub-orchestration failure in the parent", async () => {
      const e = await start((r) => {
        r.addOrchestrator("FailingChild", () => {
          throw new Error("child exploded");
        });
        r.addOrchestrator("Parent", (ctx: OrchestrationContext) =>
          ctx.callSubOrchestrator("FailingChild"),
        );
      });
      const m = await run(e, "Parent");
      expect(m.runtimeStatus).toBe("FAILED");
      expect(m.failureDetails?.errorMessage).toContain("child exploded");
    });

    it("retries a failing sub-orchestration under the same child id", async () => {
      let runs = 0;
      const e = await start((r) => {
        r.addOrchestrator("FailingChild", (ctx: OrchestrationContext) => {
          if (!ctx.isReplaying) runs++;
          throw new Error("child failed");
        });
        r.addOrchestrator("Parent", (ctx: OrchestrationContext) =>
          ctx.callSubOrchestrator("FailingChild", undefined, {
            instanceId: "retried-child",
            retry: { maxAttempts: 3, firstRetryIntervalMs: 10, backoffCoefficient: 2 },
          }),
        );
      });
      const m = await run(e, "Parent");
      expect(m.runtimeStatus).toBe("FAILED");
      expect(runs).toBe(3);
      const child = await e.client.getOrchestrationState("retried-child");
      expect(child?.runtimeStatus).toBe("FAILED");
    });

    it("continues as new through ten generations", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Counter", async (ctx: OrchestrationContext, n: number) => {
          await ctx.createTimer(0);
          if (n < 10) {
            ctx.continueAsNew(n + 1);
            return;
          }
          return n;
        }),
      );
      const m = await run(e, "Counter", 0);
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(m.serializedOutput).toBe("10");
      expect(m.serializedInput).toBe("10");
      const history = await e.client.getOrchestrationHistory(m.instanceId);
      expect(history.filter((h) => h.eventType.case === "executionStarted")).toHaveLength(1);
    });

    it("carries unprocessed events over continue-as-new", async () => {
      const e = await start((r) =>
        r.addOrchestrator("EventCounter", async (ctx: OrchestrationContext, n: number) => {
          await ctx.waitForExternalEvent("tick");
          if (n < 10) {
            ctx.continueAsNew(n + 1, { keepUnprocessedEvents: true });
            return;
          }
          return n;
        }),
      );
      const id = await e.client.scheduleNewOrchestration("EventCounter", { input: 0 });
      for (let i = 0; i < 11; i++) await e.client.raiseEvent(id, "tick", i);
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.serializedOutput).toBe("10");
    });

    it("receives ten external events in order", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Events", async (ctx: OrchestrationContext) => {
          const got: number[] = [];
          for (let i = 0; i < 10; i++) got.push(await ctx.waitForExternalEvent<number>("Value"));
          return got;
        }),
      );
      const id = await e.client.scheduleNewOrchestration("Events");
      await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      for (let i = 0; i < 10; i++) await e.client.raiseEvent(id, "value", i);
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(JSON.parse(m.serializedOutput ?? "null")).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it("buffers an event raised before the orchestration waits for it", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Late", async (ctx: OrchestrationContext) => {
          await ctx.createTimer(200);
          return ctx.waitForExternalEvent<string>("go");
        }),
      );
      const id = await e.client.scheduleNewOrchestration("Late");
      await e.client.raiseEvent(id, "go", "early");
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.serializedOutput).toBe('"early"');
    });

    it("times out an external event wait", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Timeout", (ctx: OrchestrationContext) =>
          ctx.waitForExternalEvent("never", { timeoutMs: 100 }),
        ),
      );
      const m = await run(e, "Timeout");
      expect(m.runtimeStatus).toBe("FAILED");
      expect(m.failureDetails?.errorMessage).toMatch(/cancel|time/i);
    });

    it("completes when the event arrives before the timeout", async () => {
      const e = await start((r) =>
        r.addOrchestrator("InTime", (ctx: OrchestrationContext) =>
          ctx.waitForExternalEvent<string>("approval", { timeoutMs: 10_000 }),
        ),
      );
      const id = await e.client.scheduleNewOrchestration("InTime");
      await e.client.raiseEvent(id, "approval", "yes");
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(m.serializedOutput).toBe('"yes"');
    });

    it("suspends and resumes, keeping events raised meanwhile", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Suspendable", async (ctx: OrchestrationContext) => {
          let sum = 0;
          for (let i = 0; i < 5; i++) sum += await ctx.waitForExternalEvent<number>("n");
          return sum;
        }),
      );
      const id = await e.client.scheduleNewOrchestration("Suspendable");
      await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      await e.client.suspendOrchestration(id, "maintenance");
      await waitForStatus(e, id, "SUSPENDED");
      for (let i = 1; i <= 5; i++) await e.client.raiseEvent(id, "n", i);
      await sleep(300);
      expect((await e.client.getOrchestrationState(id))?.runtimeStatus).toBe("SUSPENDED");
      await e.client.resumeOrchestration(id);
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.serializedOutput).toBe("15");
    });

    it("terminates a running orchestration with an output", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Sleeper", async (ctx: OrchestrationContext) => {
          await ctx.createTimer(60_000);
          return "woke";
        }),
      );
      const id = await e.client.scheduleNewOrchestration("Sleeper");
      await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      await e.client.terminateOrchestration(id, { output: "stopped by test" });
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("TERMINATED");
      expect(m.serializedOutput).toBe('"stopped by test"');
    });

    it("reports TERMINATED for an instance terminated while suspended", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Waiter", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("x")),
      );
      const id = await e.client.scheduleNewOrchestration("Waiter");
      await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      await e.client.suspendOrchestration(id);
      await waitForStatus(e, id, "SUSPENDED");
      await e.client.terminateOrchestration(id, { output: "bye" });
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("TERMINATED");
    });

    for (const recursive of [true, false]) {
      it(`terminates sub-orchestrations only when recursive (recursive=${recursive})`, async () => {
        let leafActivities = 0;
        const e = await start((r) => {
          r.addActivity("Leaf", () => {
            leafActivities++;
          });
          r.addOrchestrator("L2", async (ctx: OrchestrationContext) => {
            await ctx.createTimer(800);
            await ctx.callActivity("Leaf");
          });
          r.addOrchestrator("L1", (ctx: OrchestrationContext) => ctx.callSubOrchestrator("L2"));
          r.addOrchestrator("Root", async (ctx: OrchestrationContext) => {
            await Promise.all([0, 1, 2].map(() => ctx.callSubOrchestrator("L1")));
          });
        });
        const id = await e.client.scheduleNewOrchestration("Root", {
          instanceId: `root-${recursive}`,
        });
        await waitForCount(e, "L2", 3);
        await e.client.terminateOrchestration(id, { recursive });
        const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
        expect(m.runtimeStatus).toBe("TERMINATED");
        await sleep(1500);
        const page = await e.client.queryInstances({ instanceIdPrefix: `root-${recursive}:` });
        const statuses = page.instances.map((i) => i.runtimeStatus);
        expect(statuses).toHaveLength(6);
        if (recursive) {
          expect(statuses.every((s) => s === "TERMINATED")).toBe(true);
          expect(leafActivities).toBe(0);
        } else {
          expect(statuses.every((s) => s === "COMPLETED")).toBe(true);
          expect(leafActivities).toBe(3);
        }
      });
    }

    it("forwards a recursive terminate through a completed sub-orchestration", async () => {
      const e = await start((r) => {
        r.addOrchestrator("Grandchild", async (ctx: OrchestrationContext) => {
          await ctx.createTimer(60_000);
        });
        r.addOrchestrator("Child", (ctx: OrchestrationContext) => {
          // Starts a grandchild and completes without waiting for it.
          void ctx.callSubOrchestrator("Grandchild", undefined, { instanceId: "fwd-grandchild" });
          return "child done";
        });
        r.addOrchestrator("Top", async (ctx: OrchestrationContext) => {
          await ctx.callSubOrchestrator("Child", undefined, { instanceId: "fwd-child" });
          await ctx.createTimer(60_000);
        });
      });
      const id = await e.client.scheduleNewOrchestration("Top");
      await waitForStatus(e, "fwd-child", "COMPLETED");
      await waitForStatus(e, "fwd-grandchild", "RUNNING");
      await e.client.terminateOrchestration(id, { recursive: true });
      await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      const grandchild = await e.client.waitForOrchestrationCompletion("fwd-grandchild", {
        timeoutMs: waitMs,
      });
      expect(grandchild.runtimeStatus).toBe("TERMINATED");
    });

    it("reports a terminated sub-orchestration to its parent as a failure", async () => {
      const e = await start((r) => {
        r.addOrchestrator("Blocked", (ctx: OrchestrationContext) =>
          ctx.waitForExternalEvent("never"),
        );
        r.addOrchestrator("Parent", async (ctx: OrchestrationContext) => {
          try {
            await ctx.callSubOrchestrator("Blocked", undefined, { instanceId: "term-child" });
            return "child succeeded";
          } catch (error) {
            return DurableTaskError.is(error) ? `caught ${error.code}` : "caught something else";
          }
        });
      });
      const id = await e.client.scheduleNewOrchestration("Parent");
      await waitForStatus(e, "term-child", "RUNNING");
      await e.client.terminateOrchestration("term-child", { recursive: false });
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.serializedOutput).toBe('"caught TaskFailed"');
    });

    it("fails the sub-orchestration call instead of wedging when the child id is taken", async () => {
      const e = await start((r) => {
        r.addOrchestrator("Blocker", (ctx: OrchestrationContext) =>
          ctx.waitForExternalEvent("never"),
        );
        r.addOrchestrator("Parent", async (ctx: OrchestrationContext) => {
          try {
            await ctx.callSubOrchestrator("Blocker", undefined, { instanceId: "taken-id" });
            return "started";
          } catch (error) {
            return DurableTaskError.is(error)
              ? (error.failureDetails?.errorType ?? error.code)
              : "other";
          }
        });
      });
      await e.client.scheduleNewOrchestration("Blocker", { instanceId: "taken-id" });
      const m = await run(e, "Parent");
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(m.serializedOutput).toBe('"InstanceExists"');
    });

    it("purges completed instances, refuses running ones, and purges recursively", async () => {
      const e = await start((r) => {
        r.addOrchestrator("Leaf", () => "leaf");
        r.addOrchestrator("Tree", async (ctx: OrchestrationContext) => {
          await ctx.waitForExternalEvent("go");
          await Promise.all([ctx.callSubOrchestrator("Leaf"), ctx.callSubOrchestrator("Leaf")]);
        });
      });
      const id = await e.client.scheduleNewOrchestration("Tree", { instanceId: "tree" });
      await e.client.waitForOrchestrationStart(id, { timeoutMs: waitMs });
      await expect(e.client.purgeOrchestrationState(id)).rejects.toMatchObject({
        code: "NotCompleted",
      });
      await e.client.raiseEvent(id, "go");
      await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect((await e.client.queryInstances({ instanceIdPrefix: "tree" })).instances).toHaveLength(
        3,
      );
      expect(await e.client.purgeOrchestrationState(id, { recursive: true })).toBe(3);
      expect(await e.client.getOrchestrationState(id)).toBeUndefined();
      expect((await e.client.queryInstances({ instanceIdPrefix: "tree" })).instances).toHaveLength(
        0,
      );
      await expect(e.client.purgeOrchestrationState(id)).rejects.toMatchObject({
        code: "InstanceNotFound",
      });
    });

    it("applies instance id reuse policies", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Echo", (_ctx: OrchestrationContext, x: string) => x),
      );
      const first = await run(e, "Echo", "first", "reused");
      await expect(
        e.client.scheduleNewOrchestration("Echo", { instanceId: "reused", input: "second" }),
      ).rejects.toMatchObject({ code: "InstanceExists" });
      await e.client.scheduleNewOrchestration("Echo", {
        instanceId: "reused",
        input: "ignored",
        reusePolicy: { action: "ignore", statuses: ["COMPLETED"] },
      });
      const kept = await e.client.getOrchestrationState("reused");
      expect(kept?.serializedOutput).toBe('"first"');
      expect(kept?.createdAt.getTime()).toBe(first.createdAt.getTime());
      await sleep(5);
      await e.client.scheduleNewOrchestration("Echo", {
        instanceId: "reused",
        input: "third",
        reusePolicy: { action: "terminate", statuses: ["COMPLETED"] },
      });
      const third = await e.client.waitForOrchestrationCompletion("reused", { timeoutMs: waitMs });
      expect(third.serializedOutput).toBe('"third"');
      expect(third.createdAt.getTime()).toBeGreaterThan(first.createdAt.getTime());
    });

    it("honours a scheduled start time", async () => {
      const e = await start((r) => r.addOrchestrator("Later", () => "ran"));
      const startAt = new Date(Date.now() + 600);
      const id = await e.client.scheduleNewOrchestration("Later", { startAt });
      await e.client.raiseEvent(id, "early-event", 1);
      await sleep(200);
      expect((await e.client.getOrchestrationState(id))?.runtimeStatus).toBe("PENDING");
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("COMPLETED");
      expect(m.lastUpdatedAt.getTime()).toBeGreaterThanOrEqual(startAt.getTime());
    });

    it("terminates an instance whose scheduled start is still in the future", async () => {
      let ran = false;
      const e = await start((r) =>
        r.addOrchestrator("NotYet", () => {
          ran = true;
          return "ran";
        }),
      );
      const id = await e.client.scheduleNewOrchestration("NotYet", {
        startAt: new Date(Date.now() + 60_000),
      });
      await e.client.terminateOrchestration(id, { output: "cancelled plan" });
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: 5000 });
      expect(m.runtimeStatus).toBe("TERMINATED");
      expect(m.serializedOutput).toBe('"cancelled plan"');
      expect(ran).toBe(false);
    });

    it("runs a fire-and-forget activity started in the final episode", async () => {
      let sent = "";
      const e = await start((r) => {
        r.addActivity("Notify", (_ctx: ActivityContext, to: string) => {
          sent = to;
        });
        r.addOrchestrator("Fire", (ctx: OrchestrationContext) => {
          void ctx.callActivity("Notify", "ops@example.com");
          return "done";
        });
      });
      const m = await run(e, "Fire");
      expect(m.serializedOutput).toBe('"done"');
      await poll(async () => sent !== "", "the fire-and-forget activity");
      expect(sent).toBe("ops@example.com");
    });

    it("shows custom status", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Status", async (ctx: OrchestrationContext) => {
          ctx.setCustomStatus({ step: 1 });
          await ctx.waitForExternalEvent("next");
          ctx.setCustomStatus({ step: 2 });
          return "ok";
        }),
      );
      const id = await e.client.scheduleNewOrchestration("Status");
      await waitForCustomStatus(e, id, '{"step":1}');
      await e.client.raiseEvent(id, "next");
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.serializedCustomStatus).toBe('{"step":2}');
    });

    it("fails an orchestration whose code changed under its history, without crashing", async () => {
      let variant = "A";
      // Replayed from the start at every episode, as after a restart with the changed code.
      const e = await start(
        (r) => {
          r.addActivity("A", () => "a");
          r.addActivity("B", () => "b");
          r.addOrchestrator("Shifty", async (ctx: OrchestrationContext) => {
            await ctx.callActivity(variant);
            await ctx.waitForExternalEvent("continue");
            return "done";
          });
        },
        { replayCacheSize: 0 },
      );
      const id = await e.client.scheduleNewOrchestration("Shifty");
      await waitForHistory(e, id, "taskCompleted");
      variant = "B";
      await e.client.raiseEvent(id, "continue");
      const m = await e.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      expect(m.runtimeStatus).toBe("FAILED");
      expect(m.failureDetails?.errorType).toBe("NonDeterminism");
    });

    it("renews the lease of an activity that runs 5× the lock timeout; it runs once", async () => {
      let runs = 0;
      const e = await start(
        (r) => {
          r.addActivity("Long", async () => {
            runs++;
            await sleep(1500);
            return "finished";
          });
          r.addOrchestrator("LongRunner", (ctx: OrchestrationContext) => ctx.callActivity("Long"));
        },
        { activityLockTimeoutMs: 300, orchestrationLockTimeoutMs: 300 },
      );
      const m = await run(e, "LongRunner");
      expect(m.serializedOutput).toBe('"finished"');
      expect(runs).toBe(1);
    });

    it("drains in-flight work on stop and finishes after a restart", async () => {
      let activityRuns = 0;
      let completions = 0;
      const register = (r: TaskRegistry) => {
        r.addActivity("Work", async () => {
          activityRuns++;
          await sleep(300);
          return "worked";
        });
        r.addOrchestrator("Job", async (ctx: OrchestrationContext) => {
          const result = await ctx.callActivity("Work");
          if (!ctx.isReplaying) completions++;
          return result;
        });
      };
      const shared = await createBackend();
      const first = await startEngine(createBackend, register, { backend: shared });
      const id = await first.client.scheduleNewOrchestration("Job");
      await sleep(100);
      await first.stop();
      expect(activityRuns).toBe(1);
      expect(completions).toBe(0);
      engine = await startEngine(createBackend, register, { backend: shared });
      const m = await engine.client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
      await engine.stop();
      engine = undefined;
      await shared.stop();
      expect(m.serializedOutput).toBe('"worked"');
      expect(activityRuns).toBe(1);
      expect(completions).toBe(1);
    });

    it("rejects bad client input with InvalidArgument naming the field", async () => {
      const e = await start((r) => r.addOrchestrator("Noop", () => undefined));
      const cases: [Promise<unknown>, string][] = [
        [e.client.scheduleNewOrchestration("", {}), "orchestrator"],
        [e.client.scheduleNewOrchestration("Noop", { instanceId: "" }), "instanceId"],
        [e.client.scheduleNewOrchestration("Noop", { instanceId: "a\u0000b" }), "instanceId"],
        [e.client.scheduleNewOrchestration("Noop", { input: 10n }), "input"],
        [e.client.scheduleNewOrchestration("Noop", { startAt: new Date(Number.NaN) }), "startAt"],
        [e.client.waitForOrchestrationCompletion("x", { timeoutMs: -1 }), "timeoutMs"],
        [e.client.raiseEvent("x", ""), "eventName"],
        [e.client.raiseEvent("x", "e", () => 1), "data"],
      ];
      for (const [promise, field] of cases) {
        const error = await promise.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(
          DurableTaskError.is(error, "InvalidArgument"),
          `expected InvalidArgument for ${field}`,
        ).toBe(true);
        expect((error as Error).message).toContain(field);
      }
    });

    it("reports unknown instances and honours wait timeouts and abort signals", async () => {
      const e = await start((r) =>
        r.addOrchestrator("Forever", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("x")),
      );
      expect(await e.client.getOrchestrationState("missing")).toBeUndefined();
      await expect(e.client.raiseEvent("missing", "x")).rejects.toMatchObject({
        code: "InstanceNotFound",
      });
      await expect(
        e.client.waitForOrchestrationCompletion("missing", { timeoutMs: 100 }),
      ).rejects.toMatchObject({ code: "InstanceNotFound" });
      const id = await e.client.scheduleNewOrchestration("Forever");
      await expect(
        e.client.waitForOrchestrationCompletion(id, { timeoutMs: 100 }),
      ).rejects.toMatchObject({
        code: "Timeout",
      });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await expect(
        e.client.waitForOrchestrationCompletion(id, { signal: controller.signal }),
      ).rejects.toMatchObject({ code: "Aborted" });
    });

    it("pages through query results with a continuation token", async () => {
      const e = await start((r) => r.addOrchestrator("Q", () => "q"));
      for (let i = 0; i < 7; i++) await run(e, "Q", undefined, `query-${i}`);
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await e.client.queryInstances({
          instanceIdPrefix: "query-",
          pageSize: 3,
          continuationToken: token,
        });
        seen.push(...page.instances.map((i) => i.instanceId));
        token = page.continuationToken;
        pages++;
      } while (token !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `query-${i}`));
      const completed = await e.client.queryInstances({ statuses: ["COMPLETED"], pageSize: 100 });
      expect(completed.instances.length).toBeGreaterThanOrEqual(7);
      const running = await e.client.queryInstances({
        statuses: ["RUNNING"],
        instanceIdPrefix: "query-",
      });
      expect(running.instances).toHaveLength(0);
    });
  });
}

async function poll(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function waitForStatus(e: EngineHarness, id: string, status: string): Promise<void> {
  return poll(
    async () => (await e.client.getOrchestrationState(id))?.runtimeStatus === status,
    `${id} ${status}`,
  );
}

function waitForCustomStatus(e: EngineHarness, id: string, value: string): Promise<void> {
  return poll(
    async () => (await e.client.getOrchestrationState(id))?.serializedCustomStatus === value,
    `${id} custom status ${value}`,
  );
}

function waitForHistory(e: EngineHarness, id: string, kind: string): Promise<void> {
  return poll(
    async () => (await e.client.getOrchestrationHistory(id)).some((h) => h.eventType.case === kind),
    `${id} history ${kind}`,
  );
}

function waitForCount(e: EngineHarness, name: string, count: number): Promise<void> {
  return poll(async () => {
    const page = await e.client.queryInstances({ statuses: ["RUNNING"], pageSize: 1000 });
    return page.instances.filter((i) => i.name === name).length >= count;
  }, `${count} running ${name}`);
}
