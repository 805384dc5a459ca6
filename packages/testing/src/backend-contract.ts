import {
  eventTimeMs,
  type FailureDetails,
  type OrchestrationStatus,
  orchestrationStatuses,
  taskCompletedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
} from "@durabletask/api";
import type { Backend } from "@durabletask/backend";
import { describe, expect, it } from "vitest";
import type { BackendFactory } from "./backend-factory.js";
import { registerCommitContract } from "./contract-commits.js";
import { registerFusedContract } from "./contract-fused.js";
import { registerInstanceContract } from "./contract-instances.js";
import { registerLeaseContract } from "./contract-leases.js";
import {
  completion,
  createInstance,
  episode,
  executionIdOf,
  type Harness,
  harness,
  kinds,
  lockOne,
  runEpisode,
  sleepUntil,
  startEvent,
} from "./fixtures.js";

/**
 * The Backend contract: durabletask-go's `tests/backend_test.go`, ported, plus one test per
 * semantic of the contract (instances, leases, commits). Each test gets a fresh backend.
 */
export function registerBackendContract(factory: BackendFactory): void {
  const h = harness(factory);
  describe("work items (durabletask-go backend_test)", () => registerGoPort(h));
  describe("instances", () => registerInstanceContract(h));
  describe("leases", () => registerLeaseContract(h));
  describe("commits", () => registerCommitContract(h));
  describe("activity results committed with their episode", () => registerFusedContract(h));
}

