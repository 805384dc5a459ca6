import {
  eventRaisedEvent,
  executionSuspendedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type {
  ActivityWorkItem,
  Backend,
  OrchestrationCommit,
  OrchestrationWorkItem,
} from "@durabletask/backend";
import { expect, it } from "vitest";
import type { BackendFactoryOptions } from "./backend-factory.js";
import {
  completion,
  episode,
  type Harness,
  kinds,
  leasedActivity,
  lockOne,
  runEpisode,
  sleepUntil,
} from "./fixtures.js";

type Fused = NonNullable<Backend["completeActivityWithEpisode"]>;

/**
 * A started backend with instance `id` running and its one activity task leased, and the
 * backend's `completeActivityWithEpisode`; `undefined` when the backend does not offer one.
 */
async function leasedTask(
  h: Harness,
  id: string,
  options?: BackendFactoryOptions,
): Promise<{ b: Backend; fused: Fused; task: ActivityWorkItem } | undefined> {
  const b = await h.start(options);
  const fused = b.completeActivityWithEpisode?.bind(b);
  if (fused === undefined) return undefined;
  return { b, fused, task: await leasedActivity(b, id) };
}

const resultOf = (value: string) => taskCompletedEvent(Date.now(), 0, JSON.stringify(value));

/** Records the work items an episode runner got, and answers with `commit`. */
function runner(commit: (item: OrchestrationWorkItem) => OrchestrationCommit | undefined) {
  const items: OrchestrationWorkItem[] = [];
  const run = async (item: OrchestrationWorkItem) => {
    items.push(item);
    return commit(item);
  };
  return { items, run };
}

/** The result `newEvents` of the instance's next episode carry, leasing it. */
async function queuedResults(b: Backend): Promise<HistoryEvent[]> {
  const item = await lockOne(b);
  return item.newEvents.filter((e) => e.eventType.case === "taskCompleted");
}

/**
 * `completeActivityWithEpisode`, for backends that offer it: the result and the episode it
 * starts in one write, or the result alone through the inbox whenever the instance is not
 * exactly as the episode saw it.
 */
export function registerFusedContract(h: Harness): void {
  it("commits an activity's result with the episode it starts: history, status, no task left", async () => {
    const setup = await leasedTask(h, "fused");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    const changed: string[] = [];
    b.subscribe({ onInstanceChanged: (id, status) => changed.push(`${id}:${status}`) });
    const result = resultOf("done");
    const { items, run } = runner((item) => completion(item, "COMPLETED", '"out"'));
    await expect(fused(task, result, run)).resolves.toBe(true);
    const [item] = items;
    expect(item?.newEvents).toEqual([result]);
    expect(kinds(item?.history ?? [])).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "taskScheduled",
    ]);
    expect(item?.retryCount).toBe(0);
    expect(kinds(await b.getOrchestrationHistory("fused"))).toEqual([
      "orchestratorStarted",
      "executionStarted",
      "taskScheduled",
      "orchestratorStarted",
      "taskCompleted",
      "executionCompleted",
    ]);
    expect(await b.getOrchestrationMetadata("fused")).toMatchObject({
      runtimeStatus: "COMPLETED",
      serializedOutput: '"out"',
    });
    expect(changed).toContain("fused:COMPLETED");
    // Nothing is left to do: no inbox row for the result, no task, no lease held.
    expect(await b.lockOrchestrationWorkItems(10)).toEqual([]);
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
  });

  it("leaves a running instance unleased after the commit, and schedules its next tasks", async () => {
    const setup = await leasedTask(h, "next");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    const second = taskScheduledEvent(1, Date.now(), "Work", '"y"');
    const { run } = runner((item) => episode(item, { events: [second], activities: [second] }));
    await expect(fused(task, resultOf("one"), run)).resolves.toBe(true);
    const [nextTask] = await b.lockActivityWorkItems(10);
    expect(nextTask?.event.eventId).toBe(1);
    await b.addNewOrchestrationEvent("next", eventRaisedEvent(Date.now(), "E"));
    const item = await lockOne(b);
    expect(kinds(item.history).slice(-3)).toEqual([
      "orchestratorStarted",
      "taskCompleted",
      "taskScheduled",
    ]);
    expect(kinds(item.newEvents)).toEqual(["eventRaised"]);
  });

  it("queues the result without running the episode while the instance is leased", async () => {
    const setup = await leasedTask(h, "busy");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    await b.addNewOrchestrationEvent("busy", eventRaisedEvent(Date.now(), "E"));
    const held = await lockOne(b);
    const { items, run } = runner((item) => episode(item));
    await expect(fused(task, resultOf("r"), run)).resolves.toBe(false);
    expect(items).toEqual([]);
    await b.completeOrchestrationWorkItem(held, episode(held));
    const results = await queuedResults(b);
    expect(results.map((e) => e.eventType.value)).toMatchObject([{ result: '"r"' }]);
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
  });

  it("lets events that were waiting go first: the result is queued behind them", async () => {
    const setup = await leasedTask(h, "waiting");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    await b.addNewOrchestrationEvent("waiting", eventRaisedEvent(Date.now(), "First"));
    const { items, run } = runner((item) => episode(item));
    await expect(fused(task, resultOf("r"), run)).resolves.toBe(false);
    expect(items).toEqual([]);
    const item = await lockOne(b);
    expect(kinds(item.newEvents)).toEqual(["eventRaised", "taskCompleted"]);
  });

  it("queues the result of a suspended instance, which only resumes for it later", async () => {
    const setup = await leasedTask(h, "suspended");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    await b.addNewOrchestrationEvent("suspended", executionSuspendedEvent(Date.now()));
    await runEpisode(b, "suspended", { status: "SUSPENDED" });
    const { items, run } = runner((item) => episode(item));
    await expect(fused(task, resultOf("r"), run)).resolves.toBe(false);
    expect(items).toEqual([]);
    // Suspended: the queued result is not handed out.
    expect(await b.lockOrchestrationWorkItems(1)).toEqual([]);
    expect(await b.getOrchestrationMetadata("suspended")).toMatchObject({
      runtimeStatus: "SUSPENDED",
    });
  });

  it("applies nothing of the episode when another worker committed one while it ran", async () => {
    const setup = await leasedTask(h, "raced");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    const { run } = runner((item) => episode(item, { customStatus: '"fused"' }));
    const racing = async (item: OrchestrationWorkItem) => {
      // Another worker runs an episode of a raised event meanwhile, and commits first.
      await b.addNewOrchestrationEvent("raced", eventRaisedEvent(Date.now(), "E"));
      await runEpisode(b, "raced");
      return run(item);
    };
    await expect(fused(task, resultOf("r"), racing)).resolves.toBe(false);
    const history = await b.getOrchestrationHistory("raced");
    expect(kinds(history).filter((k) => k === "taskCompleted")).toEqual([]);
    expect((await b.getOrchestrationMetadata("raced"))?.serializedCustomStatus).toBeUndefined();
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
    // The result waits in the inbox, for an episode over the history as it now is.
    const item = await lockOne(b);
    expect(item.history).toHaveLength(history.length);
    expect(kinds(item.newEvents)).toEqual(["taskCompleted"]);
  });

  it("applies nothing of the episode when the instance is leased at commit time", async () => {
    const setup = await leasedTask(h, "leased-meanwhile");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    let held: OrchestrationWorkItem | undefined;
    const { run } = runner((item) => episode(item));
    const racing = async (item: OrchestrationWorkItem) => {
      await b.addNewOrchestrationEvent("leased-meanwhile", eventRaisedEvent(Date.now(), "E"));
      held = await lockOne(b);
      return run(item);
    };
    await expect(fused(task, resultOf("r"), racing)).resolves.toBe(false);
    if (held === undefined) throw new Error("the racing lease was not taken");
    // The lease holder's episode is unaffected and commits; the result comes next.
    await b.completeOrchestrationWorkItem(held, episode(held));
    expect(kinds(await queuedResults(b))).toEqual(["taskCompleted"]);
  });

  it("delivers the result alone when the runner declines the episode", async () => {
    const setup = await leasedTask(h, "declined");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    const { items, run } = runner(() => undefined);
    await expect(fused(task, resultOf("r"), run)).resolves.toBe(false);
    expect(items).toHaveLength(1);
    expect(kinds(await queuedResults(b))).toEqual(["taskCompleted"]);
    expect(await b.lockActivityWorkItems(10)).toEqual([]);
  });

  it("rethrows the runner's error and applies nothing: the task stays leased", async () => {
    const setup = await leasedTask(h, "threw");
    if (setup === undefined) return;
    const { b, fused, task } = setup;
    const failing = async (): Promise<OrchestrationCommit> => {
      throw new Error("executor down");
    };
    await expect(fused(task, resultOf("r"), failing)).rejects.toThrow("executor down");
    expect(await b.lockOrchestrationWorkItems(10)).toEqual([]);
    // Still this caller's: it can deliver the result the ordinary way.
    await b.completeActivityWorkItem(task, resultOf("r"));
    expect(kinds(await queuedResults(b))).toEqual(["taskCompleted"]);
  });

  it("applies nothing when the task's lease was lost while the episode ran", async () => {
    const setup = await leasedTask(h, "lost", { activityLockTimeoutMs: 200 });
    if (setup === undefined) return;
    const { b, fused, task: stale } = setup;
    let fresh: ActivityWorkItem | undefined;
    const { run } = runner((item) => completion(item, "COMPLETED"));
    const late = async (item: OrchestrationWorkItem) => {
      await sleepUntil(stale.lockExpiresAtMs);
      [fresh] = await b.lockActivityWorkItems(1);
      return run(item);
    };
    await expect(fused(stale, resultOf("stale"), late)).rejects.toMatchObject({
      code: "WorkItemLockLost",
    });
    expect(fresh?.sequenceNumber).toBe(stale.sequenceNumber);
    expect(await b.getOrchestrationMetadata("lost")).toMatchObject({ runtimeStatus: "RUNNING" });
    expect(await b.lockOrchestrationWorkItems(10)).toEqual([]);
    if (fresh === undefined) return;
    // The new lease holder delivers its own result, through its own episode.
    const { items, run: second } = runner((item) => completion(item, "COMPLETED", '"fresh"'));
    await expect(fused(fresh, resultOf("fresh"), second)).resolves.toBe(true);
    expect(items[0]?.newEvents.map((e) => e.eventType.value)).toMatchObject([
      { result: '"fresh"' },
    ]);
  });

  it("rejects a result that is not a task result, naming the field", async () => {
    const setup = await leasedTask(h, "bad");
    if (setup === undefined) return;
    const { fused, task } = setup;
    const { items, run } = runner((item) => episode(item));
    await expect(fused(task, eventRaisedEvent(Date.now(), "E"), run)).rejects.toMatchObject({
      code: "InvalidArgument",
      message: expect.stringContaining("result"),
    });
    expect(items).toEqual([]);
  });
}
