import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "@durabletask/backend";
import { type EngineHarness, type StartEngineOptions, startEngine } from "@durabletask/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSqliteBackend } from "../src/index.js";

// The engine commits an activity's result together with the episode it starts, in the
// orchestration's slot, when one is free; otherwise the result goes through the inbox.

const dir = mkdtempSync(join(tmpdir(), "durabletask-fused-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const engines: EngineHarness[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

/** Counts how results reach their orchestrations: with their episode, or alone. */
function counting(real: Backend) {
  const counts = { fused: 0, declined: 0, alone: 0, episodes: 0 };
  const fused = real.completeActivityWithEpisode?.bind(real);
  if (fused === undefined) throw new Error("the SQLite backend commits results with episodes");
  const overrides: Partial<Backend> = {
    completeActivityWithEpisode: async (...args: Parameters<typeof fused>) => {
      const applied = await fused(...args);
      counts[applied ? "fused" : "declined"]++;
      return applied;
    },
    completeActivityWorkItem: (...args) => {
      counts.alone++;
      return real.completeActivityWorkItem(...args);
    },
    completeOrchestrationWorkItem: (...args) => {
      counts.episodes++;
      return real.completeOrchestrationWorkItem(...args);
    },
  };
  const backend = new Proxy(real, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Backend];
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { backend, counts };
}

/** An engine on a new SQLite file running `Three`: three activities in sequence. */
async function threeSteps(options: Omit<StartEngineOptions, "backend"> = {}) {
  const real = createSqliteBackend({ path: join(dir, `hub-${++files}.sqlite3`) });
  const { backend, counts } = counting(real);
  const engine = await startEngine(
    async () => real,
    (registry) => {
      registry.addActivity("Step", async (_ctx, input: string) => `${input}+`);
      registry.addOrchestrator("Three", async (ctx, input: string) => {
        let value = input;
        for (let i = 0; i < 3; i++) value = await ctx.callActivity<string>("Step", value);
        return value;
      });
      // Five activities ending 30 ms apart: each result arrives after the previous episode.
      registry.addActivity("Wait", async (_ctx, ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return ms;
      });
      registry.addOrchestrator("FanOut", async (ctx) => {
        const parts = Array.from({ length: 5 }, (_, i) => ctx.callActivity<number>("Wait", i * 30));
        return (await Promise.all(parts)).join(",");
      });
    },
    { ...options, backend },
  );
  // The harness leaves a backend it was given running: stop it after the engine.
  engines.push({
    ...engine,
    stop: async () => {
      await engine.stop();
      await real.stop();
    },
  });
  return { client: engine.client, counts };
}

describe("activity results committed with the episode they start", () => {
  it("runs each step of a sequence in one commit with its result, and the result is the same", async () => {
    const { client, counts } = await threeSteps();
    const id = await client.scheduleNewOrchestration("Three", { input: "a" });
    const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 10_000 });
    expect(done.serializedOutput).toBe('"a+++"');
    // The first episode alone; each of the three results with the episode it starts.
    expect(counts).toEqual({ fused: 3, declined: 0, alone: 0, episodes: 1 });
    const history = await client.getOrchestrationHistory(id);
    expect(history.filter((e) => e.eventType.case === "taskCompleted")).toHaveLength(3);
    expect(history.filter((e) => e.eventType.case === "orchestratorStarted")).toHaveLength(4);
  });

  it("queues the results of a fan-out, whose next episode takes them together", async () => {
    const { client, counts } = await threeSteps();
    const id = await client.scheduleNewOrchestration("FanOut");
    const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 10_000 });
    expect(done.serializedOutput).toBe('"0,30,60,90,120"');
    // While other activities of the instance ran here, a result went alone; only the last
    // one may have been tried with its episode.
    expect(counts.fused + counts.declined).toBeLessThanOrEqual(1);
    expect(counts.alone + counts.fused + counts.declined).toBe(5);
  });

  it("keeps within maxConcurrentOrchestrations: with no slot free the result goes alone", async () => {
    let running = 0;
    let maxRunning = 0;
    const { client, counts } = await threeSteps({
      maxConcurrentOrchestrations: 1,
      wrapExecutor: (inner) => ({
        async executeOrchestrator(request, options) {
          running++;
          maxRunning = Math.max(maxRunning, running);
          try {
            // Long enough that the other instances' results arrive while the slot is taken.
            await new Promise((resolve) => setTimeout(resolve, 5));
            return await inner.executeOrchestrator(request, options);
          } finally {
            running--;
          }
        },
        executeActivity: (request, options) => inner.executeActivity(request, options),
      }),
    });
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.scheduleNewOrchestration("Three", { input: `${i}` }),
      ),
    );
    for (const [i, id] of ids.entries()) {
      const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 20_000 });
      expect(done.serializedOutput).toBe(`"${i}+++"`);
    }
    expect(maxRunning).toBe(1);
    expect(counts.alone).toBeGreaterThan(0);
    expect(counts.fused + counts.declined + counts.alone).toBe(24);
  });
});
