import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  eventTimeMs,
  fromWireFailure,
  fromWireStatus,
  type OrchestrationStatus,
} from "@durabletask/api";
import type {
  ExecutionCompletedEvent,
  ExecutionStartedEvent,
  HistoryEvent,
} from "@durabletask/api/proto";
import type {
  InstanceUpdate,
  OrchestrationCommit,
  OutboundMessage,
  SubOrchestrationStart,
  TimerStart,
} from "./backend.js";

/** What observing a history up to one of its events found. */
interface Observed {
  /** The history's first event and length up to the event, to recognize the same history. */
  readonly first: HistoryEvent | undefined;
  readonly length: number;
  readonly start: HistoryEvent | undefined;
  readonly completion: HistoryEvent | undefined;
  readonly suspended: boolean;
  readonly lastUpdatedAtMs: number;
}

/**
 * The state at the last event of each committed history, by that event (the same objects come
 * back with a warm instance's next work item), so a long history is not observed event by event
 * at every episode.
 */
const observedUpTo = new WeakMap<HistoryEvent, Observed>();

/** How far back from the end of a history to look for a known state before observing it all. */
const maxLookBack = 256;

/**
 * Shorter histories are cheap to observe and not recorded: many instances with short histories
 * (100,000 waiting ones) would otherwise keep a record each until a full garbage collection.
 */
const minRecordedLength = 64;

/**
 * The state of one orchestration execution while an episode runs: the committed history, the
 * events added this episode, and the outbox the episode produces. It derives the instance row
 * from history alone, so an episode never needs to read the instance row.
 */
export class OrchestrationRuntimeState {
  readonly instanceId: string;
  readonly oldEvents: readonly HistoryEvent[];
  readonly newEvents: HistoryEvent[] = [];
  readonly activities: HistoryEvent[] = [];
  readonly timers: TimerStart[] = [];
  readonly messages: OutboundMessage[] = [];
  readonly subOrchestrations: SubOrchestrationStart[] = [];
  /** Custom status reported by the last episode, if it reported one. */
  customStatus: string | undefined;
  /** True when this state replaced an earlier execution (continue-as-new) this episode. */
  continuedAsNew = false;
  private start: HistoryEvent | undefined;
  private completion: HistoryEvent | undefined;
  private suspended = false;
  private lastUpdatedAtMs = 0;

  constructor(instanceId: string, history: readonly HistoryEvent[]) {
    this.instanceId = instanceId;
    this.oldEvents = history;
    let from = 0;
    const stop = Math.max(0, history.length - maxLookBack);
    for (let i = history.length - 1; i >= stop; i--) {
      const known = observedUpTo.get(history[i] as HistoryEvent);
      if (known !== undefined && known.length === i + 1 && known.first === history[0]) {
        this.start = known.start;
        this.completion = known.completion;
        this.suspended = known.suspended;
        this.lastUpdatedAtMs = known.lastUpdatedAtMs;
        from = i + 1;
        break;
      }
    }
    for (let i = from; i < history.length; i++) this.observe(history[i] as HistoryEvent);
  }

  /** A fresh execution that continues `previous` as new (history restarts). */
  static continueAsNew(previous: OrchestrationRuntimeState): OrchestrationRuntimeState {
    const next = new OrchestrationRuntimeState(previous.instanceId, []);
    next.continuedAsNew = true;
    next.customStatus = previous.customStatus;
    return next;
  }

  /**
   * Appends an event of this episode. A second `executionStarted` or `executionCompleted` is a
   * duplicate delivery and is refused (returns false).
   */
  addEvent(e: HistoryEvent): boolean {
    const kind = e.eventType.case;
    if (kind === "executionStarted" && this.start !== undefined) return false;
    if (kind === "executionCompleted" && this.completion !== undefined) return false;
    this.newEvents.push(e);
    this.observe(e);
    return true;
  }

  private observe(e: HistoryEvent): void {
    switch (e.eventType.case) {
      case "executionStarted":
        this.start = e;
        break;
      case "executionCompleted":
        this.completion = e;
        break;
      case "executionSuspended":
        this.suspended = true;
        break;
      case "executionResumed":
        this.suspended = false;
        break;
    }
    const at = eventTimeMs(e);
    if (at > this.lastUpdatedAtMs) this.lastUpdatedAtMs = at;
  }

