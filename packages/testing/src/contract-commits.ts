import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  eventRaisedEvent,
  executionStartedEvent,
  executionTerminatedEvent,
  orchestratorStartedEvent,
  subOrchestrationCompletedEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationFailedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
  toWireFailure,
} from "@durabletask/api";
import {
  type HistoryEvent,
  OrchestrationInstanceSchema,
  ParentInstanceInfoSchema,
} from "@durabletask/api/proto";
import type { Backend, SubOrchestrationStart } from "@durabletask/backend";
import { expect, it } from "vitest";
import {
  completion,
  createInstance,
  episode,
  executionIdOf,
  type Harness,
  lockOne,
  runEpisode,
  sleepUntil,
  startEvent,
} from "./fixtures.js";

/** A sub-orchestration start of `childId` by `parent` (execution `parentExecutionId`), task `taskId`. */
function childStart(
  childId: string,
  parent: string,
  parentExecutionId: string,
  taskId = 0,
): SubOrchestrationStart {
  const parentInstance = create(ParentInstanceInfoSchema, {
    taskScheduledId: taskId,
    name: "Parent",
    orchestrationInstance: create(OrchestrationInstanceSchema, {
      instanceId: parent,
      executionId: parentExecutionId,
    }),
  });
  const conflict = toWireFailure({
    errorType: "InstanceExists",
    errorMessage: `${childId} exists`,
  });
  return {
    startEvent: startEvent(childId, { name: "Child", parentInstance }),
    conflictEvent: subOrchestrationFailedEvent(Date.now(), taskId, conflict),
  };
}

/** Creates `id`, runs its first episode and returns its execution id. */
async function runningInstance(b: Backend, id: string): Promise<string> {
  const start = await createInstance(b, id);
  await runEpisode(b, id);
  return executionIdOf(start);
}

/** A running `parent` with an event waiting, so that its next episode can run; its execution id. */
async function runningParent(b: Backend): Promise<string> {
  const executionId = await runningInstance(b, "parent");
  await b.addNewOrchestrationEvent("parent", eventRaisedEvent(Date.now(), "Next"));
  return executionId;
}

/** Runs the next episode, which must be `id`'s, to `status`. */
async function finish(b: Backend, id: string, status: "COMPLETED" | "FAILED"): Promise<void> {
  const item = await lockOne(b);
  expect(item.instanceId).toBe(id);
  await b.completeOrchestrationWorkItem(item, completion(item, status));
}

