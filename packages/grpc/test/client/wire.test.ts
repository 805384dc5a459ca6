import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DurableTaskError } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import { type ActivityContext, createTaskRegistry } from "@durabletask/task";
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type TaskHubGrpcWorker,
} from "../../src/index.js";
import { activityWorkItem, type FakeSidecar, grpcError, startFakeSidecar } from "./fake-sidecar.js";
import { poll, sleep } from "./grpc-harness.js";

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const runningState = (instanceId: string) =>
  create(wire.OrchestrationStateSchema, {
    instanceId,
    name: "Fake",
    orchestrationStatus: wire.OrchestrationStatus.COMPLETED,
    createdTimestamp: timestampFromMs(1_700_000_000_000),
    lastUpdatedTimestamp: timestampFromMs(1_700_000_001_000),
    output: '"out"',
    tags: { team: "a" },
  });

describe("gRPC client and worker on the wire", () => {
  let sidecar: FakeSidecar | undefined;
  let worker: TaskHubGrpcWorker | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await sidecar?.stop();
    sidecar = undefined;
  });

  it("maps gRPC statuses to error codes and keeps the server's message", async () => {
    const table: [status, string][] = [
      [status.NOT_FOUND, "InstanceNotFound"],
      [status.ALREADY_EXISTS, "InstanceExists"],
      [status.INVALID_ARGUMENT, "InvalidArgument"],
      [status.FAILED_PRECONDITION, "NotCompleted"],
      [status.DEADLINE_EXCEEDED, "Timeout"],
      [status.CANCELLED, "Aborted"],
      [status.UNAVAILABLE, "Unavailable"],
      [status.UNIMPLEMENTED, "Unimplemented"],
      [status.PERMISSION_DENIED, "Internal"],
      [status.INTERNAL, "Internal"],
    ];
    let next = 0;
    sidecar = await startFakeSidecar({
      raiseEvent: () => {
        const [code] = table[next++] as [status, string];
        throw grpcError(code, `name: server says no (${code})`);
      },
    });
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    for (const [code, expected] of table) {
      const error = await client.raiseEvent("i", "e").catch((err: unknown) => err);
      expect(DurableTaskError.is(error, expected as never), `${code} → ${expected}`).toBe(true);
      expect((error as Error).message).toBe(`name: server says no (${code})`);
      expect((error as Error).cause).toMatchObject({ code });
    }
    client.close();
  });

  it("sends metadata on every call and maps the wire messages", async () => {
    let token = 0;
    sidecar = await startFakeSidecar(
      {
        startInstance: (req: wire.CreateInstanceRequest) => ({ instanceId: req.instanceId }),
        getInstance: (req: wire.GetInstanceRequest) => ({
          exists: true,
          orchestrationState: runningState(req.instanceId),
        }),
      },
      {
        streamInstanceHistory: (call: ServerWritableStream<unknown, unknown>) => {
          const event = (id: number) => create(wire.HistoryEventSchema, { eventId: id });
          call.write(create(wire.HistoryChunkSchema, { events: [event(1), event(2)] }));
          call.write(create(wire.HistoryChunkSchema, { events: [event(3)] }));
          call.end();
        },
      },
    );
    const client = createTaskHubGrpcClient({
      address: sidecar.address,
      metadata: () => ({ authorization: `Bearer ${++token}`, "x-task-hub": "hub" }),
    });
    const startAt = new Date(Date.now() + 60_000);
    await client.scheduleNewOrchestration("Fake", {
      instanceId: "i1",
      input: { a: 1 },
      tags: { t: "v" },
    });
    await client.scheduleNewOrchestration("Fake", {
      instanceId: "i2",
      startAt,
      version: "2",
      reusePolicy: { action: "terminate", statuses: ["COMPLETED", "FAILED"] },
    });
    const state = await client.getOrchestrationState("i1", { fetchPayloads: false });
    const history = await client.getOrchestrationHistory("i1");
    client.close();

    const [plain, scheduled] = sidecar
      .callsOf("startInstance")
      .map((c) => c.request as wire.CreateInstanceRequest);
    expect(plain?.name).toBe("Fake");
    expect(plain?.input).toBe('{"a":1}');
    expect(plain?.tags).toEqual({ t: "v" });
    expect(plain?.scheduledStartTimestamp).toBeUndefined();
    expect(plain?.orchestrationIdReusePolicy).toBeUndefined();
    expect(scheduled?.version).toBe("2");
    expect(Number(scheduled?.scheduledStartTimestamp?.seconds) * 1000).toBe(
      Math.floor(startAt.getTime() / 1000) * 1000,
    );
    expect(scheduled?.orchestrationIdReusePolicy?.replaceableStatus).toEqual([
      wire.OrchestrationStatus.COMPLETED,
      wire.OrchestrationStatus.FAILED,
    ]);
    const getRequest = sidecar.callsOf("getInstance")[0]?.request as wire.GetInstanceRequest;
    expect(getRequest.getInputsAndOutputs).toBe(false);
    expect(state).toMatchObject({
      instanceId: "i1",
      name: "Fake",
      runtimeStatus: "COMPLETED",
      serializedOutput: '"out"',
      tags: { team: "a" },
    });
    expect(state?.createdAt.getTime()).toBe(1_700_000_000_000);
    expect(state?.lastUpdatedAt.getTime()).toBe(1_700_000_001_000);
    expect(history.map((h) => h.eventId)).toEqual([1, 2, 3]);
    expect(sidecar.calls.map((c) => c.metadata.authorization)).toEqual([
      "Bearer 1",
      "Bearer 2",
      "Bearer 3",
      "Bearer 4",
    ]);
    expect(sidecar.calls.every((c) => c.metadata["x-task-hub"] === "hub")).toBe(true);
    expect(String(sidecar.calls[0]?.metadata["user-agent"])).toContain("durabletask-ts");
  });

  it("re-issues a long poll when the connection drops, within one deadline", async () => {
    let polls = 0;
    sidecar = await startFakeSidecar({
      waitForInstanceCompletion: (req: wire.GetInstanceRequest) => {
        polls++;
        if (polls < 3) throw grpcError(status.UNAVAILABLE, "connection reset");
        return { exists: true, orchestrationState: runningState(req.instanceId) };
      },
      waitForInstanceStart: () => {
        throw grpcError(status.UNAVAILABLE, "still down");
      },
    });
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    const m = await client.waitForOrchestrationCompletion("w1", { timeoutMs: 10_000 });
    expect(m.serializedOutput).toBe('"out"');
    expect(polls).toBe(3);
    const startedAt = Date.now();
    await expect(client.waitForOrchestrationStart("w1", { timeoutMs: 600 })).rejects.toMatchObject({
      code: "Timeout",
    });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(590);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(sidecar.callsOf("waitForInstanceStart").length).toBeGreaterThan(1);
    client.close();
  });

  it("treats an 'ignore' reuse policy as success only for listed statuses", async () => {
    sidecar = await startFakeSidecar({
      startInstance: () => {
        throw grpcError(status.ALREADY_EXISTS, "instanceId: 'dup' already exists");
      },
      getInstance: (req: wire.GetInstanceRequest) => ({
        exists: true,
        orchestrationState: runningState(req.instanceId),
      }),
    });
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    const kept = await client.scheduleNewOrchestration("Fake", {
      instanceId: "dup",
      reusePolicy: { action: "ignore", statuses: ["COMPLETED"] },
    });
    expect(kept).toBe("dup");
    await expect(
      client.scheduleNewOrchestration("Fake", {
        instanceId: "dup",
        reusePolicy: { action: "ignore", statuses: ["RUNNING"] },
      }),
    ).rejects.toMatchObject({
      code: "InstanceExists",
      message: "instanceId: 'dup' already exists",
    });
    expect(
      sidecar
        .callsOf("startInstance")
        .every(
          (c) => (c.request as wire.CreateInstanceRequest).orchestrationIdReusePolicy === undefined,
        ),
    ).toBe(true);
    client.close();
  });

  it("asks for work with its limits, echoes completion tokens and never exceeds the limits", async () => {
    let running = 0;
    let peak = 0;
    sidecar = await startFakeSidecar(
      { completeActivityTask: () => ({}) },
      {
        getWorkItems: (call: ServerWritableStream<unknown, unknown>) => {
          call.write(create(wire.WorkItemSchema, { request: { case: "healthPing", value: {} } }));
          for (let i = 1; i <= 5; i++)
            call.write(activityWorkItem(`token-${i}`, "inst", i, "Echo", `${i}`));
        },
      },
    );
    const registry = createTaskRegistry().addActivity(
      "Echo",
      async (ctx: ActivityContext, n: number) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(100);
        running--;
        return `${ctx.instanceId}#${ctx.taskId}=${n}`;
      },
    );
    worker = createTaskHubGrpcWorker({
      address: sidecar.address,
      registry,
      maxConcurrentOrchestrations: 3,
      maxConcurrentActivities: 2,
      metadata: () => ({ authorization: "Bearer w" }),
    });
    await worker.start();
    const fake = sidecar;
    await poll(() => fake.callsOf("completeActivityTask").length === 5, "five completions");
    const request = fake.callsOf("getWorkItems")[0]?.request as wire.GetWorkItemsRequest;
    expect(request.maxConcurrentOrchestrationWorkItems).toBe(3);
    expect(request.maxConcurrentActivityWorkItems).toBe(2);
    expect(peak).toBe(2);
    const completions = fake
      .callsOf("completeActivityTask")
      .map((c) => c.request as wire.ActivityResponse)
      .sort((a, b) => a.taskId - b.taskId);
    expect(completions.map((c) => [c.completionToken, c.instanceId, c.taskId, c.result])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [`token-${i}`, "inst", i, `"inst#${i}=${i}"`]),
    );
    expect(fake.calls.every((c) => c.metadata.authorization === "Bearer w")).toBe(true);
  });

  it("does not run an item twice when the sidecar re-delivers it after a reconnect", async () => {
    let streams = 0;
    let runs = 0;
    sidecar = await startFakeSidecar(
      { completeActivityTask: () => ({}) },
      {
        getWorkItems: (call: ServerWritableStream<unknown, unknown>) => {
          streams++;
          call.write(activityWorkItem("same-token", "inst", 3, "Slow", '"x"'));
          if (streams === 1) setTimeout(() => call.end(), 50);
        },
      },
    );
    const registry = createTaskRegistry().addActivity(
      "Slow",
      async (_ctx: ActivityContext, x: string) => {
        runs++;
        await sleep(500);
        return `${x}!`;
      },
    );
    worker = createTaskHubGrpcWorker({
      address: sidecar.address,
      registry,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    await worker.start();
    const fake = sidecar;
    await poll(() => fake.callsOf("completeActivityTask").length === 1, "the completion");
    await sleep(200);
    expect(streams).toBe(2);
    expect(runs).toBe(1);
    const [completion] = fake
      .callsOf("completeActivityTask")
      .map((c) => c.request as wire.ActivityResponse);
    expect([completion?.completionToken, completion?.result]).toEqual(["same-token", '"x!"']);
  });

  it("abandons an activity that is still running when the drain timeout passes", async () => {
    let sawAbort = false;
    sidecar = await startFakeSidecar(
      { abandonTaskActivityWorkItem: () => ({}), completeActivityTask: () => ({}) },
      {
        getWorkItems: (call: ServerWritableStream<unknown, unknown>) => {
          call.write(activityWorkItem("slow-token", "inst", 7, "Slow"));
        },
      },
    );
    let started = false;
    const registry = createTaskRegistry().addActivity("Slow", async (ctx: ActivityContext) => {
      started = true;
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      sawAbort = true;
      return "too late";
    });
    worker = createTaskHubGrpcWorker({ address: sidecar.address, registry, drainTimeoutMs: 200 });
    await worker.start();
    await poll(() => started, "the activity to start");
    const stoppedAt = Date.now();
    await worker.stop();
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(190);
    expect(sawAbort).toBe(true);
    expect(sidecar.callsOf("completeActivityTask")).toHaveLength(0);
    expect(
      sidecar
        .callsOf("abandonTaskActivityWorkItem")
        .map((c) => (c.request as wire.AbandonActivityTaskRequest).completionToken),
    ).toEqual(["slow-token"]);
  });

  it("reconnects with back-off when the stream keeps ending", async () => {
    sidecar = await startFakeSidecar({}, { getWorkItems: (call) => call.end() });
    worker = createTaskHubGrpcWorker({
      address: sidecar.address,
      registry: createTaskRegistry(),
      reconnect: { initialDelayMs: 100, maxDelayMs: 200 },
    });
    await worker.start();
    await sleep(1000);
    const hellos = sidecar.callsOf("hello").length;
    // ~100 ms (±20 %) after each end, since every Hello succeeds and resets the back-off.
    expect(hellos).toBeGreaterThanOrEqual(3);
    expect(hellos).toBeLessThanOrEqual(12);
    expect(sidecar.callsOf("getWorkItems").length).toBe(hellos);
  });

  it("keeps retrying a failing Hello with growing delays", async () => {
    sidecar = await startFakeSidecar({
      hello: () => {
        throw grpcError(status.UNAVAILABLE, "warming up");
      },
    });
    worker = createTaskHubGrpcWorker({
      address: sidecar.address,
      registry: createTaskRegistry(),
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      startTimeoutMs: 1500,
    });
    const error = await worker.start().catch((err: unknown) => err);
    expect(error).toMatchObject({ code: "Unavailable" });
    expect((error as Error).message).toContain(sidecar.address);
    expect((error as Error).message).toContain("warming up");
    const hellos = sidecar.callsOf("hello").length;
    // 50, 100, 200, 400, 400 … ms: about 6 calls in 1.5 s (a fixed 50 ms would be ~30).
    expect(hellos).toBeGreaterThanOrEqual(4);
    expect(hellos).toBeLessThanOrEqual(9);
    expect(sidecar.callsOf("getWorkItems")).toHaveLength(0);
  });
});
