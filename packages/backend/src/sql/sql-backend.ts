import { randomUUID } from "node:crypto";
import {
  assertInstanceId,
  assertNonNegativeMs,
  DurableTaskError,
  invalidArgument,
  type OrchestrationMetadata,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type {
  ActivityWorkItem,
  Backend,
  BackendListener,
  CreateInstanceOptions,
  CreateInstanceResult,
  InstanceIdPage,
  InstanceIdQuery,
  InstanceQuery,
  InstanceQueryPage,
  OrchestrationCommit,
  OrchestrationWorkItem,
  PurgeFilter,
  ReusePolicy,
  WorkKind,
} from "../backend.js";
import {
  abandonActivityStatement,
  completeActivityStatements,
  completeActivityWithEpisodeStatements,
  lockActivitiesStatement,
  peekInstanceStatement,
  renewActivityStatement,
} from "./activity-statements.js";
import {
  assertActivityItem,
  assertCommit,
  assertCount,
  assertEvent,
  assertOrchestrationItem,
  idQueryFilter,
  pageSizeOf,
  purgeFilter,
  queryFilter,
} from "./arguments.js";
import { announceNextVisible, CommitOutcome } from "./commit-outcome.js";
import {
  type ActivityHandOff,
  addWithRole,
  type CommitStatement,
  childrenOf,
  commitStatements,
} from "./commit-statements.js";
import { creationOutcome, reusePolicyOf } from "./creation.js";
import type { SqlResult, SqlStatement } from "./driver.js";
import { storageError } from "./errors.js";
import { GroupCommitter } from "./group-commit.js";
import { HandOffs, type Leased } from "./hand-off.js";
import { HistoryCache, type HistoryPlan } from "./history-cache.js";
import {
  addEventStatements,
  createInstanceStatements,
  historyStatements,
  metadataStatement,
  purgeInstanceStatements,
} from "./instance-statements.js";
import { LeasedInstances } from "./leased-instances.js";
import { Listeners } from "./listeners.js";
import { type ResolvedOptions, resolveOptions, type SqlBackendOptions } from "./options.js";
import {
  abandonOrchestrationStatements,
  countReadyStatements,
  fullHistoryStatement,
  leaseCreatedStatements,
  lockInstanceStatements,
  lockOrchestrationStatements,
  renewOrchestrationStatement,
} from "./orchestration-statements.js";
import {
  listInstanceIdsStatement,
  purgeInstancesStatements,
  queryInstancesStatement,
} from "./query-statements.js";
import { decodeEvent, metadataOfRow, text } from "./rows.js";
import { RunningTasks } from "./running-tasks.js";
import { createSchemaStatements, dropSchemaStatements, schemaVersion } from "./schema.js";
import { type StartedInstance, startedInstance, startVisibleAt } from "./start-event.js";
import { activityItems, orchestrationItems } from "./work-items.js";

function lockLost(what: string): DurableTaskError {
  return new DurableTaskError(
    "WorkItemLockLost",
    `the lease of ${what} was lost to another worker or expired`,
  );
}

/** An orchestration lease offered to this process's idle slot: its lock step starts at `from`. */
interface OrchestrationOffer {
  readonly token: string;
  readonly expiresAt: number;
  readonly from: number;
  readonly plan: HistoryPlan;
}

/** How long handed-off work waits for this process's dispatcher before it is given back. */
const handOffMaxQueuedMs = 1000;

/**
 * Longest a create waits for the first episode of its instance (see `#holdCreate`) before it
 * commits alone; the episode then goes on under the lease that commit took.
 */
const heldCreateMaxMs = 10;

/** A create not committed yet, whose instance's first episode runs here meanwhile. */
interface HeldCreate {
  readonly started: StartedInstance;
  readonly policy: ReusePolicy | undefined;
  /** The episode's work item: no history, the start event; its lease is taken by the commit. */
  readonly item: OrchestrationWorkItem;
  readonly nowMs: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: CreateInstanceResult) => void;
  readonly reject: (error: unknown) => void;
  /** Set once its commit started (alone, or with the episode); settles when that is done. */
  committed?: Promise<void>;
}

function ignore(): void {}

function lastRows(results: readonly SqlResult[]) {
  return results[results.length - 1]?.rows ?? [];
}

