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
    for (const e of history) this.observe(e);
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
