import type { FailureDetails, OrchestrationMetadata, OrchestrationStatus } from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";

/**
 * What to do when an instance id is already taken (durabletask-go's reuse policy).
 *
 * If the existing instance's status is in `statuses`, `action` applies: `"error"` rejects with
 * `InstanceExists`, `"ignore"` keeps the existing instance and reports `created: false`,
 * `"terminate"` deletes the existing instance's state and creates the new one. Any other
 * existing status rejects with `InstanceExists`. Without a policy every existing id is rejected.
 */
export interface ReusePolicy {
  readonly action: "error" | "ignore" | "terminate";
  readonly statuses: readonly OrchestrationStatus[];
}

/** Options of {@link Backend.createOrchestrationInstance}. */
export interface CreateInstanceOptions {
  readonly reusePolicy?: ReusePolicy | undefined;
}

/** Result of {@link Backend.createOrchestrationInstance}. */
export interface CreateInstanceResult {
  /** False when a reuse policy with action `"ignore"` kept an existing instance. */
  readonly created: boolean;
}

/**
 * One orchestration instance locked for one episode, with everything needed to run it: its
 * committed history and the inbox events claimed for this episode.
 */
export interface OrchestrationWorkItem {
  readonly instanceId: string;
  /** The lease's owner token; every write of the episode is conditional on it. */
  readonly lockToken: string;
  /** Epoch ms when the lease runs out unless renewed. */
  readonly lockExpiresAtMs: number;
  /**
   * Committed history, oldest first. It is the item's until the item is completed or abandoned;
   * after that the backend may reuse the array (a warm instance's next item extends it instead
   * of copying it), so read it before, never after.
   */
  readonly history: readonly HistoryEvent[];
  /** Inbox events claimed for this episode, in arrival order. */
  readonly newEvents: readonly HistoryEvent[];
  /** How many times these events were handed out before (0 on first delivery). */
  readonly retryCount: number;
}

/** An activity task locked for execution. */
export interface ActivityWorkItem {
  /**
   * The task's queue position, unique among the backend's tasks; a number may be used again once
   * its task is gone (leases are told apart by `lockToken`).
   */
  readonly sequenceNumber: number;
  readonly instanceId: string;
  /** The execution of the orchestration that scheduled it. */
  readonly executionId: string;
  readonly lockToken: string;
  readonly lockExpiresAtMs: number;
  /** The `taskScheduled` history event; its `eventId` is the task id. */
  readonly event: HistoryEvent;
  /** How many times this task was handed out before (0 on first delivery). */
  readonly retryCount: number;
}

/**
 * The instance row after an episode. Undefined `input`, `parentInstanceId` and `customStatus`
 * keep the stored values
 * (history does not carry custom status, so an episode that does not set it must not erase it).
 */
export interface InstanceUpdate {
  readonly runtimeStatus: OrchestrationStatus;
  readonly executionId: string;
  readonly name: string;
  readonly version?: string | undefined;
  readonly input?: string | undefined;
  readonly parentInstanceId?: string | undefined;
  readonly createdAtMs: number;
  readonly lastUpdatedAtMs: number;
  readonly completedAtMs?: number | undefined;
  readonly output?: string | undefined;
  readonly failureDetails?: FailureDetails | undefined;
  readonly customStatus?: string | undefined;
}

/** A message an episode sends to another instance's inbox. */
export interface OutboundMessage {
  readonly targetInstanceId: string;
  readonly event: HistoryEvent;
  /**
   * When set, the message is delivered only while the target's current execution is this one
   * (results for a parent that has since continued-as-new or been replaced are dropped).
   */
  readonly targetExecutionId?: string | undefined;
}

/** A sub-orchestration an episode creates. */
export interface SubOrchestrationStart {
  /** The child's `executionStarted` event (carries the child id and parent info). */
  readonly startEvent: HistoryEvent;
  /**
   * Delivered to the parent's own inbox instead when the child id is held by an instance that is
   * not in a terminal state (a terminal one is replaced). Never wedges the parent.
   */
  readonly conflictEvent: HistoryEvent;
}

/** A durable timer: `event` (a `timerFired`) becomes visible in the instance's inbox at `fireAtMs`. */
export interface TimerStart {
  readonly event: HistoryEvent;
  readonly fireAtMs: number;
}

/**
 * Everything one episode writes, applied atomically by
 * {@link Backend.completeOrchestrationWorkItem}: history, instance row, outbox, and the release of
 * the claimed inbox events and of the lease.
 */
