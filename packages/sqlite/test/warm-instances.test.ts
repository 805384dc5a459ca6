import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  eventRaisedEvent,
  executionStartedEvent,
  orchestratorStartedEvent,
  taskCompletedEvent,
  taskScheduledEvent,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type { Backend, OrchestrationCommit, OrchestrationWorkItem } from "@durabletask/backend";
import { createSqlBackend, type SqlDriver, type SqlStatement } from "@durabletask/backend/sql";
import { episode as episodeOf, leasedActivity, lockOne } from "@durabletask/testing";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSqliteBackend, createSqliteDriver } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-history-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const open: Backend[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.stop()));
});

/** Two backends (as two processes would) on one new database file. */
async function twoBackends(orchestrationLockTimeoutMs?: number): Promise<[Backend, Backend]> {
  const path = join(dir, `cache-${++files}.sqlite3`);
  const options = { path, orchestrationLockTimeoutMs };
  const a = createSqliteBackend({ ...options, workerName: "a" });
  const b = createSqliteBackend({ ...options, workerName: "b" });
  open.push(a, b);
  await a.start();
  await b.start();
  return [a, b];
}

const id = "cached";
let clock = Date.now();

function create(backend: Backend, execution: string) {
  return backend.createOrchestrationInstance(
    executionStartedEvent({ name: "Long", instanceId: id, executionId: execution }, ++clock),
  );
}

function raise(backend: Backend, name = "Next") {
  return backend.addNewOrchestrationEvent(id, eventRaisedEvent(++clock, name, `"${name}"`));
}

/** `count` distinct events, tagged so that two writers' events never look alike. */
function filler(count: number, tag: string): HistoryEvent[] {
  return Array.from({ length: count }, (_, i) => eventRaisedEvent(++clock, `${tag}-${i}`));
}

/** A commit appending the new events and `extra` events (long histories get cached). */
function commitOf(
  item: OrchestrationWorkItem,
  execution: string,
  extra: HistoryEvent[],
  overrides: Partial<OrchestrationCommit> = {},
): OrchestrationCommit {
  return {
    resetHistory: false,
    appendHistory: [orchestratorStartedEvent(++clock), ...item.newEvents, ...extra],
    instance: {
      runtimeStatus: "RUNNING",
      executionId: execution,
      name: "Long",
      createdAtMs: clock,
      lastUpdatedAtMs: clock,
    },
    activities: [],
    timers: [],
    messages: [],
    subOrchestrations: [],
    cancelPendingWork: false,
    ...overrides,
  };
}

async function lockIt(backend: Backend): Promise<OrchestrationWorkItem> {
  const [item] = await backend.lockOrchestrationWorkItems(1);
  if (item?.instanceId !== id) throw new Error("the instance was not handed out");
  return item;
}

/** Locks the instance on `backend` and commits `extra` events more. */
async function episode(backend: Backend, execution: string, extra: HistoryEvent[]) {
  const item = await lockIt(backend);
  await backend.completeOrchestrationWorkItem(item, commitOf(item, execution, extra));
  return item;
}

/** On `b`: completes execution `exec-1` of the instance, purges it and creates it anew, same ids. */
async function completePurgeAndCreateAgain(b: Backend): Promise<void> {
  await raise(b);
  const item = await lockIt(b);
  const instance = {
    runtimeStatus: "COMPLETED" as const,
    executionId: "exec-1",
    name: "Long",
    createdAtMs: clock,
    lastUpdatedAtMs: clock,
    completedAtMs: clock,
  };
  await b.completeOrchestrationWorkItem(item, commitOf(item, "exec-1", [], { instance }));
  await b.purgeOrchestrationState(id);
  await create(b, "exec-1");
}

/** `a` has committed a long history of the instance, so it keeps it in memory. */
async function warm(a: Backend): Promise<void> {
  await create(a, "exec-1");
  await episode(a, "exec-1", filler(80, "a"));
  await raise(a);
  await episode(a, "exec-1", filler(3, "a2"));
}

/**
 * On a backend that caches one history: long histories for `y`, then `x` (the one cached now),
 * `y` leased for a new event, and a new event for `x`. Returns `y`'s work item.
 */
