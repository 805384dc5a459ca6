import type { OrchestratorAction } from "@durabletask/api/proto";
import { type ActionType, action, createTimer } from "./actions.js";
import { ExternalEvents } from "./external-events.js";
import { type CompletableTask, TaskScope } from "./task.js";

/** What kind of result a scheduled task waits for. @internal */
export type PendingKind = "activity" | "subOrchestration" | "timer";

/** A scheduled task waiting for its completion event. @internal */
export interface PendingTask {
  readonly kind: PendingKind;
  /** Sequence number of the action that scheduled it. */
  readonly id: number;
  /** Activity or sub-orchestrator name (empty for timers), for error messages. */
  readonly name: string;
  readonly task: CompletableTask<unknown>;
}

/** A continue-as-new requested by the orchestrator. @internal */
export interface ContinuationRequest {
  readonly input: string | undefined;
  readonly keepUnprocessedEvents: boolean;
}

/**
 * The mutable state of one orchestration execution during an episode: the sequence counter,
 * actions not yet matched by history, tasks waiting for completion events, the clock and the
 * orchestrator's requests (custom status, continue-as-new).
 *
 * @internal
 */
export class ExecutionState {
  readonly scope = new TaskScope();
  readonly events = new ExternalEvents(this.scope);
  /** Actions by sequence number that history has not (yet) recorded. */
  readonly actions = new Map<number, OrchestratorAction>();
  /** Tasks by sequence number that wait for a completion event. */
  readonly tasks = new Map<number, PendingTask>();
  isReplaying = true;
  /** The orchestration clock: timestamp of the latest `orchestratorStarted`, epoch ms. */
  currentTimeMs = 0;
  customStatus: string | undefined;
  continuation: ContinuationRequest | undefined;
  #sequence = 0;

  /** Takes the next sequence number. */
  nextId(): number {
    const id = this.#sequence;
    this.#sequence += 1;
    return id;
  }

  /** Records an action with the next sequence number and returns that number. */
  addAction(build: (id: number) => ActionType): number {
    const id = this.nextId();
    this.actions.set(id, action(id, build(id)));
    return id;
  }

  /** Records an action and a task that the action's completion event will settle. */
  schedule<T>(
    kind: PendingKind,
    name: string,
    build: (id: number) => ActionType,
  ): CompletableTask<T> {
    const task = this.scope.create<T>();
    const id = this.addAction(build);
    this.tasks.set(id, { kind, id, name, task: task as CompletableTask<unknown> });
    return task;
  }

  /** Schedules a durable timer firing at `fireAtMs` (epoch ms). */
  createTimer(fireAtMs: number): CompletableTask<void> {
    return this.schedule<void>("timer", "", () => createTimer(fireAtMs));
  }

  /** The actions not matched by history, by sequence number. */
  pendingActions(): OrchestratorAction[] {
    return [...this.actions.values()].sort((a, b) => a.id - b.id);
  }
}
