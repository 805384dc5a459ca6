import { assertInstanceId, assertName, serializePayload } from "@durabletask/api";
import { createSubOrchestration, scheduleTask, sendEvent } from "./actions.js";
import type { Activity } from "./activity-context.js";
import {
  checkActivityOptions,
  checkContinueAsNewOptions,
  checkSubOrchestratorOptions,
  checkWaitOptions,
  fireAtMsOf,
} from "./context-arguments.js";
import type { ExecutionState } from "./execution-state.js";
import { deterministicGuid } from "./new-guid.js";
import type {
  CallActivityOptions,
  CallSubOrchestratorOptions,
  ContinueAsNewOptions,
  OrchestrationContext,
  Orchestrator,
  WaitForExternalEventOptions,
} from "./orchestration-context.js";
import { type RetryHost, withRetry } from "./retry.js";
import type { Task } from "./task.js";
import { type WhenAllResult, whenAll, whenAny } from "./task-combinators.js";
import { taskNameOf } from "./task-name.js";

/** Identity of the execution a context serves. @internal */
export interface ExecutionInfo {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly parentInstanceId: string | undefined;
}

/**
 * The engine's {@link OrchestrationContext}: validates arguments, turns calls into actions of
 * the {@link ExecutionState} and hands back the tasks that history will settle.
 *
 * @internal
 */
export class DurableOrchestrationContext implements OrchestrationContext {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly parentInstanceId: string | undefined;
  readonly #state: ExecutionState;
  readonly #retryHost: RetryHost;
  #guidCounter = 0;

  constructor(state: ExecutionState, info: ExecutionInfo) {
    this.instanceId = info.instanceId;
    this.executionId = info.executionId;
    this.name = info.name;
    this.parentInstanceId = info.parentInstanceId;
    this.#state = state;
    this.#retryHost = {
      scope: state.scope,
      nowMs: () => state.currentTimeMs,
      createTimer: (fireAtMs) => state.createTimer(fireAtMs),
    };
  }

  get isReplaying(): boolean {
    return this.#state.isReplaying;
  }

  get currentUtcDateTime(): Date {
    return new Date(this.#state.currentTimeMs);
  }

  callActivity<TOut>(
    activity: string | Activity<never, TOut>,
    input?: unknown,
    options?: CallActivityOptions,
  ): Task<TOut> {
    const name = taskNameOf(activity, "activity");
    const payload = serializePayload(input, "input");
    const { retry, version, tags } = checkActivityOptions(options);
    const attempt = () =>
      this.#state.schedule<TOut>("activity", name, () =>
        scheduleTask({ name, input: payload, version, tags }),
      );
    return retry === undefined ? attempt() : withRetry(this.#retryHost, retry, attempt);
  }

  callSubOrchestrator<TOut>(
    orchestrator: string | Orchestrator<never, TOut>,
    input?: unknown,
    options?: CallSubOrchestratorOptions,
  ): Task<TOut> {
    const name = taskNameOf(orchestrator, "orchestrator");
    const payload = serializePayload(input, "input");
    const { instanceId, retry, version } = checkSubOrchestratorOptions(options);
    // Every retry attempt re-creates the same child, named after the first attempt's id.
    let childId = instanceId;
    const attempt = () =>
      this.#state.schedule<TOut>("subOrchestration", name, (id) => {
        childId ??= defaultChildInstanceId(this.instanceId, id);
        return createSubOrchestration(childId, name, payload, version);
      });
    return retry === undefined ? attempt() : withRetry(this.#retryHost, retry, attempt);
  }

  createTimer(delayMsOrFireAt: number | Date): Task<void> {
    return this.#state.createTimer(fireAtMsOf(delayMsOrFireAt, this.#state.currentTimeMs));
  }

  waitForExternalEvent<T>(name: string, options?: WaitForExternalEventOptions): Task<T> {
    assertName(name, "name");
    const timeoutMs = checkWaitOptions(options);
    const state = this.#state;
    return state.events.wait<T>(name, timeoutMs, (delayMs) =>
      state.createTimer(state.currentTimeMs + delayMs),
    );
  }

  sendEvent(instanceId: string, name: string, data?: unknown): void {
    assertInstanceId(instanceId, "instanceId");
    assertName(name, "name");
    const payload = serializePayload(data, "data");
    this.#state.addAction(() => sendEvent(instanceId, name, payload));
  }

  continueAsNew(input: unknown, options?: ContinueAsNewOptions): void {
    const payload = serializePayload(input, "input");
    const keepUnprocessedEvents = checkContinueAsNewOptions(options);
    this.#state.continuation = { input: payload, keepUnprocessedEvents };
  }

  setCustomStatus(value: unknown): void {
    this.#state.customStatus = serializePayload(value, "customStatus");
  }

  newGuid(): string {
    const counter = this.#guidCounter;
    this.#guidCounter += 1;
    return deterministicGuid(this.instanceId, this.currentUtcDateTime, counter);
  }

  whenAll<T extends readonly Task<unknown>[]>(tasks: T): Task<WhenAllResult<T>> {
    return whenAll(this.#state.scope, tasks);
  }

  whenAny(tasks: readonly Task<unknown>[]): Task<number> {
    return whenAny(this.#state.scope, tasks);
  }
}

/** `<parent instance id>:<sequence number as at least 4 lowercase hex digits>`. @internal */
export function defaultChildInstanceId(parentInstanceId: string, id: number): string {
  return `${parentInstanceId}:${id.toString(16).padStart(4, "0")}`;
}