async function xCachedYLeased(a: Backend): Promise<OrchestrationWorkItem> {
  for (const instanceId of ["y", "x"]) {
    await a.createOrchestrationInstance(
      executionStartedEvent({ name: "Long", instanceId, executionId: "e" }, ++clock),
    );
    const [item] = await a.lockOrchestrationWorkItems(1);
    if (item === undefined) throw new Error(`${instanceId} was not handed out`);
    await a.completeOrchestrationWorkItem(item, commitOf(item, "e", filler(80, instanceId)));
  }
  await a.addNewOrchestrationEvent("y", eventRaisedEvent(++clock, "Next"));
  const [y] = await a.lockOrchestrationWorkItems(1);
  if (y?.instanceId !== "y") throw new Error("y was not handed out");
  await a.addNewOrchestrationEvent("x", eventRaisedEvent(++clock, "Next"));
  return y;
}

/** A SQLite driver on a new file whose batches fail with "injected read failure" when `fails`. */
function faultyDriver(
  fails: (statements: readonly SqlStatement[], mode: "read" | "write") => boolean | undefined,
): SqlDriver {
  const driver = createSqliteDriver({
    path: join(dir, `cache-${++files}.sqlite3`),
    synchronous: "NORMAL",
    busyTimeoutMs: 1000,
  });
  return {
    description: driver.description,
    batch: (statements, mode) =>
      fails(statements, mode)
        ? Promise.reject(new Error("injected read failure"))
        : driver.batch(statements, mode),
    close: () => driver.close(),
  };
}

