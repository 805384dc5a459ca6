import { DurableTaskError } from "@durabletask/api";
import type { OrchestrationContext } from "@durabletask/task";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type GrpcEngine, sleep, startGrpcEngine, waitMs } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

describe("gRPC client: managing instances", () => {
  let engine: GrpcEngine | undefined;
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
  });

  async function start(register: Parameters<typeof startGrpcEngine>[0]) {
    engine = await startGrpcEngine(register);
    return engine;
  }

  async function run(e: GrpcEngine, name: string, instanceId: string, input?: unknown) {
    await e.client.scheduleNewOrchestration(name, { instanceId, input });
    return e.client.waitForOrchestrationCompletion(instanceId, { timeoutMs: waitMs });
  }

  it("pages through query results and instance ids", async () => {
    const e = await start((r) => {
      r.addOrchestrator("Q", (_ctx: OrchestrationContext, n: number) => n * 10);
      r.addOrchestrator("Wait", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("x"));
    });
    for (let i = 0; i < 7; i++) await run(e, "Q", `query-${i}`, i);
    await e.client.scheduleNewOrchestration("Wait", { instanceId: "query-running" });
    await e.client.waitForOrchestrationStart("query-running", { timeoutMs: waitMs });
    const seen: string[] = [];
    const outputs: (string | undefined)[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await e.client.queryInstances({
        instanceIdPrefix: "query-",
        statuses: ["COMPLETED"],
        pageSize: 3,
        continuationToken: token,
      });
      seen.push(...page.instances.map((m) => m.instanceId));
      outputs.push(...page.instances.map((m) => m.serializedOutput));
      token = page.continuationToken;
      pages++;
    } while (token !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `query-${i}`));
    expect(outputs).toEqual(Array.from({ length: 7 }, (_, i) => String(i * 10)));
    const lean = await e.client.queryInstances({
      instanceIdPrefix: "query-0",
      fetchPayloads: false,
    });
    expect(lean.instances).toHaveLength(1);
    expect(lean.instances[0]?.serializedOutput).toBeUndefined();
    expect(lean.instances[0]?.runtimeStatus).toBe("COMPLETED");
    const running = await e.client.queryInstances({ statuses: ["RUNNING"] });
    expect(running.instances.map((m) => m.instanceId)).toEqual(["query-running"]);
    expect(running.continuationToken).toBeUndefined();

    const ids: string[] = [];
    let key: string | undefined;
    let idPages = 0;
    do {
      const page = await e.client.listInstanceIds({
        statuses: ["COMPLETED"],
        pageSize: 4,
        lastInstanceKey: key,
      });
      ids.push(...page.instanceIds);
      key = page.lastInstanceKey;
      idPages++;
    } while (key !== undefined);
    expect(ids).toEqual(Array.from({ length: 7 }, (_, i) => `query-${i}`));
    expect(idPages).toBe(2);
    await e.client.terminateOrchestration("query-running");
  });

  it("purges one instance, a tree of instances, and instances by filter", async () => {
    const e = await start((r) => {
      r.addOrchestrator("Leaf", () => "leaf");
      r.addOrchestrator("Tree", async (ctx: OrchestrationContext) => {
        await ctx.waitForExternalEvent("go");
        await Promise.all([ctx.callSubOrchestrator("Leaf"), ctx.callSubOrchestrator("Leaf")]);
        return "tree";
      });
      r.addOrchestrator("Echo", (_ctx: OrchestrationContext, x: string) => x);
    });
    await e.client.scheduleNewOrchestration("Tree", { instanceId: "tree" });
    await e.client.waitForOrchestrationStart("tree", { timeoutMs: waitMs });
    await expect(e.client.purgeOrchestrationState("tree")).rejects.toMatchObject({
      code: "NotCompleted",
    });
    await e.client.raiseEvent("tree", "go");
    await e.client.waitForOrchestrationCompletion("tree", { timeoutMs: waitMs });
    expect((await e.client.queryInstances({ instanceIdPrefix: "tree" })).instances).toHaveLength(3);
    expect(await e.client.purgeOrchestrationState("tree", { recursive: true })).toBe(3);
    expect(await e.client.getOrchestrationState("tree")).toBeUndefined();
    expect((await e.client.queryInstances({ instanceIdPrefix: "tree" })).instances).toHaveLength(0);
    await expect(e.client.purgeOrchestrationState("tree")).rejects.toMatchObject({
      code: "InstanceNotFound",
    });

    await run(e, "Echo", "single", "x");
    expect(await e.client.purgeOrchestrationState("single")).toBe(1);
    expect(await e.client.getOrchestrationState("single")).toBeUndefined();

    const before = new Date();
    await sleep(5);
    for (let i = 0; i < 3; i++) await run(e, "Echo", `filtered-${i}`, "y");
    await e.client.scheduleNewOrchestration("Tree", { instanceId: "filtered-live" });
    await e.client.waitForOrchestrationStart("filtered-live", { timeoutMs: waitMs });
    expect(await e.client.purgeInstances({ createdFrom: before, statuses: ["FAILED"] })).toBe(0);
    expect(await e.client.purgeInstances({ createdFrom: before, statuses: ["COMPLETED"] })).toBe(3);
    const left = await e.client.queryInstances({ instanceIdPrefix: "filtered-" });
    expect(left.instances.map((m) => m.instanceId)).toEqual(["filtered-live"]);
    await e.client.terminateOrchestration("filtered-live");
  });

  it("returns an instance's history in order", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Two", async (ctx: OrchestrationContext) => {
        await ctx.createTimer(0);
        return "two";
      }),
    );
    await run(e, "Two", "history-1");
    const history = await e.client.getOrchestrationHistory("history-1");
    expect(history.map((h) => h.eventType.case)).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "timerCreated",
      "orchestratorStarted",
      "timerFired",
      "executionCompleted",
    ]);
  });

  it("applies instance id reuse policies", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Echo", (_ctx: OrchestrationContext, x: string) => x),
    );
    const first = await run(e, "Echo", "reused", "first");
    await expect(
      e.client.scheduleNewOrchestration("Echo", { instanceId: "reused", input: "second" }),
    ).rejects.toMatchObject({ code: "InstanceExists" });
    await expect(
      e.client.scheduleNewOrchestration("Echo", {
        instanceId: "reused",
        reusePolicy: { action: "error", statuses: ["COMPLETED"] },
      }),
    ).rejects.toMatchObject({ code: "InstanceExists" });
    await expect(
      e.client.scheduleNewOrchestration("Echo", {
        instanceId: "reused",
        reusePolicy: { action: "ignore", statuses: ["FAILED"] },
      }),
    ).rejects.toMatchObject({ code: "InstanceExists" });
    const ignored = await e.client.scheduleNewOrchestration("Echo", {
      instanceId: "reused",
      input: "ignored",
      reusePolicy: { action: "ignore", statuses: ["COMPLETED"] },
    });
    expect(ignored).toBe("reused");
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

  it("rejects bad input with InvalidArgument naming the field", async () => {
    const e = await start((r) => r.addOrchestrator("Noop", () => undefined));
    const c = e.client;
    const cases: [() => Promise<unknown>, string][] = [
      [() => c.scheduleNewOrchestration("", {}), "orchestrator"],
      [() => c.scheduleNewOrchestration("Noop", { instanceId: "" }), "instanceId"],
      [() => c.scheduleNewOrchestration("Noop", { instanceId: "a\u0000b" }), "instanceId"],
      [() => c.scheduleNewOrchestration("Noop", { instanceId: "x".repeat(1025) }), "instanceId"],
      [() => c.scheduleNewOrchestration("Noop", { input: 10n }), "input"],
      [() => c.scheduleNewOrchestration("Noop", { startAt: new Date(Number.NaN) }), "startAt"],
      [() => c.scheduleNewOrchestration("Noop", { version: "" }), "version"],
      [
        () =>
          c.scheduleNewOrchestration("Noop", {
            reusePolicy: { action: "x" as "error", statuses: [] },
          }),
        "reusePolicy.action",
      ],
      [
        () =>
          c.scheduleNewOrchestration("Noop", {
            reusePolicy: { action: "ignore", statuses: ["DONE" as "COMPLETED"] },
          }),
        "reusePolicy.statuses",
      ],
      [() => c.waitForOrchestrationCompletion("x", { timeoutMs: -1 }), "timeoutMs"],
      [() => c.waitForOrchestrationStart("", {}), "instanceId"],
      [() => c.getOrchestrationState(""), "instanceId"],
      [() => c.raiseEvent("x", ""), "eventName"],
      [() => c.raiseEvent("x", "e", () => 1), "data"],
      [() => c.terminateOrchestration("x", { output: Symbol("s") }), "output"],
      [() => c.suspendOrchestration("x", 5 as unknown as string), "reason"],
      [() => c.queryInstances({ pageSize: 0 }), "pageSize"],
      [() => c.queryInstances({ statuses: ["NOPE" as "RUNNING"] }), "statuses"],
      [() => c.queryInstances({ createdFrom: new Date(Number.NaN) }), "createdFrom"],
      [() => c.listInstanceIds({ pageSize: 1001 }), "pageSize"],
      [() => c.purgeInstances({ statuses: ["RUNNING"] }), "statuses"],
      [() => c.getOrchestrationHistory(""), "instanceId"],
    ];
    for (const [call, field] of cases) {
      const error = await call().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(DurableTaskError.is(error, "InvalidArgument"), `InvalidArgument for ${field}`).toBe(
        true,
      );
      expect((error as Error).message).toContain(field);
    }
  });

  it("reports unknown instances and honours wait timeouts and abort signals", async () => {
    const e = await start((r) =>
      r.addOrchestrator("Forever", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("x")),
    );
    const c = e.client;
    expect(await c.getOrchestrationState("missing")).toBeUndefined();
    const notFound: [() => Promise<unknown>, string][] = [
      [() => c.raiseEvent("missing", "x"), "raiseEvent"],
      [() => c.terminateOrchestration("missing"), "terminate"],
      [() => c.suspendOrchestration("missing"), "suspend"],
      [() => c.resumeOrchestration("missing"), "resume"],
      [() => c.purgeOrchestrationState("missing"), "purge"],
      [() => c.getOrchestrationHistory("missing"), "history"],
      [() => c.waitForOrchestrationStart("missing", { timeoutMs: 1000 }), "waitForStart"],
      [() => c.waitForOrchestrationCompletion("missing", { timeoutMs: 1000 }), "waitForCompletion"],
    ];
    for (const [call, what] of notFound) {
      const error = await call().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(DurableTaskError.is(error, "InstanceNotFound"), `InstanceNotFound from ${what}`).toBe(
        true,
      );
      expect((error as Error).message).toContain("missing");
    }
    const id = await c.scheduleNewOrchestration("Forever");
    const startedAt = Date.now();
    await expect(c.waitForOrchestrationCompletion(id, { timeoutMs: 200 })).rejects.toMatchObject({
      code: "Timeout",
      message: expect.stringContaining(id),
    });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user gave up")), 100);
    const aborted = await c
      .waitForOrchestrationCompletion(id, { signal: controller.signal })
      .catch((err) => err);
    expect(aborted).toMatchObject({ code: "Aborted" });
    expect((aborted as Error).cause).toMatchObject({ message: "user gave up" });
    await expect(
      c.waitForOrchestrationCompletion(id, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: "Aborted" });
    await c.raiseEvent(id, "x", "now");
    const done = await c.waitForOrchestrationCompletion(id, {
      timeoutMs: waitMs,
      fetchPayloads: false,
    });
    expect(done.runtimeStatus).toBe("COMPLETED");
    expect(done.serializedOutput).toBeUndefined();
  });

  it("ends waits in flight and rejects later calls after close() with NotInitialized", async () => {
    const e = await start((r) => {
      r.addOrchestrator("Noop", () => undefined);
      r.addOrchestrator("Forever", (ctx: OrchestrationContext) => ctx.waitForExternalEvent("x"));
    });
    const id = await e.client.scheduleNewOrchestration("Forever");
    const waiting = e.client.waitForOrchestrationCompletion(id).catch((err: unknown) => err);
    await sleep(100);
    const closedAt = Date.now();
    e.client.close();
    expect(await waiting).toMatchObject({ code: "NotInitialized" });
    expect(Date.now() - closedAt).toBeLessThan(1000);
    e.client.close();
    await expect(e.client.getOrchestrationState("x")).rejects.toMatchObject({
      code: "NotInitialized",
    });
    await expect(e.client.scheduleNewOrchestration("Noop")).rejects.toMatchObject({
      code: "NotInitialized",
    });
  });
});
