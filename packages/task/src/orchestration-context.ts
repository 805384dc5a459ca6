import type { Activity } from "./activity-context.js";
import type { RetryPolicy } from "./retry-policy.js";
import type { Task } from "./task.js";
import type { WhenAllResult } from "./task-combinators.js";

/**
 * An orchestrator: deterministic code that coordinates activities, timers, events and
 * sub-orchestrations through its {@link OrchestrationContext}. It is replayed from history on
 * every episode, so it must only wait on tasks of its context (never on `setTimeout`, I/O or
 * other promises) and must not read the wall clock or random numbers directly.
 */
export type Orchestrator<TIn = unknown, TOut = unknown> = (
  ctx: OrchestrationContext,
  input: TIn,
) => Promise<TOut> | TOut;

/** Options of {@link OrchestrationContext.callActivity}. */
export interface CallActivityOptions {
  /** Retry the call on failure according to this policy. */
  readonly retry?: RetryPolicy | undefined;
  /** Version of the activity to call. */
  readonly version?: string | undefined;
  /** Tags passed along with the call. */
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** Options of {@link OrchestrationContext.callSubOrchestrator}. */
export interface CallSubOrchestratorOptions {
  /** Instance id of the child; default `<parent instance id>:<sequence number as 4 hex digits>`. */
  readonly instanceId?: string | undefined;
  /** Retry the call on failure; every attempt reuses the same child instance id. */
  readonly retry?: RetryPolicy | undefined;
  /** Version of the sub-orchestrator to start. */
  readonly version?: string | undefined;
}

/** Options of {@link OrchestrationContext.waitForExternalEvent}. */
export interface WaitForExternalEventOptions {
  /**
   * Give up after this many milliseconds of orchestration time with a `TaskCanceled`
   * {@link DurableTaskError}; `0` gives up at once unless the event already arrived. Without
   * it, wait forever.
   */
  readonly timeoutMs?: number | undefined;
}

/** Options of {@link OrchestrationContext.continueAsNew}. */
export interface ContinueAsNewOptions {
  /** Carry external events that arrived but were not consumed over to the new execution. */
  readonly keepUnprocessedEvents?: boolean | undefined;
}

/**
 * The orchestrator's handle on the engine. Every scheduling method takes the next sequence
 * number of the execution, so calls must happen in the same order on every replay.
 *
 * Arguments are validated synchronously: malformed ones throw a {@link DurableTaskError} with
 * code `InvalidArgument` naming the field, including inputs that cannot be serialized to JSON.
 */
export interface OrchestrationContext {
  readonly instanceId: string;
  readonly executionId: string;
  /** The orchestrator name this execution was started with. */
  readonly name: string;
  /** Instance id of the parent orchestration, for a sub-orchestration. */
  readonly parentInstanceId: string | undefined;
  /** True while the engine re-runs code for events that are already in history. */
  readonly isReplaying: boolean;
  /** Deterministic "now": the start time of the episode that is being applied. */
  readonly currentUtcDateTime: Date;

  /**
   * Schedules activity `activity` (a name, or a named function whose name is used) with `input`.
   * The task fails with a `TaskFailed` {@link DurableTaskError} carrying the activity's failure.
   */
  callActivity<TOut = unknown>(
    activity: string,
    input?: unknown,
    options?: CallActivityOptions,
  ): Task<TOut>;
  callActivity<TIn, TOut>(
    activity: Activity<TIn, TOut>,
    input?: TIn,
    options?: CallActivityOptions,
  ): Task<TOut>;

  /** Starts sub-orchestration `orchestrator` and waits for its output (or `TaskFailed`). */
  callSubOrchestrator<TOut = unknown>(
    orchestrator: string,
    input?: unknown,
    options?: CallSubOrchestratorOptions,
  ): Task<TOut>;
  callSubOrchestrator<TIn, TOut>(
    orchestrator: Orchestrator<TIn, TOut>,
    input?: TIn,
    options?: CallSubOrchestratorOptions,
  ): Task<TOut>;

  /** A durable timer firing `delayMs` after {@link currentUtcDateTime}, or at `fireAt`. */
  createTimer(delayMsOrFireAt: number | Date): Task<void>;

  /**
   * Waits for the next external event called `name` (case-insensitive) and yields its data.
   * Events that arrive with nobody waiting are kept; waiters and events pair up first in,
   * first out.
   */
  waitForExternalEvent<T = unknown>(name: string, options?: WaitForExternalEventOptions): Task<T>;

  /** Raises event `name` with `data` on orchestration `instanceId` (fire and forget). */
  sendEvent(instanceId: string, name: string, data?: unknown): void;

  /**
   * Ends this execution when the orchestrator returns and starts a fresh one with `input` (the
   * return value is then ignored). History is reset; see {@link ContinueAsNewOptions}.
   */
  continueAsNew(input: unknown, options?: ContinueAsNewOptions): void;

  /** Publishes `value` (JSON) as the custom status; `undefined` clears it. */
  setCustomStatus(value: unknown): void;

  /** A deterministic UUID (v5, the .NET SDK's scheme): equal on every replay, new per call. */
  newGuid(): string;

  /** A task completing with every result in order, or failing with the first failure. */
  whenAll<T extends readonly Task<unknown>[]>(tasks: T): Task<WhenAllResult<T>>;

  /**
   * A task completing with the index of the first task (in history order) to succeed or fail.
   * Await that task for its result. (It yields an index rather than the task because awaiting a
   * task-valued result would unwrap it.)
   */
  whenAny(tasks: readonly Task<unknown>[]): Task<number>;
}