  get isStarted(): boolean {
    return this.start !== undefined;
  }

  get isCompleted(): boolean {
    return this.completion !== undefined;
  }

  get isSuspended(): boolean {
    return this.suspended;
  }

  /** The `executionStarted` payload; undefined before the first episode. */
  get startEvent(): ExecutionStartedEvent | undefined {
    return this.start?.eventType.case === "executionStarted"
      ? this.start.eventType.value
      : undefined;
  }

  /** When the execution started (its `executionStarted` event's timestamp). */
  get startedAt(): Timestamp | undefined {
    return this.start?.timestamp;
  }

  /** The `executionCompleted` payload; undefined while running. */
  get completedEvent(): ExecutionCompletedEvent | undefined {
    return this.completion?.eventType.case === "executionCompleted"
      ? this.completion.eventType.value
      : undefined;
  }

  get executionId(): string {
    return this.startEvent?.orchestrationInstance?.executionId ?? "";
  }

  get name(): string {
    return this.startEvent?.name ?? "";
  }

  /**
   * Runtime status: PENDING before the start, then the completion's status once completed (even
   * if it was suspended when it ended — durabletask-go reports SUSPENDED there), SUSPENDED, or
   * RUNNING.
   */
  get runtimeStatus(): OrchestrationStatus {
    const completed = this.completedEvent;
    if (completed !== undefined) {
      return fromWireStatus(completed.orchestrationStatus) ?? "FAILED";
    }
    if (this.start === undefined) return "PENDING";
    return this.suspended ? "SUSPENDED" : "RUNNING";
  }

  /** The instance row as this state describes it. */
  instanceUpdate(nowMs: number): InstanceUpdate {
    const start = this.startEvent;
    const completed = this.completedEvent;
    const startIsNew = this.start !== undefined && this.newEvents.includes(this.start);
    return {
      runtimeStatus: this.runtimeStatus,
      executionId: this.executionId,
      name: this.name,
      version: start?.version,
      input: startIsNew ? (start?.input ?? "") : undefined,
      parentInstanceId: start?.parentInstance?.orchestrationInstance?.instanceId,
      createdAtMs: this.start === undefined ? nowMs : eventTimeMs(this.start),
      lastUpdatedAtMs: Math.max(nowMs, this.lastUpdatedAtMs),
      completedAtMs: this.completion === undefined ? undefined : eventTimeMs(this.completion),
      output: completed?.result,
      failureDetails:
        completed?.failureDetails === undefined
          ? undefined
          : fromWireFailure(completed.failureDetails),
      customStatus: this.customStatus,
    };
  }

  /** Everything this episode writes. */
  toCommit(nowMs: number): OrchestrationCommit {
    this.remember();
    return {
      resetHistory: this.continuedAsNew,
      appendHistory: this.newEvents,
      instance: this.instanceUpdate(nowMs),
      activities: this.activities,
      timers: this.timers,
      messages: this.messages,
      subOrchestrations: this.subOrchestrations,
      cancelPendingWork: this.continuedAsNew || this.isCompleted,
    };
  }

  /** Records the state at the last event, for the next episode's history (see `observedUpTo`). */
  private remember(): void {
    const old = this.oldEvents;
    const last = this.newEvents[this.newEvents.length - 1] ?? old[old.length - 1];
    if (last === undefined || old.length + this.newEvents.length < minRecordedLength) return;
    observedUpTo.set(last, {
      first: old[0] ?? this.newEvents[0],
      length: old.length + this.newEvents.length,
      start: this.start,
      completion: this.completion,
      suspended: this.suspended,
      lastUpdatedAtMs: this.lastUpdatedAtMs,
    });
  }

  /** Ids of every sub-orchestration this execution created, in creation order, without repeats. */
  childInstanceIds(): string[] {
    const ids = new Set<string>();
    for (const e of [...this.oldEvents, ...this.newEvents]) {
      if (e.eventType.case === "subOrchestrationInstanceCreated")
        ids.add(e.eventType.value.instanceId);
    }
    return [...ids];
  }
}