describe("sqlite history cache", () => {
  it("hands out the events another backend committed after the cached ones", async () => {
    const [a, b] = await twoBackends();
    await warm(a);
    await raise(b);
    await episode(b, "exec-1", filler(5, "b"));
    await raise(b, "Last");
    const item = await lockIt(a);
    expect(item.history).toEqual(await b.getOrchestrationHistory(id));
    expect(item.history.length).toBeGreaterThan(90);
  });

  it("reads the whole history again after another backend continued the instance as new", async () => {
    const [a, b] = await twoBackends();
    await warm(a);
    await raise(b);
    const item = await lockIt(b);
    // As many events as before or more, all different: only the contents tell them apart.
    const rewritten = commitOf(item, "exec-2", filler(120, "b"), { resetHistory: true });
    await b.completeOrchestrationWorkItem(item, rewritten);
    await raise(b, "Last");
    const again = await lockIt(a);
    expect(again.history).toEqual(await b.getOrchestrationHistory(id));
    expect(again.history).toHaveLength(rewritten.appendHistory.length);
  });

  it("reads the whole history again after the instance was purged and created anew", async () => {
    const [a, b] = await twoBackends();
    await warm(a);
    await completePurgeAndCreateAgain(b);
    const fresh = await lockIt(a);
    expect(fresh.history).toEqual([]);
    expect(fresh.newEvents.map((e) => e.eventType.case)).toEqual(["executionStarted"]);
  });

  it("does not keep the history of a commit that lost its lease", async () => {
    const [a, b] = await twoBackends(50);
    await warm(a);
    await raise(a);
    const lost = await lockIt(a);
    await new Promise((resolve) => setTimeout(resolve, 80));
    // b takes over the expired lease and commits; a's late commit is refused.
    await episode(b, "exec-1", filler(4, "b"));
    await expect(
      a.completeOrchestrationWorkItem(lost, commitOf(lost, "exec-1", filler(4, "lost"))),
    ).rejects.toMatchObject({ code: "WorkItemLockLost" });
    await raise(b, "Last");
    const item = await lockIt(a);
    expect(item.history).toEqual(await b.getOrchestrationHistory(id));
    const names = item.history.map((e) =>
      e.eventType.case === "eventRaised" ? e.eventType.value.name : "",
    );
    expect(names).not.toContain("lost-0");
    expect(names).toContain("b-0");
  });

  it("reads a history whole when its cached prefix was dropped while the lock step ran", async () => {
    const a = createSqliteBackend({
      path: join(dir, `cache-${++files}.sqlite3`),
      historyCacheSize: 1,
    });
    open.push(a);
    await a.start();
    const y = await xCachedYLeased(a);
    // y's commit caches y's history (dropping x's) while the lock step that read only the tail
    // of x's history, the prefix being cached, is under way.
    const committed = a.completeOrchestrationWorkItem(y, commitOf(y, "e", filler(2, "y2")));
    const locked = a.lockOrchestrationWorkItems(1);
    await committed;
    const [x] = await locked;
    expect(x?.instanceId).toBe("x");
    expect(x?.history).toEqual(await a.getOrchestrationHistory("x"));
  });

  it("gives the leases back when reading a history whole fails after the lock step", async () => {
    let failWholeReads = false;
    const faulty = faultyDriver(
      (statements) =>
        failWholeReads && statements[0]?.sql.startsWith("SELECT EventPayload FROM History"),
    );
    const a = createSqlBackend({ driver: faulty, historyCacheSize: 1 });
    open.push(a);
    await a.start();
    const y = await xCachedYLeased(a);
    // As in the race above, x's cached prefix is gone when its rows come back: x is read whole,
    // and that read fails.
    failWholeReads = true;
    const committed = a.completeOrchestrationWorkItem(y, commitOf(y, "e", filler(2, "y2")));
    const locked = a.lockOrchestrationWorkItems(1);
    await committed;
    await expect(locked).rejects.toThrow("injected read failure");
    failWholeReads = false;
    // Given back at once, not left leased for the 30 s lock timeout.
    let again: OrchestrationWorkItem[] = [];
    for (let i = 0; i < 50 && again.length === 0; i++) {
      again = await a.lockOrchestrationWorkItems(1);
      if (again.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(again[0]?.instanceId).toBe("x");
    expect(again[0]?.history).toEqual(await a.getOrchestrationHistory("x"));
  });

  it("delivers an activity's result alone when reading the instance for its episode fails", async () => {
    let failReads = false;
    // With no history kept in memory, the instance is read before the episode.
    const a = createSqlBackend({
      driver: faultyDriver((_, mode) => failReads && mode === "read"),
      historyCacheSize: 0,
    });
    open.push(a);
    await a.start();
    const task = await leasedActivity(a, "peek");
    failReads = true;
    const runs: OrchestrationWorkItem[] = [];
    const result = taskCompletedEvent(Date.now(), 0, '"r"');
    const run = async (item: OrchestrationWorkItem) => {
      runs.push(item);
      return undefined;
    };
    await expect(a.completeActivityWithEpisode?.(task, result, run)).resolves.toBe(false);
    failReads = false;
    expect(runs).toEqual([]);
    const item = await lockOne(a);
    expect(item.newEvents).toEqual([result]);
    expect(await a.lockActivityWorkItems(1)).toEqual([]);
  });

  it("never changes the history of a work item it handed out, even after its lease ran out", async () => {
    const [a] = await twoBackends(50);
    await warm(a);
    await raise(a);
    const held = await lockIt(a);
    const before = [...held.history];
    await new Promise((resolve) => setTimeout(resolve, 80));
    await raise(a, "Last");
    // The lease ran out: the instance goes to a new work item, which commits more events.
    await episode(a, "exec-1", filler(4, "again"));
    await raise(a, "After");
    const next = await lockIt(a);
    expect(held.history).toEqual(before);
    expect(next.history).toEqual(await a.getOrchestrationHistory(id));
    expect(next.history.length).toBeGreaterThan(before.length);
    // The late commit of the held item is refused and changes nothing.
    await expect(
      a.completeOrchestrationWorkItem(held, commitOf(held, "exec-1", filler(2, "late"))),
    ).rejects.toMatchObject({ code: "WorkItemLockLost" });
    expect(held.history).toEqual(before);
    expect(next.history).toEqual(await a.getOrchestrationHistory(id));
  });

  it("extends a warm history in place, keeps it across an abandon, and starts anew on a reset", async () => {
    const [a] = await twoBackends();
    await warm(a);
    await raise(a);
    const first = await lockIt(a);
    await a.completeOrchestrationWorkItem(first, commitOf(first, "exec-1", filler(2, "x")));
    await raise(a);
    const second = await lockIt(a);
    // The same array, not a copy: a step costs the same however long the history is.
    expect(second.history).toBe(first.history);
    expect(second.history).toEqual(await a.getOrchestrationHistory(id));
    await a.abandonOrchestrationWorkItem(second, 0);
    const retried = await lockIt(a);
    expect(retried.history).toBe(second.history);
    expect(retried.history).toEqual(await a.getOrchestrationHistory(id));
    const reset = commitOf(retried, "exec-2", filler(70, "new"), { resetHistory: true });
    await a.completeOrchestrationWorkItem(retried, reset);
    await raise(a);
    const renewed = await lockIt(a);
    expect(renewed.history).not.toBe(retried.history);
    expect(renewed.history).toEqual(await a.getOrchestrationHistory(id));
    expect(renewed.history).toHaveLength(reset.appendHistory.length);
  });

  it("reuses a short cached history read whole, with the events committed after it", async () => {
    const [a, b] = await twoBackends();
    await create(a, "exec-1");
    const first = await episode(a, "exec-1", filler(2, "a"));
    await raise(a);
    const second = await lockIt(a);
    // Short histories are read whole, but the cached events are not decoded again.
    expect(second.history).toBe(first.history);
    await a.completeOrchestrationWorkItem(second, commitOf(second, "exec-1", filler(1, "a2")));
    await raise(b);
    await episode(b, "exec-1", filler(3, "b"));
    await raise(b, "Last");
    const third = await lockIt(a);
    expect(third.history).toBe(first.history);
    expect(third.history).toEqual(await b.getOrchestrationHistory(id));
  });

  it("decodes a short history anew when the rows are another execution's, even where alike", async () => {
    const [a, b] = await twoBackends();
    // The same event object at the same position in both executions: equal bytes there.
    const alike = eventRaisedEvent(++clock, "alike");
    await create(a, "exec-1");
    const item = await lockIt(a);
    await a.completeOrchestrationWorkItem(item, commitOf(item, "exec-1", [alike]));
    expect(await a.getOrchestrationHistory(id)).toHaveLength(3);
    await raise(b);
    const next = await lockIt(b);
    const reset = commitOf(next, "exec-2", [], {
      resetHistory: true,
      appendHistory: [
        orchestratorStartedEvent(++clock),
        executionStartedEvent({ name: "Long", instanceId: id, executionId: "exec-2" }, ++clock),
        alike,
        ...filler(2, "b"),
      ],
    });
    await b.completeOrchestrationWorkItem(next, reset);
    await raise(b, "Last");
    const again = await lockIt(a);
    expect(again.history).toEqual(await b.getOrchestrationHistory(id));
    expect(again.history).toHaveLength(5);
  });

  it("decodes a short history anew after a purge and a create of the same execution id", async () => {
    const [a, b] = await twoBackends();
    await create(a, "exec-1");
    await episode(a, "exec-1", filler(1, "a"));
    await completePurgeAndCreateAgain(b);
    await episode(b, "exec-1", filler(4, "b"));
    await raise(b, "Last");
    const again = await lockIt(a);
    expect(again.history).toEqual(await b.getOrchestrationHistory(id));
  });

  it("refuses a historyCacheSize that is not an integer from 0 to 4096", () => {
    for (const historyCacheSize of [-1, 1.5, 5000]) {
      expect(() => createSqliteBackend({ historyCacheSize })).toThrow(/^historyCacheSize:/);
    }
  });
});

describe("sqlite work for an instance leased here", () => {
  it("is announced when the lease ends, not while the episode runs", async () => {
    const [a] = await twoBackends();
    await create(a, "exec-1");
    const first = await lockIt(a);
    const tasks = [taskScheduledEvent(0, ++clock, "Step"), taskScheduledEvent(1, ++clock, "Step")];
    await a.completeOrchestrationWorkItem(
      first,
      commitOf(first, "exec-1", [], { activities: tasks }),
    );
    const activities = await a.lockActivityWorkItems(2);
    expect(activities).toHaveLength(2);
    await raise(a);
    const leased = await lockIt(a);
    let wakeUps = 0;
    a.subscribe({ onWork: (kind) => (kind === "orchestration" ? wakeUps++ : undefined) });
    const [one, two] = activities;
    if (one === undefined || two === undefined) throw new Error("no activity");
    await a.completeActivityWorkItem(one, taskCompletedEvent(++clock, 0, "1"));
    expect(wakeUps).toBe(0);
    await a.completeOrchestrationWorkItem(leased, commitOf(leased, "exec-1", []));
    expect(wakeUps).toBeGreaterThan(0);
    const next = await lockIt(a);
    expect(next.newEvents.map((e) => e.eventType.case)).toEqual(["taskCompleted"]);
    wakeUps = 0;
    await a.completeActivityWorkItem(two, taskCompletedEvent(++clock, 1, "2"));
    expect(wakeUps).toBe(0);
    await a.abandonOrchestrationWorkItem(next, 0);
    expect(wakeUps).toBeGreaterThan(0);
    const last = await lockIt(a);
    expect(last.newEvents.map((e) => e.eventType.case)).toEqual(["taskCompleted", "taskCompleted"]);
  });
});

describe("sqlite schema upgrade", () => {
  it("brings a version-1 database's indexes up to date when it opens, keeping its data", async () => {
    const path = join(dir, `upgrade-${++files}.sqlite3`);
    const old = createSqliteBackend({ path });
    await old.start();
    await old.createOrchestrationInstance(
      executionStartedEvent({ name: "Old", instanceId: "kept", executionId: "e" }, ++clock),
    );
    await old.stop();
    // What a database written before the index existed looks like.
    const raw = new Database(path);
    raw.exec("DROP INDEX IX_Inbox_Starts");
    raw.exec("CREATE INDEX IX_Instances_LockedBy ON Instances (LockedBy)");
    raw.close();
    const upgraded = createSqliteBackend({ path });
    open.push(upgraded);
    await upgraded.start();
    const check = new Database(path, { readonly: true });
    const indexes = check
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'IX_%'")
      .pluck()
      .all();
    check.close();
    // The start-row index is added; the lease-token index (rewritten by every lease and
    // release) is dropped.
    expect(indexes).toContain("IX_Inbox_Starts");
    expect(indexes).not.toContain("IX_Instances_LockedBy");
    const [item] = await upgraded.lockOrchestrationWorkItems(1);
    expect(item?.instanceId).toBe("kept");
  });
});

describe("an activity result's episode from the history this process last committed", () => {
  const result = () => taskCompletedEvent(Date.now(), 0, '"r"');
  /**
   * Records the history each episode a runner got started from (the array is the commit's to
   * extend), committing each as an episode that appends nothing more.
   */
  function recording() {
    const runs: (string | undefined)[][] = [];
    const run = async (item: OrchestrationWorkItem) => {
      runs.push(item.history.map((e) => e.eventType.case));
      return episodeOf(item);
    };
    return { runs, run };
  }

  /** `a` ran the first episode of `instanceId` (it keeps the history) and holds its task. */
  async function taskOnA(instanceId: string) {
    const [a, b] = await twoBackends();
    const task = await leasedActivity(a, instanceId);
    const fused = a.completeActivityWithEpisode?.bind(a);
    if (fused === undefined) throw new Error("the SQLite backend commits results with episodes");
    return { a, b, task, fused };
  }

  it("reads nothing before the episode: one write commits it", async () => {
    let reads = 0;
    const driver = faultyDriver((_, mode) => {
      if (mode === "read") reads++;
      return false;
    });
    const a = createSqlBackend({ driver });
    open.push(a);
    await a.start();
    const task = await leasedActivity(a, "unread");
    reads = 0;
    const { runs, run } = recording();
    await expect(a.completeActivityWithEpisode?.(task, result(), run)).resolves.toBe(true);
    expect(reads).toBe(0);
    expect(runs).toEqual([["orchestratorStarted", "executionStarted", "taskScheduled"]]);
    expect(await a.lockActivityWorkItems(1)).toEqual([]);
  });

  it("applies nothing when another process queued an event meanwhile: that event goes first", async () => {
    const { a, b, task, fused } = await taskOnA("raised-there");
    await b.addNewOrchestrationEvent("raised-there", eventRaisedEvent(Date.now(), "First"));
    const { run } = recording();
    await expect(fused(task, result(), run)).resolves.toBe(false);
    const item = await lockOne(a);
    expect(item.history).toHaveLength(3);
    expect(item.newEvents.map((e) => e.eventType.case)).toEqual(["eventRaised", "taskCompleted"]);
    expect(await a.lockActivityWorkItems(1)).toEqual([]);
  });

  it("applies nothing when another process committed an episode meanwhile", async () => {
    const { a, b, task, fused } = await taskOnA("stepped-there");
    await b.addNewOrchestrationEvent("stepped-there", eventRaisedEvent(Date.now(), "E"));
    const there = await lockOne(b);
    await b.completeOrchestrationWorkItem(there, episodeOf(there));
    const { run } = recording();
    await expect(fused(task, result(), run)).resolves.toBe(false);
    const item = await lockOne(a);
    expect(item.history.map((e) => e.eventType.case).slice(-2)).toEqual([
      "orchestratorStarted",
      "eventRaised",
    ]);
    expect(item.newEvents.map((e) => e.eventType.case)).toEqual(["taskCompleted"]);
  });

  it("does not run the episode of an instance this process queued an event for", async () => {
    const { a, task, fused } = await taskOnA("raised-here");
    await a.addNewOrchestrationEvent("raised-here", eventRaisedEvent(Date.now(), "First"));
    const { runs, run } = recording();
    await expect(fused(task, result(), run)).resolves.toBe(false);
    expect(runs).toEqual([]);
    const item = await lockOne(a);
    expect(item.newEvents.map((e) => e.eventType.case)).toEqual(["eventRaised", "taskCompleted"]);
  });
});
