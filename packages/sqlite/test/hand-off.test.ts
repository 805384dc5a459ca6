import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventRaisedEvent, taskCompletedEvent, taskScheduledEvent } from "@durabletask/api";
import type { Backend, OrchestrationWorkItem } from "@durabletask/backend";
import { createInstance, episode, lockOne, sleep } from "@durabletask/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSqliteBackend, type SqliteBackendOptions } from "../src/index.js";

// Work is handed off only to the process whose commit made it ready, and only while that
// process's dispatcher waits for it. These tests play two processes on one database file:
// `here` (the committing process) and `there` (another process polling the same task hub).

const dir = mkdtempSync(join(tmpdir(), "durabletask-hand-off-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
});

async function twoProcesses(options: SqliteBackendOptions = {}) {
  const path = join(dir, `hub-${++files}.sqlite3`);
  const here = createSqliteBackend({ ...options, path, workerName: "here" });
  const there = createSqliteBackend({ ...options, path, workerName: "there" });
  open.push(here, there);
  await here.start();
  await there.start();
  return { here, there };
}

/** Runs the first episode of a new instance on `backend`, scheduling `count` activities. */
async function scheduleActivity(backend: Backend, instanceId: string, count = 1) {
  await createInstance(backend, instanceId);
  const item = await lockOne(backend);
  const tasks = Array.from({ length: count }, (_, id) =>
    taskScheduledEvent(id, Date.now(), "Step", `"${id}"`),
  );
  await backend.completeOrchestrationWorkItem(
    item,
    episode(item, { events: tasks, activities: tasks }),
  );
}

