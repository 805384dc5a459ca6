import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  eventRaisedEvent,
  executionTerminatedEvent,
  type OrchestrationStatus,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import { OrchestrationInstanceSchema, ParentInstanceInfoSchema } from "@durabletask/api/proto";
import type { Backend } from "@durabletask/backend";
import { expect, it } from "vitest";
import {
  completion,
  createInstance,
  episode,
  executionIdOf,
  type Harness,
  kinds,
  lockOne,
  runEpisode,
  sleepUntil,
  startEvent,
} from "./fixtures.js";

const base = Date.UTC(2024, 0, 1);
const second = (n: number) => base + n * 1000;

/** Creates `id` and commits its first episode in `status`. */
async function instanceIn(b: Backend, id: string, status: OrchestrationStatus, atMs?: number) {
  const start = await createInstance(b, id, { input: '"in"' }, atMs);
  await runEpisode(b, id, { status, output: '"out"' });
  return start;
}

/** Creates each instance (created at second `i + 1`) and commits one episode per status. */
async function population(b: Backend, entries: readonly [string, OrchestrationStatus, number?][]) {
  for (const [i, [id]] of entries.entries())
    await createInstance(b, id, { input: '"in"' }, second(i + 1));
  const items = await b.lockOrchestrationWorkItems(entries.length);
  expect(items).toHaveLength(entries.length);
  for (const item of items) {
    const [, status, completedAt] = entries.find(([id]) => id === item.instanceId) ?? [];
    await b.completeOrchestrationWorkItem(
      item,
      episode(item, {
        status,
        completedAtMs: completedAt === undefined ? undefined : second(completedAt),
      }),
    );
  }
}