/** The Backend of every SQL store: each operation is one atomic {@link SqlDriver.batch}. */
class SqlBackend implements Backend {
  readonly description: string;
  readonly #o: ResolvedOptions;
  readonly #listeners: Listeners;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #group: GroupCommitter | undefined;
  readonly #histories: HistoryCache;
  readonly #leased = new LeasedInstances();
  readonly #runningTasks = new RunningTasks();
  readonly #orchestrationHandOffs: HandOffs<OrchestrationWorkItem>;
  readonly #activityHandOffs: HandOffs<ActivityWorkItem>;
  /** Creates waiting for their first episode, by the episode's lease token. */
  readonly #heldCreates = new Map<string, HeldCreate>();
  #started = false;

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.description = options.driver.description;
    this.#listeners = new Listeners(options.logger);
    this.#group = options.groupCommit ? new GroupCommitter(options.driver) : undefined;
    this.#histories = new HistoryCache(options.historyCacheSize);
    const handOffs = <T extends Leased>(kind: WorkKind, giveBack: (item: T) => Promise<void>) =>
      new HandOffs<T>(
        handOffMaxQueuedMs,
        options.now,
        (items) => {
          for (const item of items) void giveBack(item);
        },
        () => this.#listeners.work(kind, options.now()),
      );
    this.#orchestrationHandOffs = handOffs("orchestration", (item) =>
      this.#giveBackOrchestration(item),
    );
    this.#activityHandOffs = handOffs("activity", (item) => this.#giveBackActivity(item));
  }

  async createTaskHub(): Promise<void> {
    const results = await this.#batch("createTaskHub", createSchemaStatements(), "write", true);
    const version = Number(lastRows(results)[0]?.[0]);
    if (version !== schemaVersion) {
      throw new DurableTaskError(
        "Unimplemented",
        `the task hub has schema version ${version}; this backend supports version ${schemaVersion}`,
      );
    }
  }

  async deleteTaskHub(): Promise<void> {
    const results = await this.#batch("deleteTaskHub", dropSchemaStatements(), "write", true);
    await this.stop();
    this.#histories.clear();
    if (Number(results[0]?.rows[0]?.[0]) === 0) {
      throw new DurableTaskError("TaskHubNotFound", `there is no task hub in ${this.description}`);
    }
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.createTaskHub();
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (this.#started) {
      await Promise.all([...this.#heldCreates.values()].map((held) => this.#commitHeld(held)));
      await Promise.all([
        ...this.#orchestrationHandOffs.drain().map((item) => this.#giveBackOrchestration(item)),
        ...this.#activityHandOffs.drain().map((item) => this.#giveBackActivity(item)),
      ]);
    }
    this.#started = false;
    this.#runningTasks.clear();
    await Promise.allSettled([...this.#inFlight]);
    await this.#o.driver.close();
  }

  async createOrchestrationInstance(
    startEvent: HistoryEvent,
    options: CreateInstanceOptions = {},
  ): Promise<CreateInstanceResult> {
    this.#ready();
    const started = startedInstance(startEvent, "startEvent");
    const policy = reusePolicyOf(options?.reusePolicy);
    if (this.#heldCreates.size > 0) await this.#heldCreateCommitted(started.instanceId);
    const now = this.#o.now();
    const held = this.#holdCreate(started, policy, now);
    if (held !== undefined) return held;
    const statements = createInstanceStatements(started, policy, now);
    const count = statements.length;
    // A new instance has nothing else coming: a quiet process may start it at once.
    const offer = this.#offerOrchestration(started.instanceId, statements, now, true);
    let results: SqlResult[];
    try {
      results = await this.#batch("createOrchestrationInstance", statements, "write");
    } catch (err) {
      this.#settleOffer(offer, undefined, now);
      throw err;
    }
    // Before the outcome, which throws when the id is taken: a lease taken here is queued.
    const handedOff = this.#settleOffer(offer, results, now);
    const outcome = creationOutcome(started, policy, lastRows(results.slice(0, count))[0]);
    if (outcome.created) {
      // A hand-off announced the work itself.
      if (!handedOff) this.#listeners.work("orchestration", startVisibleAt(started, now));
      this.#listeners.instanceChanged(started.instanceId, "PENDING");
    }
    return outcome;
  }

  async addNewOrchestrationEvent(instanceId: string, event: HistoryEvent): Promise<void> {
    this.#ready();
    assertInstanceId(instanceId);
    assertEvent(event, "event");
    if (this.#heldCreates.size > 0) await this.#heldCreateCommitted(instanceId);
    const now = this.#o.now();
    this.#histories.eventQueued(instanceId);
    const results = await this.#batch(
      "addNewOrchestrationEvent",
      addEventStatements(instanceId, event, now),
      "write",
    );
    if (lastRows(results).length === 0) {
      throw new DurableTaskError("InstanceNotFound", `no orchestration instance '${instanceId}'`);
    }
    if ((results[0]?.changes ?? 0) > 0) this.#announce(instanceId, now);
  }

  async lockOrchestrationWorkItems(maxCount: number): Promise<OrchestrationWorkItem[]> {
    this.#ready();
    assertCount(maxCount, "maxCount");
    const now = this.#o.now();
    const handOffs = this.#orchestrationHandOffs;
    const handed = handOffs.next(maxCount, now);
    for (const item of handed.expired) this.#endLease(item, now, true);
    if (!handed.lookAtStorage) return handed.items;
    const token = this.#token();
    const expiresAt = now + this.#o.orchestrationLockTimeoutMs;
    const plan = this.#histories.plan();
    const rest = maxCount - handed.items.length;
    const statements = lockOrchestrationStatements(token, rest, now, expiresAt, plan.known);
    let results: SqlResult[];
    try {
      results = await this.#batch("lockOrchestrationWorkItems", statements, "write");
    } catch (err) {
      // The handed-off items are leased here: give them back rather than hold them.
      for (const item of handed.items) void this.#giveBackOrchestration(item);
      throw err;
    }
    const locked = orchestrationItems(results, token, expiresAt, plan.resolve);
    const { needsHistory } = locked;
    for (const item of locked.items) this.#leased.add(item.instanceId, token, expiresAt);
    handOffs.observeStorage(maxCount, handed.items.length, locked.items.length, now);
    const items = [...handed.items, ...locked.items];
    if (needsHistory.length === 0) return items;
    // A cached history no longer matches the database (rare): read those whole.
    let read: SqlResult[];
    try {
      read = await this.#batch(
        "lockOrchestrationWorkItems",
        needsHistory.map(fullHistoryStatement),
        "read",
      );
    } catch (err) {
      for (const item of items) void this.#giveBackOrchestration(item);
      throw err;
    }
    const histories = new Map(
      needsHistory.map((id, i) => [
        id,
        this.#histories.lend((read[i]?.rows ?? []).map((row) => decodeEvent(row[0]))),
      ]),
    );
    return items.map((item) => {
      const history = histories.get(item.instanceId);
      return history === undefined ? item : { ...item, history };
    });
  }

  async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    commit: OrchestrationCommit,
  ): Promise<void> {
    this.#ready();
    assertOrchestrationItem(item);
    assertCommit(commit);
    const held = this.#heldCreates.get(item.lockToken);
    if (held !== undefined) {
      // The first episode of a create still held: both commit together.
      if (held.committed === undefined) return this.#commitHeld(held, commit);
      await held.committed;
    }
    const children = childrenOf(commit);
    const now = this.#o.now();
    const handOff = this.#reserveActivityHandOff(commit, now);
    const statements = commitStatements(item, commit, children, now, handOff);
    // Whatever happens next, the cached history is stale until this commit is known to apply.
    this.#histories.delete(item.instanceId);
    let results: SqlResult[];
    try {
      results = await this.#batch("completeOrchestrationWorkItem", statements, "write");
    } catch (err) {
      this.#activityHandOffs.cancel(handOff?.count ?? 0);
      throw err;
    } finally {
      this.#endLease(item, now);
    }
    const outcome = new CommitOutcome(statements, results);
    if (!outcome.released) {
      this.#activityHandOffs.cancel(handOff?.count ?? 0);
      throw lockLost(`orchestration '${item.instanceId}'`);
    }
    this.#applied(item, commit, children, outcome, handOff, now);
  }

  async abandonOrchestrationWorkItem(item: OrchestrationWorkItem, delayMs: number): Promise<void> {
    this.#ready();
    assertOrchestrationItem(item);
    assertNonNegativeMs(delayMs, "delayMs");
    await this.#createCommitted(item);
    const now = this.#o.now();
    const statements = abandonOrchestrationStatements(
      item.instanceId,
      item.lockToken,
      now + delayMs,
    );
    let results: SqlResult[];
    try {
      results = await this.#batch("abandonOrchestrationWorkItem", statements, "write");
    } finally {
      this.#endLease(item, now);
    }
    if (results[1]?.changes === 0) throw lockLost(`orchestration '${item.instanceId}'`);
    // The history is as it was: the next episode may start from the array again.
    this.#histories.restore(item.instanceId, item.history);
    announceNextVisible(this.#listeners, lastRows(results), now);
  }

  async renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<number> {
    this.#ready();
    assertOrchestrationItem(item);
    await this.#createCommitted(item);
    const expiresAt = this.#o.now() + this.#o.orchestrationLockTimeoutMs;
    const statement = renewOrchestrationStatement(item.instanceId, item.lockToken, expiresAt);
    const [result] = await this.#batch("renewOrchestrationWorkItemLock", [statement], "write");
    if (result?.changes === 0) throw lockLost(`orchestration '${item.instanceId}'`);
    this.#leased.renew(item.instanceId, item.lockToken, expiresAt);
    return expiresAt;
  }

  async countReadyWorkItems(): Promise<Readonly<Record<WorkKind, number>>> {
    this.#ready();
    const results = await this.#batch(
      "countReadyWorkItems",
      countReadyStatements(this.#o.now()),
      "read",
    );
    return {
      orchestration: Number(results[0]?.rows[0]?.[0] ?? 0),
      activity: Number(results[1]?.rows[0]?.[0] ?? 0),
    };
  }

  async lockActivityWorkItems(maxCount: number): Promise<ActivityWorkItem[]> {
    this.#ready();
    assertCount(maxCount, "maxCount");
    const now = this.#o.now();
    // Tasks whose lease ran out while queued are visible to every lock step again.
    const handOffs = this.#activityHandOffs;
    const handed = handOffs.next(maxCount, now);
    this.#runningTasks.add(handed.items);
    if (!handed.lookAtStorage) return handed.items;
    const token = this.#token();
    const expiresAt = now + this.#o.activityLockTimeoutMs;
    const rest = maxCount - handed.items.length;
    const statement = lockActivitiesStatement(token, rest, now, expiresAt);
    let result: SqlResult | undefined;
    try {
      [result] = await this.#batch("lockActivityWorkItems", [statement], "write");
    } catch (err) {
      for (const item of handed.items) void this.#giveBackActivity(item);
      throw err;
    }
    const locked = activityItems(result?.rows ?? [], token, expiresAt);
    handOffs.observeStorage(maxCount, handed.items.length, locked.length, now);
    this.#runningTasks.add(locked);
    return [...handed.items, ...locked];
  }

  async completeActivityWorkItem(item: ActivityWorkItem, result: HistoryEvent): Promise<void> {
    this.#ready();
    assertActivityItem(item);
    assertEvent(result, "result", ["taskCompleted", "taskFailed"]);
    const now = this.#o.now();
    const statements = completeActivityStatements(item.sequenceNumber, item.lockToken, result, now);
    this.#runningTasks.settled(item);
    // More results of the instance are on their way from here: the last one offers its episode.
    const offer = this.#runningTasks.any(item.instanceId, now)
      ? undefined
      : this.#offerOrchestration(item.instanceId, statements, now);
    let results: SqlResult[];
    try {
      results = await this.#batch("completeActivityWorkItem", statements, "write");
    } catch (err) {
      this.#settleOffer(offer, undefined, now);
      throw err;
    }
    // Even when this task's lease was lost, the lock step may have leased the instance for
    // other events of its own: that lease is queued, not left to expire.
    const handedOff = this.#settleOffer(offer, results, now);
    if (results[1]?.changes === 0) throw lockLost(`activity task ${item.sequenceNumber}`);
    if (!handedOff && (results[0]?.changes ?? 0) > 0) this.#announce(item.instanceId, now);
  }

  async completeActivityWithEpisode(
    item: ActivityWorkItem,
    result: HistoryEvent,
    runEpisode: (episode: OrchestrationWorkItem) => Promise<OrchestrationCommit | undefined>,
  ): Promise<boolean> {
    this.#ready();
    assertActivityItem(item);
    assertEvent(result, "result", ["taskCompleted", "taskFailed"]);
    const { instanceId } = item;
    const alone = async () => {
      await this.completeActivityWorkItem(item, result);
      return false;
    };
    // Leased here (an episode runs or waits): its result goes through the inbox.
    if (this.#leased.holds(instanceId, this.#o.now())) return alone();
    // A failed read only costs the shortcut: the result is then delivered alone, and the
    // activity is not run again for it.
    const episode =
      this.#cachedEpisode(item, result) ??
      (await this.#peekEpisode(item, result).catch((error: unknown) => {
        this.#o.logger.debug("could not read the instance for an episode of its result", {
          instanceId,
          error,
        });
        return undefined;
      }));
    if (episode === undefined) return alone();
    let commit: OrchestrationCommit | undefined;
    try {
      commit = await runEpisode(episode);
      if (commit !== undefined) assertCommit(commit);
    } catch (err) {
      this.#histories.restore(instanceId, episode.history);
      throw err;
    }
    if (commit === undefined) {
      this.#histories.restore(instanceId, episode.history);
      return alone();
    }
    const children = childrenOf(commit);
    const now = this.#o.now();
    const handOff = this.#reserveActivityHandOff(commit, now);
    const { createdAtMs } = commit.instance;
    const before = completeActivityWithEpisodeStatements(
      item,
      episode.lockToken,
      episode.history.length,
      createdAtMs,
      now,
    );
    // The lease's conditions establish what the row holds, and the episode claimed no rows.
    const known = { claimedNothing: true, stored: { executionId: item.executionId, createdAtMs } };
    const statements: CommitStatement[] = [];
    addWithRole(statements, "write", before);
    statements.push(...commitStatements(episode, commit, children, now, handOff, known));
    let results: SqlResult[];
    try {
      results = await this.#batch("completeActivityWithEpisode", statements, "write");
    } catch (err) {
      // The outcome is unknown: the cached history stays out until a lock step reads it.
      this.#activityHandOffs.cancel(handOff?.count ?? 0);
      throw err;
    }
    const outcome = new CommitOutcome(statements, results);
    if (!outcome.released) {
      // Nothing applied (the instance changed, or the task's lease was lost): the result goes
      // on its own, which finds out which.
      this.#activityHandOffs.cancel(handOff?.count ?? 0);
      this.#histories.restore(instanceId, episode.history);
      return alone();
    }
    this.#runningTasks.settled(item);
    this.#applied(episode, commit, children, outcome, handOff, now);
    return true;
  }

  /**
   * The work item of an episode of `result` alone, without a lease, from the history this
   * process last committed for the task's execution, read from nothing: the commit's condition
   * (unleased, RUNNING that execution, no row past that history, no other event waiting) finds
   * out whether the database still holds it. `undefined` when that history is not cached.
   */
  #cachedEpisode(item: ActivityWorkItem, result: HistoryEvent): OrchestrationWorkItem | undefined {
    const history = this.#histories.take(item.instanceId, item.executionId);
    return history === undefined
      ? undefined
      : this.#unleasedEpisode(item.instanceId, history, result);
  }

  /**
   * The work item of an episode of `result` alone, without a lease, or `undefined` when the
   * instance cannot take one now: it is not RUNNING the task's execution, it is leased, or other
   * events are waiting (they go first, through the inbox). Its history comes from the cache when
   * the cached prefix is still stored (then only the rows past it are read).
   */
  async #peekEpisode(
    item: ActivityWorkItem,
    result: HistoryEvent,
  ): Promise<OrchestrationWorkItem | undefined> {
    const { instanceId } = item;
    const now = this.#o.now();
    const plan = this.#histories.planFor(instanceId);
    const known = plan.known[0]?.[1];
    const from = known === undefined ? 0 : known - 1;
    const [read] = await this.#batch(
      "completeActivityWithEpisode",
      [peekInstanceStatement(instanceId, item.executionId, from, now)],
      "read",
    );
    const rows = read?.rows ?? [];
    if (rows.length === 0) return undefined;
    const history = plan.resolve(instanceId, {
      sequences: rows.map((row) => Number(row[0])),
      payloads: rows.map((row) => row[1] ?? null),
    });
    return history === undefined
      ? undefined
      : this.#unleasedEpisode(item.instanceId, history, result);
  }

  /** The work item of an episode of `event` alone, under a fresh token no commit has taken yet. */
  #unleasedEpisode(
    instanceId: string,
    history: HistoryEvent[],
    event: HistoryEvent,
  ): OrchestrationWorkItem {
    return {
      instanceId,
      lockToken: this.#token(),
      lockExpiresAtMs: this.#o.now() + this.#o.orchestrationLockTimeoutMs,
      history,
      newEvents: [event],
      retryCount: 0,
    };
  }

  async abandonActivityWorkItem(item: ActivityWorkItem, delayMs: number): Promise<void> {
    this.#ready();
    assertActivityItem(item);
    assertNonNegativeMs(delayMs, "delayMs");
    const visibleAt = this.#o.now() + delayMs;
    this.#runningTasks.settled(item);
    const statement = abandonActivityStatement(item.sequenceNumber, item.lockToken, visibleAt);
    const [result] = await this.#batch("abandonActivityWorkItem", [statement], "write");
    if (result?.changes === 0) throw lockLost(`activity task ${item.sequenceNumber}`);
    this.#listeners.work("activity", visibleAt);
  }

  async renewActivityWorkItemLock(item: ActivityWorkItem): Promise<number> {
    this.#ready();
    assertActivityItem(item);
    const expiresAt = this.#o.now() + this.#o.activityLockTimeoutMs;
    const statement = renewActivityStatement(item.sequenceNumber, item.lockToken, expiresAt);
    const [result] = await this.#batch("renewActivityWorkItemLock", [statement], "write");
    if (result?.changes === 0) throw lockLost(`activity task ${item.sequenceNumber}`);
    this.#runningTasks.renewed(item, expiresAt);
    return expiresAt;
  }

  async getOrchestrationMetadata(
    instanceId: string,
    options?: { readonly fetchPayloads?: boolean | undefined },
  ): Promise<OrchestrationMetadata | undefined> {
    this.#ready();
    assertInstanceId(instanceId);
    const statement = metadataStatement(instanceId, options?.fetchPayloads ?? true);
    const [result] = await this.#batch("getOrchestrationMetadata", [statement], "read");
    const row = result?.rows[0];
    return row === undefined ? undefined : metadataOfRow(row);
  }

  async getOrchestrationHistory(instanceId: string): Promise<HistoryEvent[]> {
    this.#ready();
    assertInstanceId(instanceId);
    const results = await this.#batch(
      "getOrchestrationHistory",
      historyStatements(instanceId),
      "read",
    );
    if (results[0]?.rows.length === 0) {
      throw new DurableTaskError("InstanceNotFound", `no orchestration instance '${instanceId}'`);
    }
    return lastRows(results).map((row) => decodeEvent(row[0]));
  }

  async queryInstances(query: InstanceQuery): Promise<InstanceQueryPage> {
    this.#ready();
    const filter = queryFilter(query ?? {});
    const pageSize = pageSizeOf(query?.pageSize);
    const statement = queryInstancesStatement(filter, query?.fetchPayloads ?? true, pageSize + 1);
    const [result] = await this.#batch("queryInstances", [statement], "read");
    const instances = (result?.rows ?? []).map(metadataOfRow);
    if (instances.length <= pageSize) return { instances };
    const page = instances.slice(0, pageSize);
    return { instances: page, continuationToken: page[page.length - 1]?.instanceId };
  }

  async listInstanceIds(query: InstanceIdQuery): Promise<InstanceIdPage> {
    this.#ready();
    const filter = idQueryFilter(query ?? {});
    const pageSize = pageSizeOf(query?.pageSize);
    const [result] = await this.#batch(
      "listInstanceIds",
      [listInstanceIdsStatement(filter, pageSize + 1)],
      "read",
    );
    const ids = (result?.rows ?? []).map((row) => text(row[0], "InstanceID"));
    if (ids.length <= pageSize) return { instanceIds: ids };
    const page = ids.slice(0, pageSize);
    return { instanceIds: page, lastInstanceKey: page[page.length - 1] };
  }

  async purgeOrchestrationState(instanceId: string): Promise<void> {
    this.#ready();
    assertInstanceId(instanceId);
    const results = await this.#batch(
      "purgeOrchestrationState",
      purgeInstanceStatements(instanceId),
      "write",
    );
    this.#histories.delete(instanceId);
    if ((results[results.length - 2]?.changes ?? 0) > 0) {
      this.#listeners.instanceChanged(instanceId);
      return;
    }
    const row = lastRows(results)[0];
    if (row === undefined)
      throw new DurableTaskError("InstanceNotFound", `no orchestration instance '${instanceId}'`);
    throw new DurableTaskError(
      "NotCompleted",
      `orchestration instance '${instanceId}' is ${String(row[0])}, not in a terminal state`,
    );
  }

  async purgeInstances(filter: PurgeFilter): Promise<number> {
    this.#ready();
    if (typeof filter !== "object" || filter === null)
      throw invalidArgument("filter", "must be an object");
    const results = await this.#batch(
      "purgeInstances",
      purgeInstancesStatements(purgeFilter(filter)),
      "write",
    );
    const ids = lastRows(results).map((row) => text(row[0], "InstanceID"));
    for (const id of ids) this.#histories.delete(id);
    for (const id of ids) this.#listeners.instanceChanged(id);
    return ids.length;
  }

  subscribe(listener: BackendListener): () => void {
    if (typeof listener !== "object" || listener === null)
      throw invalidArgument("listener", "must be an object");
    return this.#listeners.add(listener);
  }

  #ready(): void {
    if (!this.#started) {
      throw new DurableTaskError(
        "NotInitialized",
        `the backend ${this.description} is not started`,
      );
    }
  }

  /** Reserves this process's idle activity slots for the tasks `commit` schedules, if any. */
  #reserveActivityHandOff(commit: OrchestrationCommit, nowMs: number): ActivityHandOff | undefined {
    const count = this.#activityHandOffs.reserve(commit.activities.length);
    if (count === 0) return undefined;
    return { token: this.#token(), count, expiresAtMs: nowMs + this.#o.activityLockTimeoutMs };
  }

  /**
   * After `item`'s commit applied: queues the tasks it leased for this process, remembers the
   * history, tells listeners.
   */
  #applied(
    item: OrchestrationWorkItem,
    commit: OrchestrationCommit,
    children: readonly StartedInstance[],
    outcome: CommitOutcome,
    handOff: ActivityHandOff | undefined,
    nowMs: number,
  ): void {
    let handed = 0;
    if (handOff !== undefined) {
      const tasks = activityItems(outcome.rowsOf("handOff"), handOff.token, handOff.expiresAtMs);
      this.#activityHandOffs.add(tasks, handOff.count, nowMs);
      handed = tasks.length;
    }
    if (handed < commit.activities.length) this.#activityHandOffs.leftInStorage();
    if (commit.instance.completedAtMs === undefined) {
      const base = commit.resetHistory ? [] : item.history;
      const running = commit.instance.runtimeStatus === "RUNNING";
      this.#histories.extend(item.instanceId, base, commit.appendHistory, running);
    }
    for (const message of commit.messages) this.#histories.eventQueued(message.targetInstanceId);
    outcome.announce(this.#listeners, item.instanceId, commit, children, nowMs);
  }

  /**
   * In a quiet process (nothing leased here, see {@link #offerOrchestration}) with an idle
   * orchestration slot, a create due now is not committed at once: its instance's first episode
   * is handed to that slot as a work item (no history, the start event, a lease the commit will
   * take), and the create commits together with that episode's commit, or alone (taking the
   * lease) after {@link heldCreateMaxMs}, or as soon as the item is abandoned, renewed or given
   * back. One write instead of two for a new instance; the caller waits for the first episode.
   * `undefined` when the create goes the usual way.
   */
  #holdCreate(
    started: StartedInstance,
    policy: ReusePolicy | undefined,
    nowMs: number,
  ): Promise<CreateInstanceResult> | undefined {
    if (!this.#leased.none || startVisibleAt(started, nowMs) > nowMs) return undefined;
    if (this.#orchestrationHandOffs.reserve(1, true) === 0) return undefined;
    const { instanceId } = started;
    const item = this.#unleasedEpisode(instanceId, [], decodeEvent(started.payload));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => void this.#commitHeld(held), heldCreateMaxMs);
      const held: HeldCreate = { started, policy, item, nowMs, timer, resolve, reject };
      this.#heldCreates.set(item.lockToken, held);
      this.#leased.add(instanceId, item.lockToken, item.lockExpiresAtMs);
      this.#orchestrationHandOffs.add([item], 1, nowMs);
      this.#listeners.work("orchestration", nowMs);
    });
  }

  /**
   * Before a create of, or an event for, `instanceId`: a create of that id still held commits
   * (alone) first, so calls on one id apply in the order they were made, as when creates were
   * not held (the first create wins; an event raised right after a create finds the instance).
   */
  async #heldCreateCommitted(instanceId: string): Promise<void> {
    for (const held of this.#heldCreates.values()) {
      if (held.item.instanceId === instanceId) await this.#commitHeld(held);
    }
  }

  /** Before another call on a held create's work item: the create commits (alone) first. */
  async #createCommitted(item: OrchestrationWorkItem): Promise<void> {
    const held = this.#heldCreates.get(item.lockToken);
    if (held !== undefined) await this.#commitHeld(held);
  }

  /**
   * Commits a held create, with `episode` (its first episode's commit, from
   * `completeOrchestrationWorkItem`) or alone, and settles the creator's call. The create takes
   * the episode's lease only if it made the instance (see `leaseCreatedStatements`); every
   * write of the episode is conditional on that lease. With `episode`, resolves when the episode
   * applied and throws as `completeOrchestrationWorkItem` does; alone, never throws.
   */
  #commitHeld(held: HeldCreate, episode?: OrchestrationCommit): Promise<void> {
    if (held.committed !== undefined) return held.committed;
    clearTimeout(held.timer);
    const committed = this.#commitHeldNow(held, episode);
    held.committed = committed.then(ignore, ignore);
    return episode === undefined ? held.committed : committed;
  }

  async #commitHeldNow(held: HeldCreate, episode: OrchestrationCommit | undefined): Promise<void> {
    const { started, policy, item } = held;
    const now = this.#o.now();
    const create = createInstanceStatements(started, policy, held.nowMs);
    const count = create.length;
    create.push(
      ...leaseCreatedStatements(
        item.instanceId,
        started.executionId,
        item.lockToken,
        item.lockExpiresAtMs,
      ),
    );
    const children = episode === undefined ? [] : childrenOf(episode);
    const handOff = episode && this.#reserveActivityHandOff(episode, now);
    const statements: CommitStatement[] = [];
    addWithRole(statements, "write", create);
    if (episode !== undefined) {
      statements.push(...commitStatements(item, episode, children, now, handOff));
      this.#histories.delete(item.instanceId);
    }
    let results: SqlResult[];
    try {
      results = await this.#batch("createOrchestrationInstance", statements, "write");
    } catch (err) {
      this.#activityHandOffs.cancel(handOff?.count ?? 0);
      this.#heldCreates.delete(item.lockToken);
      this.#orchestrationHandOffs.withdraw(item);
      this.#endLease(item, now);
      held.reject(err);
      throw err;
    }
    this.#heldCreates.delete(item.lockToken);
    const leased = (results[count]?.rows.length ?? 0) > 0;
    let outcome: CreateInstanceResult | undefined;
    try {
      outcome = creationOutcome(started, policy, lastRows(results.slice(0, count))[0]);
    } catch (err) {
      held.reject(err);
    }
    const commitOutcome = new CommitOutcome(statements, results);
    if (episode !== undefined && leased && commitOutcome.released) {
      this.#endLease(item, now);
      this.#applied(item, episode, children, commitOutcome, handOff, now);
      if (outcome !== undefined) held.resolve(outcome);
      return;
    }
    this.#activityHandOffs.cancel(handOff?.count ?? 0);
    if (!leased) {
      // Not this create's instance, or not only its start waits: the item's lease was never
      // taken. It is withdrawn if still queued (once handed out, its calls find that out), and
      // a new instance is locked from storage as usual.
      this.#orchestrationHandOffs.withdraw(item);
      if (outcome?.created) this.#listeners.work("orchestration", startVisibleAt(started, now));
    }
    // The item is done here unless the create alone took its lease for it.
    if (!leased || episode !== undefined) this.#endLease(item, now);
    if (outcome?.created) this.#listeners.instanceChanged(started.instanceId, "PENDING");
    if (outcome !== undefined) held.resolve(outcome);
    if (episode !== undefined) throw lockLost(`orchestration '${item.instanceId}'`);
  }

  /** Announces new orchestration work of `instanceId`, unless a lease held here defers it. */
  #announce(instanceId: string, nowMs: number): void {
    if (!this.#leased.defer(instanceId, nowMs)) this.#listeners.work("orchestration", nowMs);
  }

  /**
   * The episode's lease ends here (committed, abandoned or lost): announce deferred work, or any
   * work of the instance when `expired` (a hand-off whose lease ran out before it was taken).
   */
  #endLease(item: OrchestrationWorkItem, nowMs: number, expired = false): void {
    if (this.#leased.release(item.instanceId, item.lockToken) || expired) {
      this.#listeners.work("orchestration", nowMs);
    }
  }

  /**
   * Reserves an idle orchestration slot here and appends to `statements` the lock step that
   * leases `instanceId` for it in the same commit; `undefined` when no slot is idle. With
   * `whenQuiet`, the slots a partial batch left count too while nothing is leased here.
   */
  #offerOrchestration(
    instanceId: string,
    statements: SqlStatement[],
    nowMs: number,
    whenQuiet = false,
  ): OrchestrationOffer | undefined {
    // Leased here already: its lock step could only fail.
    if (this.#leased.holds(instanceId, nowMs)) return undefined;
    // Quiet: no episode runs or waits here, so this process does one thing at a time. Only a
    // create asks for that: a result of a fan-out leasing its instance at once would start an
    // episode per few results instead of one that takes many waiting results.
    const quiet = whenQuiet && this.#leased.none;
    if (this.#orchestrationHandOffs.reserve(1, quiet) === 0) return undefined;
    const token = this.#token();
    const expiresAt = nowMs + this.#o.orchestrationLockTimeoutMs;
    const from = statements.length;
    const plan = this.#histories.planFor(instanceId);
    statements.push(...lockInstanceStatements(instanceId, token, nowMs, expiresAt, plan.known));
    return { token, expiresAt, from, plan };
  }

  /**
   * After the commit that carried `offer` (`results` undefined: it failed, nothing applied):
   * queues the lease its lock step took and returns true, or returns the slot.
   */
  #settleOffer(
    offer: OrchestrationOffer | undefined,
    results: readonly SqlResult[] | undefined,
    nowMs: number,
  ): boolean {
    if (offer === undefined) return false;
    if (results !== undefined && this.#handOffOrchestration(offer, results, nowMs)) {
      return true;
    }
    this.#orchestrationHandOffs.cancel(1);
    return false;
  }

  /**
   * Queues the instance the commit that carried `offer` leased (its `lockInstanceStatements`
   * results start at `from`) for the orchestration dispatcher; false when it was not leased.
   */
  #handOffOrchestration(
    { token, expiresAt, from, plan }: OrchestrationOffer,
    results: readonly SqlResult[],
    nowMs: number,
  ): boolean {
    const { items, needsHistory } = orchestrationItems(
      results.slice(from),
      token,
      expiresAt,
      plan.resolve,
    );
    const item = items[0];
    if (item === undefined) return false;
    this.#leased.add(item.instanceId, token, expiresAt);
    if (needsHistory.length > 0) {
      // Its cached history no longer matches (rare): the lock step reads it whole.
      this.#orchestrationHandOffs.cancel(1);
      void this.#giveBackOrchestration(item);
      return true;
    }
    this.#orchestrationHandOffs.add([item], 1, nowMs);
    this.#listeners.work("orchestration", nowMs);
    return true;
  }

  /** Returns a handed-off orchestration nobody took to the inbox (logged, never thrown). */
  #giveBackOrchestration(item: OrchestrationWorkItem): Promise<void> {
    const what = `orchestration '${item.instanceId}'`;
    return this.#giveBack(what, item, () => this.abandonOrchestrationWorkItem(item, 0));
  }

  /** Returns a handed-off activity task nobody took to the queue (logged, never thrown). */
  #giveBackActivity(item: ActivityWorkItem): Promise<void> {
    const what = `activity task ${item.sequenceNumber}`;
    return this.#giveBack(what, item, () => this.abandonActivityWorkItem(item, 0));
  }

  async #giveBack(
    what: string,
    item: { readonly instanceId: string },
    abandon: () => Promise<void>,
  ): Promise<void> {
    try {
      await abandon();
    } catch (error) {
      // Lost meanwhile: whoever holds the lease now does the work.
      if (DurableTaskError.is(error, "WorkItemLockLost")) return;
      this.#o.logger.warn(`could not give back the lease of ${what}`, {
        instanceId: item.instanceId,
        error,
      });
    }
  }

  #token(): string {
    return `${this.#o.workerName}:${randomUUID()}`;
  }

  /**
   * Runs one operation's statements as one atomic batch. Writes go through group commit unless
   * `alone` (schema changes) or group commit is off.
   */
  async #batch(
    operation: string,
    statements: readonly SqlStatement[],
    mode: "read" | "write",
    alone = false,
  ) {
    const pending =
      mode === "write" && !alone && this.#group !== undefined
        ? this.#group.write(statements)
        : this.#o.driver.batch(statements, mode);
    this.#inFlight.add(pending);
    try {
      return await pending;
    } catch (err) {
      throw storageError(err, operation);
    } finally {
      this.#inFlight.delete(pending);
    }
  }
}

/**
 * A {@link Backend} over any SQL store reachable through a {@link SqlDriver} (SQLite dialect).
 * Every operation is exactly one atomic `batch` (one round trip to a remote database), with
 * lease conditions expressed in SQL, so several processes can share one database.
 *
 * Throws `InvalidArgument` naming the offending option.
 *
 * @example
 * const backend = createSqlBackend({ driver: mySqliteDriver, orchestrationLockTimeoutMs: 60_000 });
 * await backend.start();
 */
export function createSqlBackend(options: SqlBackendOptions): Backend {
  return new SqlBackend(resolveOptions(options));
}