export interface OrchestrationCommit {
  /** Delete the stored history first (continue-as-new); `appendHistory` then starts at 0. */
  readonly resetHistory: boolean;
  /** Events appended to history, in order. */
  readonly appendHistory: readonly HistoryEvent[];
  readonly instance: InstanceUpdate;
  /** `taskScheduled` events to enqueue as activity tasks of `instance.executionId`. */
  readonly activities: readonly HistoryEvent[];
  readonly timers: readonly TimerStart[];
  readonly messages: readonly OutboundMessage[];
  readonly subOrchestrations: readonly SubOrchestrationStart[];
  /**
   * Drop work of earlier executions and not-yet-run work of this one: pending activity tasks,
   * future timers and execution-scoped inbox rows. Set on terminal completion and
   * continue-as-new.
   */
  readonly cancelPendingWork: boolean;
}

/** Filters and paging of {@link Backend.queryInstances}. */
export interface InstanceQuery {
  readonly statuses?: readonly OrchestrationStatus[] | undefined;
  readonly createdFrom?: Date | undefined;
  readonly createdTo?: Date | undefined;
  readonly instanceIdPrefix?: string | undefined;
  /** Page size, 1–1000; default 100. */
  readonly pageSize?: number | undefined;
  /** The token of the previous page; absent for the first page. */
  readonly continuationToken?: string | undefined;
  readonly fetchPayloads?: boolean | undefined;
}

/** One page of {@link Backend.queryInstances}; `continuationToken` is absent on the last page. */
export interface InstanceQueryPage {
  readonly instances: readonly OrchestrationMetadata[];
  readonly continuationToken?: string | undefined;
}

/** Filters and paging of {@link Backend.listInstanceIds}. */
export interface InstanceIdQuery {
  readonly statuses?: readonly OrchestrationStatus[] | undefined;
  readonly completedFrom?: Date | undefined;
  readonly completedTo?: Date | undefined;
  readonly pageSize?: number | undefined;
  readonly lastInstanceKey?: string | undefined;
}

/** One page of {@link Backend.listInstanceIds}; `lastInstanceKey` is absent on the last page. */
export interface InstanceIdPage {
  readonly instanceIds: readonly string[];
  readonly lastInstanceKey?: string | undefined;
}

/** Which terminal instances {@link Backend.purgeInstances} deletes. */
export interface PurgeFilter {
  readonly createdFrom?: Date | undefined;
  readonly createdTo?: Date | undefined;
  /** Terminal statuses only; default all terminal statuses. */
  readonly statuses?: readonly OrchestrationStatus[] | undefined;
}

/** The kinds of queued work. */
export type WorkKind = "orchestration" | "activity";

/** Listeners for what a backend writes, so in-process workers and waiters react at once. */
export interface BackendListener {
  /** Work of `kind` becomes visible at `visibleAtMs` (now or later). */
  onWork?(kind: WorkKind, visibleAtMs: number): void;
  /**
   * An instance's stored state changed (committed episode, purge, creation). `runtimeStatus` is
   * the status the change left it in, when the backend knows it (not after a purge).
   */
  onInstanceChanged?(instanceId: string, runtimeStatus?: OrchestrationStatus): void;
}

/**
 * Durable storage for orchestrations: instances, their history, their inboxes and the activity
 * queue. Implementations must make every write atomic and conditional on the caller's lease, so
 * that several processes can share one store without committing an episode twice or losing
 * work.
 *
 * Every storage method throws `DurableTaskError` `NotInitialized` before `start()` or after
 * `stop()` ({@link Backend.createTaskHub}, {@link Backend.deleteTaskHub}, {@link Backend.start},
 * {@link Backend.stop} and {@link Backend.subscribe} never do). Transient storage faults surface
 * as `Unavailable`.
 */
export interface Backend {
  /** A short description for logs, e.g. `sqlite::/data/app.sqlite3`. */
  readonly description: string;

  /** Creates the storage schema. Idempotent. */
  createTaskHub(): Promise<void>;
  /** Deletes every stored instance and the schema; `TaskHubNotFound` if there is none. */
  deleteTaskHub(): Promise<void>;
  /** Opens connections; creates the task hub if missing. Idempotent. */
  start(): Promise<void>;
  /** Closes connections. In-flight calls finish first. Idempotent. */
  stop(): Promise<void>;

  /**
   * Creates an instance from its `executionStarted` event and enqueues that event, visible at the
   * event's `scheduledStartTimestamp` when set (status PENDING until the first episode).
   * Throws `InstanceExists` per {@link ReusePolicy}; `InvalidArgument` if the event is not an
   * `executionStarted` with an instance id and a timestamp. A backend may instead hand the first
   * episode to this process's worker as a work item before anything is written, and commit the
   * create with that episode's commit (`completeOrchestrationWorkItem`); it must then commit the
   * create alone, under that work item's lease, when the episode is not committed soon, or when
   * the item is abandoned or renewed first. The call resolves once the create is committed.
   */
  createOrchestrationInstance(
    startEvent: HistoryEvent,
    options?: CreateInstanceOptions,
  ): Promise<CreateInstanceResult>;

