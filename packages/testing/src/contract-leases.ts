import {
  eventRaisedEvent,
  executionResumedEvent,
  executionSuspendedEvent,
  executionTerminatedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
  timerFiredEvent,
} from "@durabletask/api";
import { expect, it } from "vitest";
import {
  createInstance,
  episode,
  type Harness,
  kinds,
  leasedActivity,
  lockOne,
  runEpisode,
  sleep,
  sleepUntil,
  startEvent,
} from "./fixtures.js";

/** Leasing: FIFO order, suspension, leases expiring and renewed, lost leases. */
export function registerLeaseContract(h: Harness): void {
  it("counts ready work (the backlog metric) as a lock would see it, if it can count", async () => {
    const b = await h.start();
    if (b.countReadyWorkItems === undefined) return;
    expect(await b.countReadyWorkItems()).toEqual({ orchestration: 0, activity: 0 });
    const task = await leasedActivity(b, "with-task");
    // The instance ran its episode and its task is leased: nothing is ready.
    expect(await b.countReadyWorkItems()).toEqual({ orchestration: 0, activity: 0 });
    await b.abandonActivityWorkItem(task, 0);
    await createInstance(b, "ready-1");
    await createInstance(b, "ready-2");
    await b.addNewOrchestrationEvent("ready-2", eventRaisedEvent(Date.now(), "E"));
    expect(await b.countReadyWorkItems()).toEqual({ orchestration: 2, activity: 1 });
    const item = await lockOne(b);
    await b.abandonOrchestrationWorkItem(item, 60_000);
    expect(await b.countReadyWorkItems()).toEqual({ orchestration: 1, activity: 1 });
  });

  it("serves instances first in first out by their oldest visible event", async () => {
    const b = await h.start();
    await createInstance(b, "a");
    await runEpisode(b, "a");
    await createInstance(b, "b");
    await b.addNewOrchestrationEvent("a", eventRaisedEvent(Date.now(), "E"));
    expect((await b.lockOrchestrationWorkItems(2)).map((i) => i.instanceId)).toEqual(["b", "a"]);
  });

  it("leaves events that arrive during an episode for the next one", async () => {
    const b = await h.start();
    await createInstance(b, "busy");
    const item = await lockOne(b);
    const during = eventRaisedEvent(Date.now(), "During");
    await b.addNewOrchestrationEvent("busy", during);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await b.completeOrchestrationWorkItem(item, episode(item));
    const next = await lockOne(b);
    expect(next.newEvents).toEqual([during]);
    expect(next.retryCount).toBe(0);
    expect(kinds(next.history)).toEqual(["orchestratorStarted", "executionStarted"]);
  });

  it("hands out a suspended instance only for resume, then with all its events", async () => {
    const b = await h.start();
    await createInstance(b, "sus");
    await runEpisode(b, "sus");
    await b.addNewOrchestrationEvent("sus", executionSuspendedEvent(Date.now(), "pause"));
    await runEpisode(b, "sus", { status: "SUSPENDED" });
    const raised = eventRaisedEvent(Date.now(), "WhileSuspended");
    await b.addNewOrchestrationEvent("sus", raised);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    const resumed = executionResumedEvent(Date.now(), "go");
    await b.addNewOrchestrationEvent("sus", resumed);
    const item = await lockOne(b);
    expect(item.newEvents).toEqual([raised, resumed]);
  });

  it("hands out a suspended instance for terminate", async () => {
    const b = await h.start();
    await createInstance(b, "sus");
    await runEpisode(b, "sus", { status: "SUSPENDED" });
    await b.addNewOrchestrationEvent("sus", eventRaisedEvent(Date.now(), "E"));
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await b.addNewOrchestrationEvent("sus", executionTerminatedEvent(Date.now(), "stop"));
    expect(kinds((await lockOne(b)).newEvents)).toEqual(["eventRaised", "executionTerminated"]);
  });

  it("lets another caller take an expired lease; the old one then changes nothing", async () => {
    const b = await h.start({ orchestrationLockTimeoutMs: 200 });
    await createInstance(b, "other");
    await runEpisode(b, "other");
    const start = await createInstance(b, "exp");
    const stale = await lockOne(b);
    expect(stale.lockExpiresAtMs - Date.now()).toBeLessThanOrEqual(200);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await sleepUntil(stale.lockExpiresAtMs);
    const fresh = await lockOne(b);
    expect(fresh.instanceId).toBe("exp");
    expect(fresh.lockToken).not.toBe(stale.lockToken);
    expect(fresh.newEvents).toEqual([start]);
    expect(fresh.retryCount).toBe(1);
    const scheduled = taskScheduledEvent(0, Date.now(), "Act");
    const fireAtMs = Date.now();
    const commit = episode(stale, {
      status: "COMPLETED",
      events: [scheduled],
      activities: [scheduled],
      timers: [{ event: timerFiredEvent(fireAtMs, 1, fireAtMs), fireAtMs }],
      messages: [{ targetInstanceId: "other", event: eventRaisedEvent(Date.now(), "Hi") }],
    });
    await expect(b.completeOrchestrationWorkItem(stale, commit)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    await expect(b.abandonOrchestrationWorkItem(stale, 0)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    await expect(b.renewOrchestrationWorkItemLock(stale)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    expect((await b.getOrchestrationMetadata("exp"))?.runtimeStatus).toBe("PENDING");
    expect(await b.getOrchestrationHistory("exp")).toEqual([]);
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
    expect(await b.lockOrchestrationWorkItems(10)).toEqual([]);
    await b.completeOrchestrationWorkItem(fresh, episode(fresh));
    expect((await b.getOrchestrationMetadata("exp"))?.runtimeStatus).toBe("RUNNING");
  });

  it("renews an orchestration lease so that nobody else takes it", async () => {
    // Renewed half way, the lease outlives its first expiry by 200 ms.
    const b = await h.start({ orchestrationLockTimeoutMs: 400 });
    await createInstance(b, "renew");
    const item = await lockOne(b);
    await sleep(200);
    const expiresAt = await b.renewOrchestrationWorkItemLock(item);
    expect(expiresAt).toBeGreaterThan(item.lockExpiresAtMs);
    await sleepUntil(item.lockExpiresAtMs);
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    await b.completeOrchestrationWorkItem(item, episode(item));
    expect((await b.getOrchestrationMetadata("renew"))?.runtimeStatus).toBe("RUNNING");
  });

  it("reports retryCount as the highest delivery count of the events minus one", async () => {
    const b = await h.start();
    const start = await createInstance(b, "retry");
    await b.abandonOrchestrationWorkItem(await lockOne(b), 0);
    await b.abandonOrchestrationWorkItem(await lockOne(b), 0);
    const raised = eventRaisedEvent(Date.now(), "New");
    await b.addNewOrchestrationEvent("retry", raised);
    const item = await lockOne(b);
    expect(item.newEvents).toEqual([start, raised]);
    expect(item.retryCount).toBe(2);
  });

  it("leases activities with the activity lock timeout", async () => {
    const b = await h.start({ orchestrationLockTimeoutMs: 100, activityLockTimeoutMs: 60_000 });
    const task = await leasedActivity(b, "act");
    expect(task.lockExpiresAtMs - Date.now()).toBeGreaterThan(50_000);
    await sleep(150);
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
  });

  it("lets another caller take an expired activity lease; the old result is not delivered", async () => {
    const b = await h.start({ activityLockTimeoutMs: 200 });
    const stale = await leasedActivity(b, "act");
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    await sleepUntil(stale.lockExpiresAtMs);
    const [fresh] = await b.lockActivityWorkItems(1);
    expect(fresh?.sequenceNumber).toBe(stale.sequenceNumber);
    expect(fresh?.lockToken).not.toBe(stale.lockToken);
    expect(fresh?.retryCount).toBe(1);
    const staleResult = taskCompletedEvent(Date.now(), 0, '"stale"');
    await expect(b.completeActivityWorkItem(stale, staleResult)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    await expect(b.abandonActivityWorkItem(stale, 0)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    await expect(b.renewActivityWorkItemLock(stale)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    if (fresh === undefined) return;
    await b.completeActivityWorkItem(fresh, taskCompletedEvent(Date.now(), 0, '"fresh"'));
    const item = await lockOne(b);
    expect(item.newEvents[0]?.eventType.value).toMatchObject({
      taskScheduledId: 0,
      result: '"fresh"',
    });
  });

  it("renews an activity lease so that nobody else takes it", async () => {
    const b = await h.start({ activityLockTimeoutMs: 400 });
    const task = await leasedActivity(b, "act");
    await sleep(200);
    expect(await b.renewActivityWorkItemLock(task)).toBeGreaterThan(task.lockExpiresAtMs);
    await sleepUntil(task.lockExpiresAtMs);
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
    await b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0));
    expect(await b.lockActivityWorkItems(1)).toEqual([]);
  });

  it("serves activity tasks oldest first, several per call", async () => {
    const b = await h.start();
    await createInstance(b, "fan");
    const tasks = [0, 1, 2].map((i) => taskScheduledEvent(i, Date.now(), `T${i}`));
    await runEpisode(b, "fan", { events: tasks, activities: tasks });
    const first = await b.lockActivityWorkItems(2);
    expect(first.map((t) => t.event.eventId)).toEqual([0, 1]);
    expect(first[0]?.lockToken).toBe(first[1]?.lockToken);
    expect((await b.lockActivityWorkItems(2)).map((t) => t.event.eventId)).toEqual([2]);
  });

  it("validates counts, delays and results", async () => {
    const b = await h.start();
    for (const n of [0, -1, 1.5]) {
      await expect(b.lockOrchestrationWorkItems(n)).rejects.toMatchObject({
        code: "InvalidArgument",
      });
      await expect(b.lockActivityWorkItems(n)).rejects.toMatchObject({ code: "InvalidArgument" });
    }
    const task = await leasedActivity(b, "act");
    await expect(b.abandonActivityWorkItem(task, -5)).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await expect(b.completeActivityWorkItem(task, startEvent("x"))).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    await b.completeActivityWorkItem(task, taskCompletedEvent(Date.now(), 0));
  });
}