/** Episode commits: continue-as-new, sub-orchestrations, messages, bounded inserts, notifications. */
export function registerCommitContract(h: Harness): void {
  it("continues as new: replaces history, cancels pending work, keeps late events", async () => {
    const b = await h.start();
    await createInstance(b, "can");
    const scheduled = taskScheduledEvent(0, Date.now(), "Old");
    const fireAtMs = Date.now() + 200;
    await runEpisode(b, "can", {
      events: [scheduled, timerCreatedEvent(1, Date.now(), fireAtMs)],
      activities: [scheduled],
      timers: [{ event: timerFiredEvent(fireAtMs, 1, fireAtMs), fireAtMs }],
    });
    const [task] = await b.lockActivityWorkItems(1);
    await b.addNewOrchestrationEvent("can", eventRaisedEvent(Date.now(), "Trigger"));
    const item = await lockOne(b);
    const late = eventRaisedEvent(Date.now(), "Late");
    await b.addNewOrchestrationEvent("can", late);
    const executionId = randomUUID();
    const restarted = executionStartedEvent(
      { name: "MyOrchestration", instanceId: "can", executionId },
      Date.now(),
    );
    const appendHistory = [orchestratorStartedEvent(Date.now()), restarted];
    await b.completeOrchestrationWorkItem(item, {
      ...episode(item, { executionId, cancelPendingWork: true }),
      resetHistory: true,
      appendHistory,
    });
    expect(await b.getOrchestrationHistory("can")).toEqual(appendHistory);
    expect((await b.getOrchestrationMetadata("can"))?.executionId).toBe(executionId);
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    if (task === undefined) throw new Error("no activity work item");
    await expect(
      b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0)),
    ).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    await sleepUntil(fireAtMs);
    const next = await lockOne(b);
    expect(next.newEvents).toEqual([late]);
    expect(next.history).toEqual(appendHistory);
  });

  it("never delivers events scoped to an earlier execution", async () => {
    const b = await h.start();
    await createInstance(b, "scoped");
    const scheduled = taskScheduledEvent(0, Date.now(), "Old");
    const fireAtMs = Date.now() + 150;
    await runEpisode(b, "scoped", {
      events: [scheduled],
      activities: [scheduled],
      timers: [{ event: timerFiredEvent(fireAtMs, 1, fireAtMs), fireAtMs }],
    });
    const [task] = await b.lockActivityWorkItems(1);
    await b.addNewOrchestrationEvent("scoped", eventRaisedEvent(Date.now(), "Trigger"));
    // A new execution that leaves the old one's work in place (cancelPendingWork false).
    await runEpisode(b, "scoped", { executionId: randomUUID() });
    if (task === undefined) throw new Error("no activity work item");
    await b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0, '"stale"'));
    await sleepUntil(fireAtMs);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
  });

  it("creates sub-orchestrations, linked to their parent", async () => {
    const b = await h.start();
    const parentExecution = await runningParent(b);
    const start = childStart("child", "parent", parentExecution);
    await runEpisode(b, "parent", {
      events: [subOrchestrationCreatedEvent(0, Date.now(), { instanceId: "child", name: "Child" })],
      subOrchestrations: [start],
    });
    const md = await b.getOrchestrationMetadata("child");
    expect(md).toMatchObject({
      runtimeStatus: "PENDING",
      name: "Child",
      parentInstanceId: "parent",
    });
    expect(md?.executionId).toBe(executionIdOf(start.startEvent));
    const item = await lockOne(b);
    expect(item.instanceId).toBe("child");
    expect(item.newEvents).toEqual([start.startEvent]);
  });

  it("tells the parent instead when a sub-orchestration id is held by a live instance", async () => {
    const b = await h.start();
    const held = await createInstance(b, "child");
    await runEpisode(b, "child");
    const parentExecution = await runningParent(b);
    const start = childStart("child", "parent", parentExecution, 7);
    await runEpisode(b, "parent", { subOrchestrations: [start] });
    expect((await b.getOrchestrationMetadata("child"))?.executionId).toBe(executionIdOf(held));
    const item = await lockOne(b);
    expect(item.instanceId).toBe("parent");
    expect(item.newEvents).toEqual([start.conflictEvent]);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
  });

  it("replaces a terminal instance holding a sub-orchestration id", async () => {
    const b = await h.start();
    await createInstance(b, "child");
    await finish(b, "child", "FAILED");
    const parentExecution = await runningParent(b);
    const start = childStart("child", "parent", parentExecution);
    await runEpisode(b, "parent", { subOrchestrations: [start] });
    const md = await b.getOrchestrationMetadata("child");
    expect(md?.runtimeStatus).toBe("PENDING");
    expect(md?.executionId).toBe(executionIdOf(start.startEvent));
    expect(await b.getOrchestrationHistory("child")).toEqual([]);
    expect((await lockOne(b)).newEvents).toEqual([start.startEvent]);
  });

  it("delivers messages to existing instances running the targeted execution", async () => {
    const b = await h.start();
    const parentExecution = await runningInstance(b, "target");
    await createInstance(b, "done");
    await finish(b, "done", "COMPLETED");
    await createInstance(b, "sender");
    const current = subOrchestrationCompletedEvent(Date.now(), 1, '"current"');
    const stale = subOrchestrationCompletedEvent(Date.now(), 2, '"stale"');
    const plain = eventRaisedEvent(Date.now(), "Plain");
    const forwarded = executionTerminatedEvent(Date.now(), "stop", true);
    await runEpisode(b, "sender", {
      messages: [
        { targetInstanceId: "target", event: current, targetExecutionId: parentExecution },
        { targetInstanceId: "target", event: stale, targetExecutionId: "an-earlier-execution" },
        { targetInstanceId: "target", event: plain },
        { targetInstanceId: "nobody", event: plain },
        // Even a terminal instance gets its messages: a recursive terminate is forwarded through it.
        { targetInstanceId: "done", event: forwarded },
      ],
    });
    const items = await b.lockOrchestrationWorkItems(10);
    expect(items.map((i) => i.instanceId)).toEqual(["target", "done"]);
    expect(items[0]?.newEvents).toEqual([current, plain]);
    expect(items[1]?.newEvents).toEqual([forwarded]);
    const [target, done] = items;
    if (target === undefined || done === undefined) throw new Error("missing work items");
    await b.completeOrchestrationWorkItem(target, episode(target));
    // What the engine commits for a completed instance: nothing new.
    await b.completeOrchestrationWorkItem(done, {
      ...episode(done, { status: "COMPLETED" }),
      appendHistory: [],
    });
    expect((await b.getOrchestrationMetadata("done"))?.runtimeStatus).toBe("COMPLETED");
    expect(await b.getOrchestrationHistory("done")).toHaveLength(3);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    const nobody = await createInstance(b, "nobody");
    expect((await lockOne(b)).newEvents).toEqual([nobody]);
  });

  it("drops events that arrived during an instance's final episode", async () => {
    const b = await h.start();
    await createInstance(b, "final");
    const item = await lockOne(b);
    await b.addNewOrchestrationEvent("final", eventRaisedEvent(Date.now(), "TooLate"));
    await b.completeOrchestrationWorkItem(item, completion(item, "COMPLETED", '"ok"'));
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await b.purgeOrchestrationState("final");
  });

  it("applies commits larger than one statement's row bound", async () => {
    const b = await h.start();
    await runningInstance(b, "target");
    const parentExecution = await runningParent(b);
    const activities = Array.from({ length: 2000 }, (_, i) =>
      taskScheduledEvent(i, Date.now(), "Fan", `${i}`),
    );
    const now = Date.now();
    const timers = Array.from({ length: 1200 }, (_, i) => ({
      event: timerFiredEvent(now, 5000 + i, now),
      fireAtMs: now,
    }));
    const messages = Array.from({ length: 501 }, (_, i) => ({
      targetInstanceId: "target",
      event: eventRaisedEvent(Date.now(), `E${i}`),
    }));
    const children = Array.from({ length: 501 }, (_, i) =>
      childStart(`kid-${i}`, "parent", parentExecution, 9000 + i),
    );
    await runEpisode(b, "parent", {
      events: activities,
      activities,
      timers,
      messages,
      subOrchestrations: children,
    });
    expect(await b.getOrchestrationHistory("parent")).toHaveLength(2 + 2 + 2000);
    const first = await b.lockActivityWorkItems(1000);
    const second = await b.lockActivityWorkItems(1000);
    const taskIds = [...first, ...second].map((t) => t.event.eventId);
    expect(taskIds).toEqual(activities.map((a) => a.eventId));
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    const items = await b.lockOrchestrationWorkItems(1000);
    expect(items).toHaveLength(2 + 501);
    const byId = new Map(items.map((i) => [i.instanceId, i]));
    expect(byId.get("parent")?.newEvents).toHaveLength(1200);
    expect(byId.get("target")?.newEvents.map(raisedName)).toEqual(
      messages.map((m) => raisedName(m.event)),
    );
    expect(byId.get("kid-500")?.newEvents).toEqual([children[500]?.startEvent]);
  });

  it("notifies listeners after writes commit", async () => {
    const b = await h.start();
    const seen: [string, string | number][] = [];
    const unsubscribe = b.subscribe({
      onWork: (kind, at) => seen.push([kind, at]),
      onInstanceChanged: (id) => seen.push(["changed", id]),
    });
    const before = Date.now();
    await createInstance(b, "n");
    const startAt = Date.now() + 60_000;
    await b.createOrchestrationInstance(startEvent("later", { scheduledStartMs: startAt }));
    expect(seen).toEqual([
      ["orchestration", expect.any(Number)],
      ["changed", "n"],
      ["orchestration", startAt],
      ["changed", "later"],
    ]);
    expect(seen[0]?.[1]).toBeGreaterThanOrEqual(before);
    seen.length = 0;
    await b.addNewOrchestrationEvent("n", eventRaisedEvent(Date.now(), "E"));
    expect(seen.map(([k]) => k)).toEqual(["orchestration"]);
    seen.length = 0;
    const scheduled = taskScheduledEvent(0, Date.now(), "Act");
    const fireAtMs = Date.now() + 30_000;
    await runEpisode(b, "n", {
      events: [scheduled],
      activities: [scheduled],
      timers: [{ event: timerFiredEvent(fireAtMs, 1, fireAtMs), fireAtMs }],
    });
    expect(seen).toContainEqual(["activity", expect.any(Number)]);
    expect(seen).toContainEqual(["orchestration", fireAtMs]);
    expect(seen).toContainEqual(["changed", "n"]);
    seen.length = 0;
    const [task] = await b.lockActivityWorkItems(1);
    if (task === undefined) throw new Error("no activity work item");
    await b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0));
    expect(seen.map(([k]) => k)).toEqual(["orchestration"]);
    seen.length = 0;
    unsubscribe();
    await createInstance(b, "quiet");
    expect(seen).toEqual([]);
  });

  it("keeps working when a listener throws", async () => {
    const b = await h.start();
    b.subscribe({
      onWork: () => {
        throw new Error("listener failure");
      },
      onInstanceChanged: () => {
        throw new Error("listener failure");
      },
    });
    const changed: [string, string | undefined][] = [];
    b.subscribe({ onInstanceChanged: (id, status) => changed.push([id, status]) });
    await createInstance(b, "robust");
    await runEpisode(b, "robust", { status: "RUNNING" });
    await b.addNewOrchestrationEvent("robust", eventRaisedEvent(Date.now(), "E"));
    await runEpisode(b, "robust", { status: "COMPLETED" });
    await b.purgeOrchestrationState("robust");
    // Each change carries the status it left, when known; a purge leaves none.
    expect(changed).toEqual([
      ["robust", "PENDING"],
      ["robust", "RUNNING"],
      ["robust", "COMPLETED"],
      ["robust", undefined],
    ]);
  });
}

function raisedName(e: HistoryEvent): string {
  return e.eventType.case === "eventRaised" ? e.eventType.value.name : "";
}