function registerGoPort(h: Harness): void {
  it("hands out a single new orchestration work item", async () => {
    const b = await h.start();
    const start = await createInstance(b, "single", { input: '"hi"' });
    const item = await lockOne(b);
    expect(item.instanceId).toBe("single");
    expect(item.history).toEqual([]);
    expect(item.newEvents).toEqual([start]);
    expect(item.retryCount).toBe(0);
    expect(item.lockToken).not.toBe("");
    expect(item.lockExpiresAtMs).toBeGreaterThan(Date.now());
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    expect((await b.getOrchestrationMetadata("single"))?.runtimeStatus).toBe("PENDING");
  });

  it("hands out multiple work items in creation order", async () => {
    const b = await h.start();
    const ids = ["m-4", "m-2", "m-3", "m-1"];
    for (const id of ids) await createInstance(b, id);
    const locked: string[] = [];
    for (const _ of ids) locked.push((await lockOne(b)).instanceId);
    expect(locked).toEqual(ids);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
  });

  it("locks several instances in one call, oldest first", async () => {
    const b = await h.start();
    for (const id of ["c", "a", "b"]) await createInstance(b, id);
    const items = await b.lockOrchestrationWorkItems(10);
    expect(items.map((i) => i.instanceId)).toEqual(["c", "a", "b"]);
    expect(new Set(items.map((i) => i.lockToken)).size).toBe(1);
  });

  const failure: FailureDetails = {
    errorType: "MyError",
    errorMessage: "Kah-BOOOOM!!!",
    stackTrace: "stack trace",
    innerFailure: { errorType: "Inner", errorMessage: "cause" },
    isNonRetriable: true,
  };
  for (const status of ["COMPLETED", "TERMINATED", "FAILED"] as const) {
    it(`completes an orchestration as ${status}`, async () => {
      const b = await h.start();
      const start = await createInstance(b, "done", { input: '"in"' });
      const item = await lockOne(b);
      const details = status === "FAILED" ? failure : undefined;
      const commit = completion(item, status, status === "FAILED" ? undefined : '"out"', details);
      await b.completeOrchestrationWorkItem(item, commit);
      const md = await b.getOrchestrationMetadata("done");
      expect(md?.runtimeStatus).toBe(status);
      expect(md?.serializedInput).toBe('"in"');
      expect(md?.serializedOutput).toBe(status === "FAILED" ? undefined : '"out"');
      expect(md?.failureDetails).toEqual(details);
      expect(md?.createdAt.getTime()).toBe(eventTimeMs(start));
      expect(md?.completedAt?.getTime()).toBe(commit.instance.completedAtMs);
      expect(md?.lastUpdatedAt.getTime()).toBe(commit.instance.lastUpdatedAtMs);
      expect(kinds(await b.getOrchestrationHistory("done"))).toEqual([
        "orchestratorStarted",
        "executionStarted",
        "executionCompleted",
      ]);
      expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    });
  }

  it("schedules an activity and delivers its result to the orchestration", async () => {
    const b = await h.start();
    const start = await createInstance(b, "act");
    const scheduled = taskScheduledEvent(0, Date.now(), "SayHello", '"World"');
    await runEpisode(b, "act", { events: [scheduled], activities: [scheduled] });
    const [task, ...more] = await b.lockActivityWorkItems(10);
    expect(more).toEqual([]);
    expect(task?.instanceId).toBe("act");
    expect(task?.executionId).toBe(executionIdOf(start));
    expect(task?.event).toEqual(scheduled);
    expect(task?.retryCount).toBe(0);
    if (task === undefined) return;
    await b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0, '"Hello, World!"'));
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
    const item = await lockOne(b);
    expect(kinds(item.history)).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "taskScheduled",
    ]);
    expect(item.newEvents).toHaveLength(1);
    const result = item.newEvents[0]?.eventType;
    expect(result?.case).toBe("taskCompleted");
    expect(result?.value).toMatchObject({ taskScheduledId: 0, result: '"Hello, World!"' });
  });

  it("keeps a timer invisible until it fires", async () => {
    const b = await h.start();
    await createInstance(b, "timer");
    const fireAtMs = Date.now() + 300;
    const fired = timerFiredEvent(fireAtMs, 0, fireAtMs);
    await runEpisode(b, "timer", {
      events: [timerCreatedEvent(0, Date.now(), fireAtMs)],
      timers: [{ event: fired, fireAtMs }],
    });
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await sleepUntil(fireAtMs);
    const item = await lockOne(b);
    expect(item.newEvents).toEqual([fired]);
    expect(item.newEvents[0]?.eventType.value).toMatchObject({ timerId: 0 });
    expect(eventTimeMs(item.newEvents[0] ?? fired)).toBe(fireAtMs);
  });

  it("hands out an abandoned orchestration work item again", async () => {
    const b = await h.start();
    const start = await createInstance(b, "abandon");
    const first = await lockOne(b);
    await b.abandonOrchestrationWorkItem(first, 0);
    const again = await lockOne(b);
    expect(again.instanceId).toBe("abandon");
    expect(again.newEvents).toEqual([start]);
    expect(again.retryCount).toBe(1);
    expect(again.lockToken).not.toBe(first.lockToken);
  });

  it("hides an orchestration work item abandoned with a delay until the delay passed", async () => {
    const b = await h.start();
    await createInstance(b, "later");
    const first = await lockOne(b);
    const before = Date.now();
    await b.abandonOrchestrationWorkItem(first, 300);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await sleepUntil(before + 300);
    expect((await lockOne(b)).retryCount).toBe(1);
  });

  it("hands out an abandoned activity work item again", async () => {
    const b = await h.start();
    await createInstance(b, "act");
    const scheduled = taskScheduledEvent(3, Date.now(), "NoInput");
    await runEpisode(b, "act", { events: [scheduled], activities: [scheduled] });
    const [first] = await b.lockActivityWorkItems(1);
    if (first === undefined) throw new Error("no activity work item");
    await b.abandonActivityWorkItem(first, 0);
    const [again] = await b.lockActivityWorkItems(1);
    expect(again?.sequenceNumber).toBe(first.sequenceNumber);
    expect(again?.event.eventId).toBe(3);
    expect(again?.event.eventType.value).toMatchObject({ name: "NoInput" });
    expect(
      again?.event.eventType.case === "taskScheduled" && again.event.eventType.value.input,
    ).toBeUndefined();
    expect(again?.retryCount).toBe(1);
    if (again === undefined) return;
    const before = Date.now();
    await b.abandonActivityWorkItem(again, 300);
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    await sleepUntil(before + 300);
    expect((await b.lockActivityWorkItems(1))[0]?.retryCount).toBe(2);
  });

  it("rejects every call with NotInitialized before start() and after stop()", async () => {
    const b = await h.create();
    await expectNotInitialized(b);
    await b.start();
    await createInstance(b, "x");
    await b.stop();
    await expectNotInitialized(b);
  });

  it("reports no metadata and no history for an unknown instance", async () => {
    const b = await h.start();
    expect(await b.getOrchestrationMetadata("nope")).toBeUndefined();
    await expect(b.getOrchestrationHistory("nope")).rejects.toMatchObject({
      code: "InstanceNotFound",
    });
  });

  it("purges a completed orchestration's state", async () => {
    const b = await h.start();
    await createInstance(b, "purge");
    const item = await lockOne(b);
    await expect(b.purgeOrchestrationState("purge")).rejects.toMatchObject({
      code: "NotCompleted",
    });
    await b.completeOrchestrationWorkItem(item, completion(item, "COMPLETED", '"ok"'));
    await b.purgeOrchestrationState("purge");
    expect(await b.getOrchestrationMetadata("purge")).toBeUndefined();
    await expect(b.getOrchestrationHistory("purge")).rejects.toMatchObject({
      code: "InstanceNotFound",
    });
    await expect(b.purgeOrchestrationState("purge")).rejects.toMatchObject({
      code: "InstanceNotFound",
    });
    // The id is free again and starts from scratch.
    await createInstance(b, "purge");
    expect((await lockOne(b)).history).toEqual([]);
  });

  it("stores every runtime status under its short name", async () => {
    const b = await h.start();
    const statuses = orchestrationStatuses.filter((s) => s !== "PENDING");
    for (const status of statuses) {
      await createInstance(b, `s-${status}`);
      await runEpisode(b, `s-${status}`, { status: status as OrchestrationStatus });
    }
    for (const status of statuses) {
      expect((await b.getOrchestrationMetadata(`s-${status}`))?.runtimeStatus).toBe(status);
      const page = await b.queryInstances({ statuses: [status] });
      expect(page.instances.map((m) => m.instanceId)).toEqual([`s-${status}`]);
    }
  });
}

