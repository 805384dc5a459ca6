import type { Executor } from "@durabletask/api";
import {
  type Backend,
  createTaskHubClient,
  createTaskHubWorker,
  type TaskHubWorker,
} from "@durabletask/backend";
import { createSqliteBackend } from "@durabletask/sqlite";
import {
  createTaskExecutor,
  createTaskRegistry,
  type OrchestrationContext,
  type TaskRegistry,
} from "@durabletask/task";
import { afterEach, describe, expect, it } from "vitest";
import { withOverrides } from "../src/backend-proxy.js";

// Poison work: an episode or activity work item that fails outside user code every time (here
// the executor throws for it) is retried with growing back-off and never blocks the others;
// its last allowed attempt fails it with a PoisonWorkItem failure, committed like any result.
const maxEpisodeAttempts = 4;
const waitMs = 30_000;

let worker: TaskHubWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

/** Abandon delays as the engine asked for them: instance id → [retryCount, delayMs] per abandon. */
type Abandons = Map<string, [number, number][]>;

function register(r: TaskRegistry): void {
  r.addActivity("Echo", (_ctx, value: string) => value);
  r.addActivity("Broken", () => "never returned");
  r.addOrchestrator("Job", (ctx: OrchestrationContext, value: string) =>
    ctx.callActivity<string>("Echo", value),
  );
  r.addOrchestrator("Parent", async (ctx: OrchestrationContext) => {
    try {
      return await ctx.callSubOrchestrator("Job", "child", { instanceId: "poison-child" });
    } catch (error) {
      return `caught ${(error as { failureDetails?: { errorType: string } }).failureDetails?.errorType}`;
    }
  });
  r.addOrchestrator("CallsBroken", async (ctx: OrchestrationContext) => {
    try {
      return await ctx.callActivity("Broken");
    } catch (error) {
      const details = (error as { failureDetails?: { errorType: string; errorMessage: string } })
        .failureDetails;
      return `${details?.errorType}: ${details?.errorMessage}`;
    }
  });
}

/**
 * An in-process engine on SQLite whose executor throws (outside user code) for the episodes of
 * instances named `poison…` and for the activity `Broken`, recording every abandon.
 */
async function startPoisonedEngine() {
  const registry = createTaskRegistry();
  register(registry);
  const inner = createTaskExecutor({ registry });
  const executor: Executor = {
    executeOrchestrator(request, options) {
      if (request.instanceId.startsWith("poison")) {
        return Promise.reject(new RangeError(`executor exploded on ${request.instanceId}`));
      }
      return inner.executeOrchestrator(request, options);
    },
    executeActivity(request, options) {
      if (request.name === "Broken") return Promise.reject(new Error("activity host crashed"));
      return inner.executeActivity(request, options);
    },
  };
  const abandons: Abandons = new Map();
  const record = (id: string, retryCount: number, delayMs: number) =>
    abandons.set(id, [...(abandons.get(id) ?? []), [retryCount, delayMs]]);
  const real: Backend = createSqliteBackend({});
  const backend = withOverrides(real, {
    abandonOrchestrationWorkItem: (item, delayMs) => {
      record(item.instanceId, item.retryCount, delayMs);
      return real.abandonOrchestrationWorkItem(item, delayMs);
    },
    abandonActivityWorkItem: (item, delayMs) => {
      record(`${item.instanceId}#${item.event.eventId}`, item.retryCount, delayMs);
      return real.abandonActivityWorkItem(item, delayMs);
    },
  });
  worker = createTaskHubWorker({ backend, executor, maxEpisodeAttempts });
  await worker.start();
  return { client: createTaskHubClient({ backend }), abandons };
}

describe("poison work items", () => {
  it("fails a poison orchestration after the attempt limit, with back-off, blocking no one", async () => {
    const { client, abandons } = await startPoisonedEngine();
    await client.scheduleNewOrchestration("Job", { instanceId: "poison", input: "p" });
    const others = Array.from({ length: 5 }, (_, i) => `ok-${i}`);
    for (const id of others) {
      await client.scheduleNewOrchestration("Job", { instanceId: id, input: id });
    }
    const poisoned = await client.waitForOrchestrationCompletion("poison", { timeoutMs: waitMs });
    expect(poisoned.runtimeStatus).toBe("FAILED");
    expect(poisoned.failureDetails).toMatchObject({
      errorType: "PoisonWorkItem",
      errorMessage:
        "orchestration 'poison' failed 4 times outside user code (limit maxEpisodeAttempts = 4); " +
        "last error: RangeError: executor exploded on poison",
      innerFailure: { errorType: "RangeError", errorMessage: "executor exploded on poison" },
    });
    // Attempts 1–3 were given back with growing delays; attempt 4 failed the instance.
    expect(abandons.get("poison")).toEqual([
      [0, 0],
      [1, 1000],
      [2, 2000],
    ]);
    const history = await client.getOrchestrationHistory("poison");
    expect(history.filter((e) => e.eventType.case === "executionCompleted")).toHaveLength(1);
    for (const id of others) {
      const m = await client.getOrchestrationState(id);
      expect(m?.runtimeStatus, id).toBe("COMPLETED");
      expect(m?.serializedOutput).toBe(JSON.stringify(id));
      // They finished while the poison instance was still being retried.
      expect(m?.completedAt?.getTime()).toBeLessThan(poisoned.completedAt?.getTime() ?? 0);
    }
  });

  it("tells the parent when a poison sub-orchestration fails", async () => {
    const { client } = await startPoisonedEngine();
    const id = await client.scheduleNewOrchestration("Parent");
    const parent = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(parent.serializedOutput).toBe('"caught PoisonWorkItem"');
    const child = await client.getOrchestrationState("poison-child");
    expect(child?.runtimeStatus).toBe("FAILED");
    expect(child?.failureDetails?.errorType).toBe("PoisonWorkItem");
  });

  it("fails a poison activity task to its orchestration after the attempt limit", async () => {
    const { client, abandons } = await startPoisonedEngine();
    const id = await client.scheduleNewOrchestration("CallsBroken", { instanceId: "calls" });
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.runtimeStatus).toBe("COMPLETED");
    expect(m.serializedOutput).toBe(
      JSON.stringify(
        "PoisonWorkItem: activity calls#0 failed 4 times outside user code " +
          "(limit maxEpisodeAttempts = 4); last error: Error: activity host crashed",
      ),
    );
    expect(abandons.get("calls#0")).toEqual([
      [0, 0],
      [1, 1000],
      [2, 2000],
    ]);
  });

  it("rejects a limit that is not a positive integer, naming the option", () => {
    const backend = createSqliteBackend({});
    const executor = createTaskExecutor({ registry: createTaskRegistry() });
    for (const bad of [0, -1, 1.5]) {
      expect(() => createTaskHubWorker({ backend, executor, maxEpisodeAttempts: bad })).toThrow(
        expect.objectContaining({
          code: "InvalidArgument",
          message: expect.stringContaining("maxEpisodeAttempts"),
        }),
      );
    }
  });
});
