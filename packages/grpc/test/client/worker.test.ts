import { createServer } from "node:net";
import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import { createTaskRegistry } from "@durabletask/task";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type SidecarServer,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "../../src/index.js";
import { poll, recordingLogger, sleep, startSidecar, waitMs } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("gRPC worker", () => {
  let sidecar: SidecarServer | undefined;
  let client: TaskHubGrpcClient | undefined;
  const workers: TaskHubGrpcWorker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    client?.close();
    client = undefined;
    await sidecar?.stop();
    sidecar = undefined;
  });

  function worker(
    registry: TaskRegistry,
    options: Record<string, unknown> = {},
  ): TaskHubGrpcWorker {
    const w = createTaskHubGrpcWorker({ address: sidecar?.address, registry, ...options });
    workers.push(w);
    return w;
  }

  async function setUp() {
    sidecar = await startSidecar();
    client = createTaskHubGrpcClient({ address: sidecar.address });
    return { sidecar, client };
  }

  it("never runs more work items than its limits", async () => {
    const { client } = await setUp();
    let running = 0;
    let peak = 0;
    const registry = createTaskRegistry()
      .addActivity("Slow", async (_ctx: ActivityContext, n: number) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(100);
        running--;
        return n;
      })
      .addOrchestrator("Many", async (ctx: OrchestrationContext) => {
        const all = await Promise.all(
          Array.from({ length: 8 }, (_, i) => ctx.callActivity<number>("Slow", i)),
        );
        return all.reduce((a, b) => a + b, 0);
      });
    await worker(registry, { maxConcurrentActivities: 2, maxConcurrentOrchestrations: 1 }).start();
    const startedAt = Date.now();
    const id = await client.scheduleNewOrchestration("Many");
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe("28");
    expect(peak).toBe(2);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(390);
  });

  it("shares the work between two workers", async () => {
    const { client } = await setUp();
    const ranOn: string[] = [];
    const registryFor = (name: string) =>
      createTaskRegistry()
        .addActivity("Where", async () => {
          ranOn.push(name);
          await sleep(300);
          return name;
        })
        .addOrchestrator("Spread", async (ctx: OrchestrationContext) => {
          const names = await Promise.all(
            Array.from({ length: 6 }, () => ctx.callActivity<string>("Where")),
          );
          return names.length;
        });
    await worker(registryFor("a"), { maxConcurrentActivities: 3 }).start();
    await worker(registryFor("b"), { maxConcurrentActivities: 3 }).start();
    // start() resolves once the stream is opened; let the sidecar register both.
    await sleep(100);
    const id = await client.scheduleNewOrchestration("Spread");
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe("6");
    expect(ranOn).toHaveLength(6);
    expect(ranOn.filter((n) => n === "a").length).toBe(3);
    expect(ranOn.filter((n) => n === "b").length).toBe(3);
  });

  it("drains an in-flight activity on stop, then a new worker finishes the orchestration", async () => {
    const { client } = await setUp();
    let activityRuns = 0;
    let completions = 0;
    const registry = () =>
      createTaskRegistry()
        .addActivity("Work", async () => {
          activityRuns++;
          await sleep(400);
          return "worked";
        })
        .addOrchestrator("Job", async (ctx: OrchestrationContext) => {
          const result = await ctx.callActivity("Work");
          if (!ctx.isReplaying) completions++;
          return result;
        });
    const first = worker(registry());
    await first.start();
    const id = await client.scheduleNewOrchestration("Job");
    await poll(() => activityRuns === 1, "the activity to start");
    const stoppedAt = Date.now();
    await first.stop();
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(200);
    expect(completions).toBe(0);
    await worker(registry()).start();
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"worked"');
    expect(activityRuns).toBe(1);
    expect(completions).toBe(1);
  });

  it("gives back an activity cut off by the drain timeout; a new worker completes it exactly once", async () => {
    const { client } = await setUp();
    const attempts: string[] = [];
    let completions = 0;
    const registry = (name: string, activityMs: number) =>
      createTaskRegistry()
        .addActivity("Long", async (ctx: ActivityContext) => {
          attempts.push(name);
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, activityMs);
            ctx.signal.addEventListener("abort", () => {
              clearTimeout(timer);
              reject(new Error("aborted"));
            });
          });
          return `done by ${name}`;
        })
        .addOrchestrator("LongJob", async (ctx: OrchestrationContext) => {
          const result = await ctx.callActivity<string>("Long");
          if (!ctx.isReplaying) completions++;
          return result;
        });
    const first = worker(registry("first", 60_000), { drainTimeoutMs: 150 });
    await first.start();
    const id = await client.scheduleNewOrchestration("LongJob");
    await poll(() => attempts.length === 1, "the first attempt");
    await first.stop();
    expect((await client.getOrchestrationState(id))?.runtimeStatus).toBe("RUNNING");
    await worker(registry("second", 50)).start();
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"done by second"');
    expect(attempts).toEqual(["first", "second"]);
    expect(completions).toBe(1);
    const history = await client.getOrchestrationHistory(id);
    expect(history.filter((h) => h.eventType.case === "taskCompleted")).toHaveLength(1);
  });

  it("picks up a timer that fired while no worker was connected, exactly once", async () => {
    const { client } = await setUp();
    const episodes: string[] = [];
    const registry = (name: string) =>
      createTaskRegistry().addOrchestrator("Napper", async (ctx: OrchestrationContext) => {
        if (!ctx.isReplaying) episodes.push(`${name}:start`);
        await ctx.createTimer(600);
        if (!ctx.isReplaying) episodes.push(`${name}:woke`);
        return name;
      });
    const first = worker(registry("first"));
    await first.start();
    const id = await client.scheduleNewOrchestration("Napper");
    await poll(() => episodes.length === 1, "the first episode");
    await first.stop();
    await sleep(800);
    expect((await client.getOrchestrationState(id))?.runtimeStatus).toBe("RUNNING");
    await worker(registry("second")).start();
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"second"');
    expect(episodes).toEqual(["first:start", "second:woke"]);
  });

  it("ignores health pings", async () => {
    sidecar = await (await import("../../src/index.js")).createSidecarServer({
      backend: (await import("@durabletask/sqlite")).createSqliteBackend(),
      port: 0,
      drainTimeoutMs: 1000,
      healthPingIntervalMs: 30,
    });
    client = createTaskHubGrpcClient({ address: sidecar.address });
    const logger = recordingLogger();
    const registry = createTaskRegistry().addOrchestrator("Ping", () => "pong");
    await worker(registry, { logger }).start();
    await sleep(200);
    const id = await client.scheduleNewOrchestration("Ping");
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"pong"');
    expect(
      logger.lines.filter((l) => l === "debug: health ping from the sidecar").length,
    ).toBeGreaterThanOrEqual(3);
    expect(logger.lines.filter((l) => l.startsWith("info: connected"))).toHaveLength(1);
  });

  it("keeps trying to connect until a late sidecar comes up", async () => {
    const port = await freePort();
    const registry = createTaskRegistry().addOrchestrator("Late", () => "late");
    const logger = recordingLogger();
    const w = createTaskHubGrpcWorker({
      address: `localhost:${port}`,
      registry,
      logger,
      reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
    });
    workers.push(w);
    const starting = w.start();
    await sleep(700);
    sidecar = await startSidecar({ port });
    await starting;
    expect(
      logger.lines.filter((l) => l.startsWith("warn: cannot reach the sidecar")).length,
    ).toBeGreaterThanOrEqual(2);
    client = createTaskHubGrpcClient({ address: sidecar.address });
    const id = await client.scheduleNewOrchestration("Late");
    const m = await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs });
    expect(m.serializedOutput).toBe('"late"');
  });

  it("rejects start() with Unavailable when the sidecar stays unreachable, and can start later", async () => {
    const port = await freePort();
    const registry = createTaskRegistry().addOrchestrator("Again", () => "again");
    const w = createTaskHubGrpcWorker({
      address: `localhost:${port}`,
      registry,
      startTimeoutMs: 500,
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    });
    workers.push(w);
    const startedAt = Date.now();
    const error = await w.start().catch((err: unknown) => err);
    expect(error).toMatchObject({ code: "Unavailable" });
    expect((error as Error).message).toContain(`localhost:${port}`);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(490);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    sidecar = await startSidecar({ port });
    await w.start();
    client = createTaskHubGrpcClient({ address: sidecar.address });
    const id = await client.scheduleNewOrchestration("Again");
    expect(
      (await client.waitForOrchestrationCompletion(id, { timeoutMs: waitMs })).serializedOutput,
    ).toBe('"again"');
  });

  it("validates its options and its lifecycle", async () => {
    const registry = createTaskRegistry();
    const bad: [() => unknown, string][] = [
      [
        () => createTaskHubGrpcWorker({ registry: undefined as unknown as TaskRegistry }),
        "registry",
      ],
      [() => createTaskHubGrpcWorker({ registry, address: "" }), "address"],
      [
        () => createTaskHubGrpcWorker({ registry, maxConcurrentActivities: 0 }),
        "maxConcurrentActivities",
      ],
      [
        () => createTaskHubGrpcWorker({ registry, maxConcurrentOrchestrations: 1.5 }),
        "maxConcurrentOrchestrations",
      ],
      [() => createTaskHubGrpcWorker({ registry, drainTimeoutMs: -1 }), "drainTimeoutMs"],
      [
        () => createTaskHubGrpcWorker({ registry, reconnect: { initialDelayMs: 0 } }),
        "reconnect.initialDelayMs",
      ],
      [
        () =>
          createTaskHubGrpcWorker({
            registry,
            reconnect: { initialDelayMs: 500, maxDelayMs: 100 },
          }),
        "reconnect.maxDelayMs",
      ],
      [() => createTaskHubGrpcClient({ address: 42 as unknown as string }), "address"],
      [
        () => createTaskHubGrpcClient({ metadata: "x" as unknown as () => Record<string, string> }),
        "metadata",
      ],
    ];
    bad.push([
      () => createTaskHubGrpcClient({ credentials: {} as unknown as ChannelCredentials }),
      "credentials",
    ]);
    for (const [create, field] of bad) {
      expect(create, field).toThrow(
        expect.objectContaining({
          code: "InvalidArgument",
          message: expect.stringContaining(field),
        }),
      );
    }
    const throwing = createTaskHubGrpcClient({
      metadata: () => {
        throw new Error("no token yet");
      },
    });
    await expect(throwing.getOrchestrationState("x")).rejects.toMatchObject({
      code: "InvalidArgument",
      message: "metadata: cannot build call metadata (no token yet)",
    });
    throwing.close();
    const { sidecar: s } = await setUp();
    const w = createTaskHubGrpcWorker({ address: s.address, registry });
    await w.stop();
    await w.start();
    await w.start();
    await Promise.all([w.stop(), w.stop()]);
    await expect(w.start()).rejects.toMatchObject({ code: "InvalidArgument" });
    const early = createTaskHubGrpcWorker({ address: `localhost:${await freePort()}`, registry });
    const starting = early.start();
    await early.stop();
    await expect(starting).rejects.toMatchObject({ code: "Aborted" });
  });
});