async function expectNotInitialized(b: Backend): Promise<void> {
  const start = startEvent("x");
  const item = {
    instanceId: "x",
    lockToken: "t",
    lockExpiresAtMs: 0,
    history: [],
    newEvents: [],
    retryCount: 0,
  };
  const task = { ...item, sequenceNumber: 1, executionId: "e", event: start };
  const calls: [string, () => Promise<unknown>][] = [
    ["createOrchestrationInstance", () => b.createOrchestrationInstance(start)],
    ["addNewOrchestrationEvent", () => b.addNewOrchestrationEvent("x", start)],
    ["lockOrchestrationWorkItems", () => b.lockOrchestrationWorkItems(1)],
    [
      "completeOrchestrationWorkItem",
      () => b.completeOrchestrationWorkItem(item, episode({ ...item, newEvents: [start] })),
    ],
    ["abandonOrchestrationWorkItem", () => b.abandonOrchestrationWorkItem(item, 0)],
    ["renewOrchestrationWorkItemLock", () => b.renewOrchestrationWorkItemLock(item)],
    ["lockActivityWorkItems", () => b.lockActivityWorkItems(1)],
    ["completeActivityWorkItem", () => b.completeActivityWorkItem(task, taskCompletedEvent(0, 1))],
    ["abandonActivityWorkItem", () => b.abandonActivityWorkItem(task, 0)],
    ["renewActivityWorkItemLock", () => b.renewActivityWorkItemLock(task)],
    ["getOrchestrationMetadata", () => b.getOrchestrationMetadata("x")],
    ["getOrchestrationHistory", () => b.getOrchestrationHistory("x")],
    ["queryInstances", () => b.queryInstances({})],
    ["listInstanceIds", () => b.listInstanceIds({})],
    ["purgeOrchestrationState", () => b.purgeOrchestrationState("x")],
    ["purgeInstances", () => b.purgeInstances({})],
  ];
  for (const [name, call] of calls) {
    await expect(call(), name).rejects.toMatchObject({ code: "NotInitialized" });
  }
}
