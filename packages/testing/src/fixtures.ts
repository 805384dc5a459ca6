import { randomUUID } from "node:crypto";
import {
  type ExecutionStartedInit,
  executionCompletedEvent,
  executionStartedEvent,
  type FailureDetails,
  isTerminalStatus,
  msOfTimestamp,
  type OrchestrationStatus,
  orchestratorStartedEvent,
  taskScheduledEvent,
  toWireFailure,
  toWireStatus,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type {
  ActivityWorkItem,
  Backend,
  OrchestrationCommit,
  OrchestrationWorkItem,
} from "@durabletask/backend";
import { afterEach } from "vitest";
import type { BackendFactory, BackendFactoryOptions } from "./backend-factory.js";

/** Fresh backends for one test each, stopped after the test. */
export interface Harness {
  /** A fresh backend, not started. */
  create(options?: BackendFactoryOptions): Promise<Backend>;
  /** A fresh backend, started. */
  start(options?: BackendFactoryOptions): Promise<Backend>;
}

/** Registers the per-test cleanup (call inside a `describe`) and returns the harness. */
export function harness(factory: BackendFactory): Harness {
  const created: Backend[] = [];
  afterEach(async () => {
    await Promise.all(created.splice(0).map((b) => b.stop()));
  });
  const create = async (options: BackendFactoryOptions = {}) => {
    const backend = await factory(options);
    created.push(backend);
    return backend;
  };
  return {
    create,
    start: async (options = {}) => {
      const backend = await create(options);
      await backend.start();
      return backend;
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once the clock has passed `atMs` (plus a small margin). */
export async function sleepUntil(atMs: number): Promise<void> {
  const wait = atMs - Date.now() + 5;
  if (wait > 0) await sleep(wait);
}

/** An `executionStarted` event for `instanceId` with a fresh execution id. */
export function startEvent(
  instanceId: string,
  init: Partial<ExecutionStartedInit> = {},
  atMs: number = Date.now(),
): HistoryEvent {
  return executionStartedEvent(
    { name: "MyOrchestration", instanceId, executionId: randomUUID(), ...init },
    atMs,
  );
}

/** The execution id an `executionStarted` event carries. */
export function executionIdOf(event: HistoryEvent): string {
  if (event.eventType.case !== "executionStarted") throw new Error("not an executionStarted event");
  return event.eventType.value.orchestrationInstance?.executionId ?? "";
}

/** Creates an instance and returns its start event. */
export async function createInstance(
  backend: Backend,
  instanceId: string,
  init: Partial<ExecutionStartedInit> = {},
  atMs?: number,
): Promise<HistoryEvent> {
  const event = startEvent(instanceId, init, atMs);
  await backend.createOrchestrationInstance(event);
  return event;
}

/** Locks exactly one orchestration work item; fails the test otherwise. */
export async function lockOne(backend: Backend): Promise<OrchestrationWorkItem> {
  const items = await backend.lockOrchestrationWorkItems(1);
  const item = items[0];
  if (items.length !== 1 || item === undefined) {
    throw new Error(`expected one orchestration work item, got ${items.length}`);
  }
  return item;
}

/** The `executionStarted` payload of an item's history or new events. */
export function startedOf(item: OrchestrationWorkItem) {
  for (const e of [...item.history, ...item.newEvents]) {
    if (e.eventType.case === "executionStarted") return { event: e, value: e.eventType.value };
  }
  throw new Error(`work item of ${item.instanceId} has no executionStarted event`);
}

/** What an episode changes; everything else follows the work item. */
export interface EpisodeChanges extends Partial<Omit<OrchestrationCommit, "instance">> {
  readonly status?: OrchestrationStatus;
  readonly executionId?: string;
  readonly output?: string;
  readonly customStatus?: string;
  readonly failureDetails?: FailureDetails;
  /** Defaults to now for terminal statuses. */
  readonly completedAtMs?: number;
  /** Events appended after `orchestratorStarted` and the new events. */
  readonly events?: readonly HistoryEvent[];
}

/**
 * The commit of one episode of `item`: appends `orchestratorStarted`, the new events and
 * `changes.events`; status RUNNING unless changed; terminal statuses cancel pending work.
 */
export function episode(
  item: OrchestrationWorkItem,
  changes: EpisodeChanges = {},
): OrchestrationCommit {
  const {
    status = "RUNNING",
    executionId,
    output,
    customStatus,
    failureDetails,
    completedAtMs,
    events,
    ...rest
  } = changes;
  const started = startedOf(item);
  const now = Date.now();
  const terminal = isTerminalStatus(status);
  return {
    resetHistory: false,
    appendHistory: [orchestratorStartedEvent(now), ...item.newEvents, ...(events ?? [])],
    activities: [],
    timers: [],
    messages: [],
    subOrchestrations: [],
    cancelPendingWork: terminal,
    ...rest,
    instance: {
      runtimeStatus: status,
      executionId: executionId ?? started.value.orchestrationInstance?.executionId ?? "",
      name: started.value.name,
      version: started.value.version,
      parentInstanceId: started.value.parentInstance?.orchestrationInstance?.instanceId,
      createdAtMs: msOfTimestamp(started.event.timestamp) ?? now,
      lastUpdatedAtMs: now,
      completedAtMs: completedAtMs ?? (terminal ? now : undefined),
      output,
      customStatus,
      failureDetails,
    },
  };
}

/** The commit of a final episode ending with `executionCompleted` in `status`. */
export function completion(
  item: OrchestrationWorkItem,
  status: OrchestrationStatus,
  output?: string,
  failureDetails?: FailureDetails,
): OrchestrationCommit {
  const wireFailure = failureDetails === undefined ? undefined : toWireFailure(failureDetails);
  const completed = executionCompletedEvent(
    -1,
    Date.now(),
    toWireStatus(status),
    output,
    wireFailure,
  );
  return episode(item, { status, output, failureDetails, events: [completed] });
}

/** Runs one episode of the next work item (which must be `instanceId`'s) with `changes`. */
export async function runEpisode(
  backend: Backend,
  instanceId: string,
  changes: EpisodeChanges | ((item: OrchestrationWorkItem) => EpisodeChanges) = {},
): Promise<OrchestrationWorkItem> {
  const item = await lockOne(backend);
  if (item.instanceId !== instanceId) {
    throw new Error(`expected a work item of ${instanceId}, got ${item.instanceId}`);
  }
  const c = typeof changes === "function" ? changes(item) : changes;
  await backend.completeOrchestrationWorkItem(item, episode(item, c));
  return item;
}

/** Creates `id`, runs its first episode scheduling one activity, and returns the task's lease. */
export async function leasedActivity(backend: Backend, id: string): Promise<ActivityWorkItem> {
  await createInstance(backend, id);
  const scheduled = taskScheduledEvent(0, Date.now(), "Work", '"x"');
  await runEpisode(backend, id, { events: [scheduled], activities: [scheduled] });
  const [task] = await backend.lockActivityWorkItems(1);
  if (task === undefined) throw new Error("no activity work item");
  return task;
}

/** The `eventType.case` of each event. */
export function kinds(events: readonly HistoryEvent[]): string[] {
  return events.map((e) => e.eventType.case ?? "none");
}