describe("hand-off of ready work to this process's idle dispatcher", () => {
  it("leases the tasks an episode schedules in its commit; the next lock call here gets them", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(5)).toEqual([]); // five idle activity slots here
    await scheduleActivity(here, "a");

    expect(await there.lockActivityWorkItems(5)).toEqual([]);
    const [task, ...rest] = await here.lockActivityWorkItems(5);
    expect(rest).toEqual([]);
    expect(task).toMatchObject({ instanceId: "a", retryCount: 0 });
    expect(task?.event.eventType.case).toBe("taskScheduled");
    expect(task?.lockExpiresAtMs).toBeGreaterThan(Date.now());
  });

  it("looks at storage at once for the tasks a commit scheduled beyond the idle slots", async () => {
    const { here } = await twoProcesses();
    expect(await here.lockActivityWorkItems(2)).toEqual([]); // two idle activity slots here
    await scheduleActivity(here, "more", 3);
    // Two were handed off; the third is in storage, and this call finds it too (not 50 ms on).
    const locked = await here.lockActivityWorkItems(3);
    expect(locked.map((t) => t.event.eventId).sort()).toEqual([0, 1, 2]);
  });

  it("hands off a commit's first tasks in order; the rest are free for any process", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(2)).toEqual([]); // two idle activity slots here
    await scheduleActivity(here, "order", 3);
    const [third, ...none] = await there.lockActivityWorkItems(5);
    expect(none).toEqual([]);
    expect(third).toMatchObject({ instanceId: "order", retryCount: 0 });
    expect(third?.event.eventId).toBe(2);
    const handed = await here.lockActivityWorkItems(2);
    expect(handed.map((t) => [t.event.eventId, t.retryCount])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    // Each handed-off lease is the stored one: completing under it applies once.
    for (const task of handed) {
      await here.completeActivityWorkItem(
        task,
        taskCompletedEvent(Date.now(), task.event.eventId, '"r"'),
      );
      await expect(
        here.completeActivityWorkItem(
          task,
          taskCompletedEvent(Date.now(), task.event.eventId, '"r"'),
        ),
      ).rejects.toMatchObject({ code: "WorkItemLockLost" });
    }
  });

  it("leases the orchestration an activity result wakes in the result's commit", async () => {
    const { here, there } = await twoProcesses();
    await scheduleActivity(here, "b");
    const [task] = await here.lockActivityWorkItems(1);
    if (task === undefined) throw new Error("no task");
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]); // idle orchestration slots

    await here.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0, '"done"'));
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
    const [item, ...rest] = await here.lockOrchestrationWorkItems(5);
    expect(rest).toEqual([]);
    expect(item?.instanceId).toBe("b");
    expect(item?.newEvents.map((e) => e.eventType.case)).toEqual(["taskCompleted"]);
    expect(item?.history.map((e) => e.eventType.case)).toContain("taskScheduled");
    // It is an ordinary lease: the episode commits with it.
    if (item === undefined) throw new Error("no item");
    await here.completeOrchestrationWorkItem(item, episode(item, { status: "COMPLETED" }));
    expect((await there.getOrchestrationMetadata("b"))?.runtimeStatus).toBe("COMPLETED");
  });

  it("leases a fan-out's instance with its last result here, not its first", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(5)).toEqual([]); // idle activity slots
    await scheduleActivity(here, "fan", 3);
    const running = await here.lockActivityWorkItems(5);
    expect(running).toHaveLength(3);
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]); // idle orchestration slots

    for (const task of running) {
      await here.completeActivityWorkItem(
        task,
        taskCompletedEvent(Date.now(), task.event.eventId, '"r"'),
      );
    }
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
    const [woken, ...rest] = await here.lockOrchestrationWorkItems(5);
    expect(rest).toEqual([]);
    expect(woken?.instanceId).toBe("fan");
    expect(woken?.newEvents.map((e) => e.eventType.case)).toEqual([
      "taskCompleted",
      "taskCompleted",
      "taskCompleted",
    ]);
  });

  it("leases a new instance in its create commit", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    await createInstance(here, "j");
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
    const [item] = await here.lockOrchestrationWorkItems(5);
    expect(item?.instanceId).toBe("j");
    expect(item?.newEvents.map((e) => e.eventType.case)).toEqual(["executionStarted"]);
  });

  it("after a lock step that found work, leases a create only while no episode is leased here", async () => {
    const { here, there } = await twoProcesses();
    await createInstance(here, "first");
    const [first, ...none] = await here.lockOrchestrationWorkItems(5); // 1 of 5: a partial batch
    expect(none).toEqual([]);
    if (first === undefined) throw new Error("no item");

    // An episode is leased here: the process is busy, the create is left to lock steps.
    await createInstance(here, "busy");
    const [busy] = await there.lockOrchestrationWorkItems(5);
    expect(busy?.instanceId).toBe("busy");

    // Nothing leased here any more: the next create is leased in its commit.
    await here.completeOrchestrationWorkItem(first, episode(first, { status: "COMPLETED" }));
    await createInstance(here, "quiet");
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
    const [quiet] = await here.lockOrchestrationWorkItems(5);
    expect(quiet?.instanceId).toBe("quiet");
  });

  it("leaves no work item behind when a create finds its id taken", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const first = await createInstance(there, "k", { input: '"first"' }); // `there`: no idle slots
    await expect(createInstance(here, "k")).rejects.toMatchObject({ code: "InstanceExists" });
    // The waiting instance is the first create's, leased once, by whoever asks first.
    const [item, ...none] = await here.lockOrchestrationWorkItems(5);
    expect(none).toEqual([]);
    expect(item?.newEvents).toEqual([first]);
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
  });

  it("commits a new instance's first episode, run while the create waits, with the create", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const creating = createInstance(here, "fused");
    const item = await lockOne(here);
    expect(item).toMatchObject({ instanceId: "fused", history: [], retryCount: 0 });
    expect(item.newEvents.map((e) => e.eventType.case)).toEqual(["executionStarted"]);
    // Nothing is stored until the episode commits, and then both are, at once.
    expect(await there.getOrchestrationMetadata("fused")).toBeUndefined();
    const tasks = [taskScheduledEvent(0, Date.now(), "Step", '"0"')];
    await here.completeOrchestrationWorkItem(
      item,
      episode(item, { events: tasks, activities: tasks }),
    );
    await creating;
    expect((await there.getOrchestrationMetadata("fused"))?.runtimeStatus).toBe("RUNNING");
    const history = await there.getOrchestrationHistory("fused");
    expect(history.map((e) => e.eventType.case)).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "taskScheduled",
    ]);
    // No start event is left to deliver again, and the task is queued.
    expect(await there.lockOrchestrationWorkItems(5)).toEqual([]);
    const [task] = await there.lockActivityWorkItems(5);
    expect(task?.instanceId).toBe("fused");
  });

  it("commits a waiting create alone when its episode is abandoned, and the start runs again", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const creating = createInstance(here, "again");
    const item = await lockOne(here);
    await here.abandonOrchestrationWorkItem(item, 0);
    await creating;
    expect((await there.getOrchestrationMetadata("again"))?.runtimeStatus).toBe("PENDING");
    const [retry] = await there.lockOrchestrationWorkItems(5);
    expect(retry?.newEvents.map((e) => e.eventType.case)).toEqual(["executionStarted"]);
    expect(retry?.history).toEqual([]);
  });

  it("never applies an episode of a waiting create whose id turned out taken", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    await createInstance(there, "taken", { input: '"first"' }); // `there`: no idle slots
    const creating = createInstance(here, "taken", { input: '"second"' }).catch((e: unknown) => e);
    const item = await lockOne(here);
    const done = episode(item, { status: "COMPLETED", output: '"wrong"' });
    await expect(here.completeOrchestrationWorkItem(item, done)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    expect(await creating).toMatchObject({ code: "InstanceExists" });
    const stored = await there.getOrchestrationMetadata("taken");
    expect(stored).toMatchObject({ runtimeStatus: "PENDING", serializedInput: '"first"' });
    expect(await there.getOrchestrationHistory("taken")).toEqual([]);
    const [waiting] = await there.lockOrchestrationWorkItems(5);
    expect(waiting?.instanceId).toBe("taken");
  });

  it("applies calls on a waiting create's id in call order: the first create wins", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const first = createInstance(here, "twice", { input: '"first"' });
    const second = createInstance(here, "twice", { input: '"second"' }).catch((e: unknown) => e);
    await first;
    expect(await second).toMatchObject({ code: "InstanceExists" });
    const stored = await there.getOrchestrationMetadata("twice");
    expect(stored?.serializedInput).toBe('"first"');
  });

  it("delivers an event raised right after a create that waits for its episode", async () => {
    const { here } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const creating = createInstance(here, "raised");
    await here.addNewOrchestrationEvent("raised", eventRaisedEvent(Date.now(), "Go", '"now"'));
    await creating;
    const [item] = await here.lockOrchestrationWorkItems(5);
    expect(item?.instanceId).toBe("raised");
    expect(item?.newEvents.map((e) => e.eventType.case)).toEqual(["executionStarted"]);
    await here.completeOrchestrationWorkItem(
      item as OrchestrationWorkItem,
      episode(item as OrchestrationWorkItem),
    );
    const [next] = await here.lockOrchestrationWorkItems(5);
    expect(next?.newEvents.map((e) => e.eventType.case)).toEqual(["eventRaised"]);
  });

  it("commits waiting creates when the backend stops; another process runs them", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    const creating = createInstance(here, "stopping");
    await here.stop();
    await creating;
    const [item] = await there.lockOrchestrationWorkItems(5);
    expect(item?.instanceId).toBe("stopping");
  });

  it("hands nothing off while this process's dispatcher has no idle slots", async () => {
    const { here, there } = await twoProcesses();
    // `here` never asked for activity work: it has no idle activity slots.
    await scheduleActivity(here, "c");
    const [task] = await there.lockActivityWorkItems(5);
    expect(task?.instanceId).toBe("c");
    // A full batch leaves no idle slots either.
    await scheduleActivity(here, "d");
    expect(await here.lockActivityWorkItems(1)).toHaveLength(1);
    await scheduleActivity(here, "e");
    expect((await there.lockActivityWorkItems(5)).map((t) => t.instanceId)).toEqual(["e"]);
  });

  it("hands off nothing while storage has a backlog; batched lock steps take it", async () => {
    const { here, there } = await twoProcesses();
    await scheduleActivity(there, "m1");
    await scheduleActivity(there, "m2");
    // `here` found work in storage: it is not idle, so its own commit hands nothing off.
    expect(await here.lockActivityWorkItems(1)).toHaveLength(1);
    expect(await here.lockActivityWorkItems(5)).toHaveLength(1);
    await scheduleActivity(here, "m3");
    expect((await there.lockActivityWorkItems(5)).map((t) => t.instanceId)).toEqual(["m3"]);
  });

  it("still looks at storage while it is handed work", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
    await scheduleActivity(there, "x1"); // in storage only
    await scheduleActivity(here, "x2"); // handed off
    await scheduleActivity(here, "x3"); // handed off
    await sleep(60);
    // Handed work is not delayed by a look at storage; the next call, 50 ms after the last
    // look, looks there as well.
    expect((await here.lockActivityWorkItems(1)).map((t) => t.instanceId)).toEqual(["x2"]);
    const next = (await here.lockActivityWorkItems(5)).map((t) => t.instanceId);
    expect(next.sort()).toEqual(["x1", "x3"]);
  });

  it("gives back work nobody here takes within a second", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
    await scheduleActivity(here, "f");
    expect(await there.lockActivityWorkItems(5)).toEqual([]);
    await sleep(1300);
    const [task] = await there.lockActivityWorkItems(5);
    expect(task?.instanceId).toBe("f");
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
  });

  it("gives back queued work when the backend stops, so another process takes it at once", async () => {
    const { here, there } = await twoProcesses();
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
    expect(await here.lockOrchestrationWorkItems(5)).toEqual([]);
    await scheduleActivity(here, "g");
    await createInstance(there, "h");
    const [task] = await there.lockActivityWorkItems(5);
    expect(task).toBeUndefined();

    await here.stop();
    const [taken] = await there.lockActivityWorkItems(5);
    expect(taken?.instanceId).toBe("g");
    // The orchestration side too: "h" was never handed off and is there to take.
    expect((await there.lockOrchestrationWorkItems(5)).map((i) => i.instanceId)).toEqual(["h"]);
  });

  it("never hands out a queued task whose lease ran out; whoever locks it next runs it", async () => {
    const { here, there } = await twoProcesses({ activityLockTimeoutMs: 150 });
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
    await scheduleActivity(here, "i");
    await sleep(250);
    const [taken] = await there.lockActivityWorkItems(5);
    expect(taken?.instanceId).toBe("i");
    expect(await here.lockActivityWorkItems(5)).toEqual([]);
    if (taken === undefined) throw new Error("no task");
    await there.completeActivityWorkItem(taken, taskCompletedEvent(Date.now(), 0, '"once"'));
  });
});