/** Instance-level operations: creation, reuse policies, events, metadata, queries, purges. */
export function registerInstanceContract(h: Harness): void {
  it("rejects malformed start events with InvalidArgument", async () => {
    const b = await h.start();
    const notStart = eventRaisedEvent(Date.now(), "E");
    await expect(b.createOrchestrationInstance(notStart)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    const noTimestamp = startEvent("x");
    noTimestamp.timestamp = undefined;
    await expect(b.createOrchestrationInstance(noTimestamp)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    const noId = startEvent("");
    await expect(b.createOrchestrationInstance(noId)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    expect((await b.queryInstances({})).instances).toEqual([]);
  });

  it("rejects an existing id without a reuse policy, whatever its status", async () => {
    const b = await h.start();
    await instanceIn(b, "done", "COMPLETED");
    await createInstance(b, "pending");
    for (const id of ["pending", "done"]) {
      await expect(b.createOrchestrationInstance(startEvent(id))).rejects.toMatchObject({
        code: "InstanceExists",
      });
    }
    expect((await b.getOrchestrationMetadata("done"))?.runtimeStatus).toBe("COMPLETED");
  });

  it("reuse policy error: rejects ids in the listed statuses", async () => {
    const b = await h.start();
    await instanceIn(b, "done", "COMPLETED");
    const policy = { action: "error", statuses: ["COMPLETED"] } as const;
    await expect(
      b.createOrchestrationInstance(startEvent("done"), { reusePolicy: policy }),
    ).rejects.toMatchObject({
      code: "InstanceExists",
    });
  });

  it("reuse policy ignore: keeps an instance in a listed status, rejects others", async () => {
    const b = await h.start();
    const first = await instanceIn(b, "run", "RUNNING");
    const ignore = { reusePolicy: { action: "ignore", statuses: ["RUNNING", "PENDING"] } } as const;
    expect(await b.createOrchestrationInstance(startEvent("run"), ignore)).toEqual({
      created: false,
    });
    const md = await b.getOrchestrationMetadata("run");
    expect(md?.executionId).toBe(executionIdOf(first));
    expect(md?.runtimeStatus).toBe("RUNNING");
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await instanceIn(b, "done", "COMPLETED");
    await expect(b.createOrchestrationInstance(startEvent("done"), ignore)).rejects.toMatchObject({
      code: "InstanceExists",
    });
  });

  it("reuse policy terminate: replaces an instance in a listed status with a fresh one", async () => {
    const b = await h.start({ orchestrationLockTimeoutMs: 60_000 });
    await createInstance(b, "re", { input: '"old"' });
    const scheduled = taskScheduledEvent(0, Date.now(), "Old");
    await runEpisode(b, "re", { events: [scheduled], activities: [scheduled] });
    const [oldTask] = await b.lockActivityWorkItems(1);
    await b.addNewOrchestrationEvent("re", eventRaisedEvent(Date.now(), "Old"));
    const oldItem = await lockOne(b);
    const policy = { reusePolicy: { action: "terminate", statuses: ["RUNNING"] } } as const;
    const fresh = startEvent("re", { input: '"new"' });
    expect(await b.createOrchestrationInstance(fresh, policy)).toEqual({ created: true });
    const md = await b.getOrchestrationMetadata("re");
    expect(md?.runtimeStatus).toBe("PENDING");
    expect(md?.executionId).toBe(executionIdOf(fresh));
    expect(md?.serializedInput).toBe('"new"');
    expect(await b.getOrchestrationHistory("re")).toEqual([]);
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    // The old generation's leases are gone with it.
    await expect(b.completeOrchestrationWorkItem(oldItem, episode(oldItem))).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    if (oldTask === undefined) throw new Error("no activity work item");
    await expect(
      b.completeActivityWorkItem(oldTask, taskCompletedEvent(Date.now(), 0)),
    ).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    const item = await lockOne(b);
    expect(item.newEvents).toEqual([fresh]);
    expect(item.history).toEqual([]);
  });

  it("reuse policy terminate: rejects an instance whose status is not listed", async () => {
    const b = await h.start();
    await instanceIn(b, "run", "RUNNING");
    const policy = {
      reusePolicy: { action: "terminate", statuses: ["COMPLETED", "FAILED"] },
    } as const;
    await expect(b.createOrchestrationInstance(startEvent("run"), policy)).rejects.toMatchObject({
      code: "InstanceExists",
    });
    expect((await b.getOrchestrationMetadata("run"))?.runtimeStatus).toBe("RUNNING");
  });

  it("treats a retried create of the same execution as done, queueing one start event", async () => {
    const b = await h.start();
    const start = startEvent("retry");
    expect(await b.createOrchestrationInstance(start)).toEqual({ created: true });
    expect(await b.createOrchestrationInstance(start)).toEqual({ created: true });
    expect((await lockOne(b)).newEvents).toEqual([start]);
  });

  it("holds a scheduled start PENDING until its time, with events sent meanwhile", async () => {
    const b = await h.start();
    const startAt = Date.now() + 300;
    const start = startEvent("sched", { scheduledStartMs: startAt });
    await b.createOrchestrationInstance(start);
    const md = await b.getOrchestrationMetadata("sched");
    expect(md?.runtimeStatus).toBe("PENDING");
    expect(md?.scheduledStartAt?.getTime()).toBe(startAt);
    const raised = eventRaisedEvent(Date.now(), "Early");
    await b.addNewOrchestrationEvent("sched", raised);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await sleepUntil(startAt);
    const item = await lockOne(b);
    expect(item.newEvents).toEqual([start, raised]);
    expect((await b.getOrchestrationMetadata("sched"))?.runtimeStatus).toBe("PENDING");
    await b.completeOrchestrationWorkItem(item, episode(item));
    expect((await b.getOrchestrationMetadata("sched"))?.runtimeStatus).toBe("RUNNING");
  });

  it("adds events to live instances, drops them for terminal ones, rejects unknown ids", async () => {
    const b = await h.start();
    await expect(
      b.addNewOrchestrationEvent("ghost", eventRaisedEvent(Date.now(), "E")),
    ).rejects.toMatchObject({
      code: "InstanceNotFound",
    });
    await instanceIn(b, "done", "COMPLETED");
    await b.addNewOrchestrationEvent("done", executionTerminatedEvent(Date.now(), "late"));
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    expect((await b.getOrchestrationMetadata("done"))?.runtimeStatus).toBe("COMPLETED");
    await instanceIn(b, "live", "RUNNING");
    const raised = eventRaisedEvent(Date.now(), "E", '"v"');
    await b.addNewOrchestrationEvent("live", raised);
    expect((await lockOne(b)).newEvents).toEqual([raised]);
  });

  it("returns metadata with and without payloads", async () => {
    const b = await h.start();
    const parentInstance = create(ParentInstanceInfoSchema, {
      taskScheduledId: 4,
      name: "Parent",
      orchestrationInstance: create(OrchestrationInstanceSchema, {
        instanceId: "parent",
        executionId: "p1",
      }),
    });
    const start = await createInstance(b, "md", {
      input: '"in"',
      version: "v2",
      parentInstance,
      tags: { team: "blue", tier: "1" },
    });
    await runEpisode(b, "md", { customStatus: '"busy"' });
    const full = await b.getOrchestrationMetadata("md");
    expect(full).toMatchObject({
      instanceId: "md",
      name: "MyOrchestration",
      runtimeStatus: "RUNNING",
      executionId: executionIdOf(start),
      version: "v2",
      parentInstanceId: "parent",
      serializedInput: '"in"',
      serializedCustomStatus: '"busy"',
      tags: { team: "blue", tier: "1" },
    });
    expect(full?.serializedOutput).toBeUndefined();
    expect(full?.completedAt).toBeUndefined();
    // An episode that does not set the custom status keeps the stored one.
    await b.addNewOrchestrationEvent("md", eventRaisedEvent(Date.now(), "E"));
    await runEpisode(b, "md");
    expect((await b.getOrchestrationMetadata("md"))?.serializedCustomStatus).toBe('"busy"');
    const lean = await b.getOrchestrationMetadata("md", { fetchPayloads: false });
    expect(lean?.serializedInput).toBeUndefined();
    expect(lean?.serializedCustomStatus).toBeUndefined();
    expect(lean?.runtimeStatus).toBe("RUNNING");
    expect(lean?.tags).toEqual({ team: "blue", tier: "1" });
  });

  it("returns an instance's committed history across episodes, oldest first", async () => {
    const b = await h.start();
    await createInstance(b, "hist");
    await runEpisode(b, "hist");
    await b.addNewOrchestrationEvent("hist", eventRaisedEvent(Date.now(), "E"));
    await runEpisode(b, "hist");
    expect(kinds(await b.getOrchestrationHistory("hist"))).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "orchestratorStarted",
      "eventRaised",
    ]);
  });

  it("queries instances with every filter, paging by instance id", async () => {
    const b = await h.start();
    await population(b, [
      ["q-01", "RUNNING"],
      ["q-02", "COMPLETED"],
      ["q-03", "RUNNING"],
      ["q-04", "COMPLETED"],
      ["q-05", "RUNNING"],
      ["other", "RUNNING"],
      ["Q-06", "RUNNING"],
      ["q%_7", "RUNNING"],
    ]);
    const ids = async (query: Parameters<Backend["queryInstances"]>[0]) =>
      (await b.queryInstances(query)).instances.map((m) => m.instanceId);
    expect(await ids({})).toEqual([
      "Q-06",
      "other",
      "q%_7",
      "q-01",
      "q-02",
      "q-03",
      "q-04",
      "q-05",
    ]);
    expect(await ids({ instanceIdPrefix: "q-" })).toEqual(["q-01", "q-02", "q-03", "q-04", "q-05"]);
    expect(await ids({ instanceIdPrefix: "q%" })).toEqual(["q%_7"]);
    expect(await ids({ statuses: ["COMPLETED"] })).toEqual(["q-02", "q-04"]);
    expect(await ids({ statuses: ["PENDING", "FAILED"] })).toEqual([]);
    expect(await ids({ createdFrom: new Date(second(2)), createdTo: new Date(second(4)) })).toEqual(
      ["q-02", "q-03", "q-04"],
    );
    expect(
      await ids({ createdFrom: new Date(second(6)), statuses: ["RUNNING"], instanceIdPrefix: "o" }),
    ).toEqual(["other"]);
    const page1 = await b.queryInstances({ instanceIdPrefix: "q-", pageSize: 2 });
    expect(page1.instances.map((m) => m.instanceId)).toEqual(["q-01", "q-02"]);
    expect(page1.continuationToken).toBeTypeOf("string");
    const page2 = await b.queryInstances({
      instanceIdPrefix: "q-",
      pageSize: 2,
      continuationToken: page1.continuationToken,
    });
    expect(page2.instances.map((m) => m.instanceId)).toEqual(["q-03", "q-04"]);
    const page3 = await b.queryInstances({
      instanceIdPrefix: "q-",
      pageSize: 2,
      continuationToken: page2.continuationToken,
    });
    expect(page3.instances.map((m) => m.instanceId)).toEqual(["q-05"]);
    expect(page3.continuationToken).toBeUndefined();
    expect(
      (await b.queryInstances({ instanceIdPrefix: "q-", pageSize: 5 })).continuationToken,
    ).toBeUndefined();
  });

  it("queries with and without payloads and validates the page size", async () => {
    const b = await h.start();
    await instanceIn(b, "p", "COMPLETED");
    const [full] = (await b.queryInstances({})).instances;
    expect(full).toMatchObject({
      instanceId: "p",
      serializedInput: '"in"',
      serializedOutput: '"out"',
    });
    const [lean] = (await b.queryInstances({ fetchPayloads: false })).instances;
    expect(lean?.serializedInput).toBeUndefined();
    expect(lean?.serializedOutput).toBeUndefined();
    expect(lean?.runtimeStatus).toBe("COMPLETED");
    for (const pageSize of [0, 1001, 2.5, -1]) {
      await expect(b.queryInstances({ pageSize })).rejects.toMatchObject({
        code: "InvalidArgument",
      });
      await expect(b.listInstanceIds({ pageSize })).rejects.toMatchObject({
        code: "InvalidArgument",
      });
    }
    expect((await b.queryInstances({ pageSize: 1000 })).instances).toHaveLength(1);
  });

  it("uses a default page size of 100", async () => {
    const b = await h.start();
    for (let i = 0; i < 101; i++) await createInstance(b, `d-${String(i).padStart(3, "0")}`);
    const page = await b.queryInstances({});
    expect(page.instances).toHaveLength(100);
    expect(page.continuationToken).toBeDefined();
    const ids = await b.listInstanceIds({});
    expect(ids.instanceIds).toHaveLength(100);
    const rest = await b.listInstanceIds({ lastInstanceKey: ids.lastInstanceKey });
    expect(rest.instanceIds).toEqual(["d-100"]);
    expect(rest.lastInstanceKey).toBeUndefined();
  });

  it("lists instance ids by status and completion time, paging by id", async () => {
    const b = await h.start();
    await population(b, [
      ["l-1", "COMPLETED", 1],
      ["l-2", "FAILED", 2],
      ["l-3", "COMPLETED", 3],
      ["l-4", "RUNNING"],
    ]);
    const ids = async (query: Parameters<Backend["listInstanceIds"]>[0]) =>
      (await b.listInstanceIds(query)).instanceIds;
    expect(await ids({ completedFrom: new Date(second(2)) })).toEqual(["l-2", "l-3"]);
    expect(await ids({ completedTo: new Date(second(2)) })).toEqual(["l-1", "l-2"]);
    expect(await ids({ statuses: ["RUNNING"] })).toEqual(["l-4"]);
    expect(await ids({ statuses: ["COMPLETED"], completedFrom: new Date(second(2)) })).toEqual([
      "l-3",
    ]);
    const page1 = await b.listInstanceIds({ pageSize: 2 });
    expect(page1.instanceIds).toEqual(["l-1", "l-2"]);
    const page2 = await b.listInstanceIds({ pageSize: 2, lastInstanceKey: page1.lastInstanceKey });
    expect(page2.instanceIds).toEqual(["l-3", "l-4"]);
    expect(page2.lastInstanceKey).toBeUndefined();
  });

  it("purges terminal instances by filter and returns how many", async () => {
    const b = await h.start();
    await population(b, [
      ["p-1", "COMPLETED"],
      ["p-2", "FAILED"],
      ["p-3", "TERMINATED"],
      ["p-4", "RUNNING"],
      ["p-5", "COMPLETED"],
    ]);
    await expect(b.purgeInstances({ statuses: ["RUNNING"] })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    expect(
      await b.purgeInstances({ createdFrom: new Date(second(2)), createdTo: new Date(second(4)) }),
    ).toBe(2);
    expect(await b.purgeInstances({ statuses: ["COMPLETED"] })).toBe(2);
    expect(await b.purgeInstances({})).toBe(0);
    expect((await b.listInstanceIds({})).instanceIds).toEqual(["p-4"]);
    await expect(b.getOrchestrationHistory("p-2")).rejects.toMatchObject({
      code: "InstanceNotFound",
    });
    expect(await b.getOrchestrationHistory("p-4")).toHaveLength(2);
  });

  it("creates the task hub idempotently", async () => {
    const b = await h.start();
    await createInstance(b, "keep");
    await b.createTaskHub();
    await b.createTaskHub();
    expect((await b.getOrchestrationMetadata("keep"))?.runtimeStatus).toBe("PENDING");
  });

  it("deletes the task hub with everything in it", async () => {
    const b = await h.start();
    await createInstance(b, `gone-${randomUUID()}`);
    await b.deleteTaskHub();
    await expect(b.queryInstances({})).rejects.toMatchObject({ code: "NotInitialized" });
    await expect(b.deleteTaskHub()).rejects.toMatchObject({ code: "TaskHubNotFound" });
    await b.start();
    expect((await b.queryInstances({})).instances).toEqual([]);
  });

  it("completes an instance that was terminated with its output", async () => {
    const b = await h.start();
    await instanceIn(b, "t", "RUNNING");
    await b.addNewOrchestrationEvent("t", executionTerminatedEvent(Date.now(), '"bye"'));
    const item = await lockOne(b);
    expect(kinds(item.newEvents)).toEqual(["executionTerminated"]);
    await b.completeOrchestrationWorkItem(item, completion(item, "TERMINATED", '"bye"'));
    const md = await b.getOrchestrationMetadata("t");
    expect(md?.runtimeStatus).toBe("TERMINATED");
    expect(md?.serializedOutput).toBe('"bye"');
  });
}