  /**
   * Appends an event (raised event, terminate, suspend, resume) to an instance's inbox.
   * `InstanceNotFound` if there is no such instance; silently dropped if it is terminal.
   */
  addNewOrchestrationEvent(instanceId: string, event: HistoryEvent): Promise<void>;

  /**
   * Leases up to `maxCount` instances that have visible inbox events and returns them with their
   * history. Returns `[]` when there is nothing to do. Suspended instances are only handed out
   * for resume and terminate events. An instance whose `executionStarted` event is not visible yet
   * (scheduled start in the future) is not handed out, even if other events arrived for it —
   * except for a terminate, which claims the start early so the instance ends at once.
   */
  lockOrchestrationWorkItems(maxCount: number): Promise<OrchestrationWorkItem[]>;

  /**
   * Applies an episode atomically and releases the lease; `WorkItemLockLost` if it was lost (then
   * nothing was applied). Messages reach any existing instance, terminal ones included (a
   * recursive terminate passes through a completed child); messages to unknown ids are dropped.
   * A terminal status deletes the instance's remaining inbox rows and pending activities.
   */
  completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    commit: OrchestrationCommit,
  ): Promise<void>;

  /** Releases the lease; the claimed events become visible again after `delayMs`. */
  abandonOrchestrationWorkItem(item: OrchestrationWorkItem, delayMs: number): Promise<void>;

  /** Extends the lease; returns the new expiry. `WorkItemLockLost` if it was lost. */
  renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<number>;

  /** Leases up to `maxCount` visible activity tasks, oldest first. */
  lockActivityWorkItems(maxCount: number): Promise<ActivityWorkItem[]>;

  /**
   * Removes the task and delivers `result` (`taskCompleted` / `taskFailed`) to the orchestration,
   * atomically. `WorkItemLockLost` if the lease was lost (the result is then not delivered).
   */
  completeActivityWorkItem(item: ActivityWorkItem, result: HistoryEvent): Promise<void>;

  /**
   * Optional: delivers an activity's result by running the episode it starts and committing the
   * two together (one write instead of two, and no inbox row). `runEpisode` gets a work item of
   * the instance whose `newEvents` is `[result]`; it holds no lease while the episode runs. The
   * commit then applies atomically, only if the instance is still unleased, RUNNING this
   * execution, no other event is waiting and its history is still the work item's: the commit is
   * applied, the task removed, and it resolves true. Otherwise (including when a backend that
   * started the episode from a history it holds in memory finds the instance changed), or when it
   * knows before the episode that the instance is not in that state (leased, suspended, other
   * events waiting), or `runEpisode` returns `undefined`, the result is delivered as
   * {@link completeActivityWorkItem} does and it resolves false.
   * `WorkItemLockLost` if the task's lease was lost (then nothing was applied). An error thrown
   * by `runEpisode` is rethrown, nothing applied.
   */
  completeActivityWithEpisode?(
    item: ActivityWorkItem,
    result: HistoryEvent,
    runEpisode: (episode: OrchestrationWorkItem) => Promise<OrchestrationCommit | undefined>,
  ): Promise<boolean>;

  /** Releases the task's lease; it becomes visible again after `delayMs`. */
  abandonActivityWorkItem(item: ActivityWorkItem, delayMs: number): Promise<void>;

  /** Extends the task's lease; returns the new expiry. `WorkItemLockLost` if it was lost. */
  renewActivityWorkItemLock(item: ActivityWorkItem): Promise<number>;

  /** An instance's metadata, or `undefined` if there is no such instance. */
  getOrchestrationMetadata(
    instanceId: string,
    options?: { readonly fetchPayloads?: boolean | undefined },
  ): Promise<OrchestrationMetadata | undefined>;

  /** An instance's committed history, oldest first; `InstanceNotFound` if there is none. */
  getOrchestrationHistory(instanceId: string): Promise<HistoryEvent[]>;

  /** Instances matching `query`, ordered by instance id, one page at a time. */
  queryInstances(query: InstanceQuery): Promise<InstanceQueryPage>;

  /** Instance ids matching `query`, ordered by instance id, one page at a time. */
  listInstanceIds(query: InstanceIdQuery): Promise<InstanceIdPage>;

  /**
   * Deletes all state of one terminal instance. `InstanceNotFound` if there is none,
   * `NotCompleted` if it has not reached a terminal status.
   */
  purgeOrchestrationState(instanceId: string): Promise<void>;

  /** Deletes all terminal instances matching `filter`; returns how many. */
  purgeInstances(filter: PurgeFilter): Promise<number>;

  /**
   * Optional, for the backlog metric: how many orchestration instances and activity tasks could
   * be locked now (approximate under concurrent writes). Backends that cannot count cheaply
   * leave it out.
   */
  countReadyWorkItems?(): Promise<Readonly<Record<WorkKind, number>>>;

  /** Subscribes to this backend's writes; returns the unsubscribe function. */
  subscribe(listener: BackendListener): () => void;
}
