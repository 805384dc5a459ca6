import { create, equals } from "@bufbuild/protobuf";
import {
  DurableTaskError,
  deserializePayload,
  type FailureDetails,
  failureOf,
  type Logger,
  serializePayload,
} from "@durabletask/api";
import {
  type ExecutionStartedEvent,
  type HistoryEvent,
  HistoryEventSchema,
  type OrchestratorAction,
  type OrchestratorRequest,
  type OrchestratorResponse,
  OrchestratorResponseSchema,
} from "@durabletask/api/proto";
import { action, type Completion, completeOrchestration } from "./actions.js";
import { applyHistoryEvent } from "./apply-history-event.js";
import {
  DurableOrchestrationContext,
  type ExecutionInfo,
} from "./durable-orchestration-context.js";
import { ExecutionState } from "./execution-state.js";
import type { Orchestrator } from "./orchestration-context.js";
import type { TaskRegistry } from "./registry.js";
import type { TaskOutcome } from "./task.js";

/**
 * Runs one orchestrator episode: replays `pastEvents`, applies `newEvents` and returns the new
 * actions. Never throws: failures of user code, nondeterminism and engine bugs all become a
 * FAILED CompleteOrchestration action.
 *
 * @internal
 */
export async function replayOrchestration(
  request: OrchestratorRequest,
  registry: TaskRegistry,
  logger: Logger,
): Promise<OrchestratorResponse> {
  const replay = new OrchestrationReplay(request, registry, logger);
  await replay.run(request);
  return replay.response(request);
}

// Lets every queued microtask run. User continuations after a settled task are microtasks (a
// chain of any length), and Node drains the whole microtask queue before it runs the next
// macrotask, so once this resolves the orchestrator has gone as far as the settled tasks allow.
// Draining after each completing event, before the next one is applied, makes the order user
// code observes (Promise.race, whenAny, interleaved branches) equal to history order.
function macrotaskBoundary(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One execution's orchestrator, replayed. After an episode that did not end the execution it can
 * be kept and resumed by the next episode's request ({@link OrchestrationReplay.continues}), so a
 * warm instance applies only the events it has not seen instead of replaying its whole history.
 *
 * @internal
 */
export class OrchestrationReplay {
  /** The first request's ids (a kept replay holds no request, so no history arrays). */
  readonly #ids: Pick<OrchestratorRequest, "instanceId" | "executionId">;
  readonly #registry: TaskRegistry;
  readonly #logger: Logger;
  readonly #state = new ExecutionState();
  #started = false;
  #outcome: TaskOutcome<unknown> | undefined;
  #completion: { readonly action: OrchestratorAction; readonly exclusive: boolean } | undefined;
  /** Where the events after the one being applied are; carried over on continue-as-new. */
  #unapplied:
    | {
        readonly pastEvents: readonly HistoryEvent[];
        readonly newEvents: readonly HistoryEvent[];
        from: number;
      }
    | undefined;
  /** Events held back while the execution is suspended; `undefined` when it is not. */
  #suspended: HistoryEvent[] | undefined;
  /** How many history events (past and new, in order) have been applied. */
  #applied = 0;
  /** The first applied events (the execution's start), to recognize the same history. */
  #head: HistoryEvent[] = [];
  /** The applied events since the latest `orchestratorStarted`, and its position. */
  #segment: HistoryEvent[] = [];
  #segmentStart = 0;

  constructor(request: OrchestratorRequest, registry: TaskRegistry, logger: Logger) {
    this.#ids = { instanceId: request.instanceId, executionId: request.executionId };
    this.#registry = registry;
    this.#logger = logger;
  }

  /**
   * Applies the request's history from the first event not applied yet: everything on a fresh
   * replay, only the unseen tail when resumed (then `pastEvents` must extend what was applied,
   * see {@link continues}).
   */
  async run(request: OrchestratorRequest): Promise<void> {
    const { pastEvents, newEvents } = request;
    const from = this.#applied;
    try {
      const total = pastEvents.length + newEvents.length;
      const unapplied = { pastEvents, newEvents, from };
      this.#unapplied = unapplied;
      for (let index = from; index < total; index++) {
        if (this.#completion !== undefined) return;
        const past = index < pastEvents.length;
        const event = (
          past ? pastEvents[index] : newEvents[index - pastEvents.length]
        ) as HistoryEvent;
        this.#state.isReplaying = past;
        unapplied.from = index + 1;
        this.#remember(event);
        // Most events only record a result: no promise to wait for unless user code may run.
        const applying = this.#apply(event);
        if (applying !== undefined) await applying;
      }
      this.#unapplied = undefined;
      if (!this.#started) this.#logger.warn("history has no executionStarted event; nothing ran");
    } catch (err) {
      this.#logger.error("orchestrator episode failed inside the engine", { error: err });
      this.#finish({ status: "FAILED", failure: failureOf(err) }, true);
    }
  }

  /** True while the execution has not ended: a later episode may resume it. */
  get resumable(): boolean {
    return this.#completion === undefined && this.#started;
  }

  /**
   * Whether `request` continues exactly the history applied so far: its `pastEvents` are at least
   * as long and hold the same events at the start and over the latest episode (same objects, or
   * equal ones when they were decoded again). Anything else — another worker's different episode,
   * a purged and re-created instance, a replay that never committed — needs a fresh replay.
   */
  continues(request: OrchestratorRequest): boolean {
    const past = request.pastEvents;
    if (past.length < this.#applied) return false;
    for (const [i, event] of this.#head.entries()) {
      if (!sameEvent(past[i], event)) return false;
    }
    for (const [i, event] of this.#segment.entries()) {
      if (!sameEvent(past[this.#segmentStart + i], event)) return false;
    }
    return true;
  }

  #remember(event: HistoryEvent): void {
    if (this.#head.length < 2) this.#head.push(event);
    if (event.eventType.case === "orchestratorStarted") {
      this.#segment = [event];
      this.#segmentStart = this.#applied;
    } else {
      this.#segment.push(event);
    }
    this.#applied += 1;
  }

  /** The actions not yet recorded in history, or the completion. */
  response(request: OrchestratorRequest): OrchestratorResponse {
    const pending = this.#state.pendingActions();
    const completion = this.#completion;
    let actions: OrchestratorAction[];
    if (completion !== undefined) {
      actions = completion.exclusive ? [completion.action] : [...pending, completion.action];
    } else {
      actions = this.#suspended === undefined ? pending : [];
    }
    const { customStatus } = this.#state;
    return create(OrchestratorResponseSchema, {
      instanceId: request.instanceId,
      actions,
      customStatus,
    });
  }

  /** Applies `event`; a promise when user code may run, settled once it has gone as far as it can. */
  #apply(event: HistoryEvent): Promise<void> | undefined {
    if (this.#completion !== undefined) return undefined;
    const kind = event.eventType.case;
    if (kind === "executionResumed") return this.#resume();
    if (this.#suspended !== undefined && kind !== "executionTerminated") {
      this.#suspended.push(event);
      return undefined;
    }
    this.#state.scope.takeSettled();
    const startedUserCode = this.#dispatch(event);
    if (this.#completion !== undefined) return undefined;
    if (startedUserCode || this.#state.scope.takeSettled()) return this.#drain();
    return undefined;
  }

  /** Applies `event` synchronously; true when it started the orchestrator function. */
  #dispatch(event: HistoryEvent): boolean {
    const e = event.eventType;
    switch (e.case) {
      case "executionStarted":
        return this.#start(e.value);
      case "executionTerminated":
        this.#finish({ status: "TERMINATED", result: e.value.input }, true);
        return false;
      case "executionSuspended":
        this.#suspended ??= [];
        return false;
      default:
        this.#applyOrFail(event);
        return false;
    }
  }

  #applyOrFail(event: HistoryEvent): void {
    try {
      applyHistoryEvent(this.#state, event, this.#logger);
    } catch (err) {
      if (!DurableTaskError.is(err, "NonDeterminism")) throw err;
      this.#fail({ errorType: "NonDeterminism", errorMessage: err.message });
    }
  }

  async #resume(): Promise<void> {
    const held = this.#suspended ?? [];
    this.#suspended = undefined;
    for (const event of held) await this.#apply(event);
  }

  #start(started: ExecutionStartedEvent): boolean {
    if (this.#started) {
      this.#logger.warn("ignoring a second executionStarted event");
      return false;
    }
    this.#started = true;
    const orchestrator = this.#registry.getOrchestrator(started.name);
    if (orchestrator === undefined) {
      const errorMessage = `No orchestrator named '${started.name}' is registered`;
      this.#fail({ errorType: "OrchestratorNotRegistered", errorMessage });
      return false;
    }
    const ctx = new DurableOrchestrationContext(this.#state, executionInfo(started, this.#ids));
    invoke(orchestrator, ctx, started.input).then(
      (value) => {
        this.#outcome = { ok: true, value };
      },
      (error: unknown) => {
        this.#outcome = { ok: false, error };
      },
    );
    return true;
  }

  async #drain(): Promise<void> {
    await macrotaskBoundary();
    if (this.#completion !== undefined) return;
    if (this.#outcome !== undefined) return this.#completeWith(this.#outcome);
    // Not finished and not waiting on any durable task: the orchestrator awaits something the
    // engine cannot replay (setTimeout, I/O, a foreign promise); it would never resume the same
    // way twice, so it is failed rather than left hanging.
    if (!this.#state.scope.hasAwaitedOpenTask()) {
      this.#fail({
        errorType: "NonDeterminism",
        errorMessage:
          "The orchestrator awaited a non-durable promise (setTimeout, I/O or another promise not " +
          "created by its OrchestrationContext). Orchestrators may only await context tasks.",
      });
    }
  }

  #completeWith(outcome: TaskOutcome<unknown>): void {
    const continuation = this.#state.continuation;
    if (outcome.ok && continuation !== undefined) {
      const { input: result, keepUnprocessedEvents } = continuation;
      // Raised events the execution never saw — buffered, or not yet applied because it ended
      // part-way through this episode's events — belong to the next execution.
      const carryoverEvents = keepUnprocessedEvents
        ? [
            ...this.#state.events.unconsumed(),
            ...unappliedOf(this.#unapplied).filter((e) => e.eventType.case === "eventRaised"),
          ]
        : [];
      this.#finish({ status: "CONTINUED_AS_NEW", result, carryoverEvents }, true);
    } else {
      this.#finish(outcomeCompletion(outcome), false);
    }
  }

  #fail(failure: FailureDetails): void {
    this.#finish({ status: "FAILED", failure }, true);
  }

  /** Ends the execution; `exclusive` drops every other pending action. */
  #finish(completion: Completion, exclusive: boolean): void {
    if (this.#completion !== undefined) return;
    const id = this.#state.nextId();
    this.#completion = { action: action(id, completeOrchestration(completion)), exclusive };
  }
}

function unappliedOf(
  at:
    | { pastEvents: readonly HistoryEvent[]; newEvents: readonly HistoryEvent[]; from: number }
    | undefined,
): HistoryEvent[] {
  if (at === undefined) return [];
  const { pastEvents, newEvents, from } = at;
  return from < pastEvents.length
    ? [...pastEvents.slice(from), ...newEvents]
    : newEvents.slice(from - pastEvents.length);
}

function sameEvent(a: HistoryEvent | undefined, b: HistoryEvent): boolean {
  return a === b || (a !== undefined && equals(HistoryEventSchema, a, b));
}

function outcomeCompletion(outcome: TaskOutcome<unknown>): Completion {
  if (!outcome.ok) return { status: "FAILED", failure: failureOf(outcome.error) };
  try {
    return { status: "COMPLETED", result: serializePayload(outcome.value, "output") };
  } catch (err) {
    return { status: "FAILED", failure: failureOf(err) };
  }
}

async function invoke(
  orchestrator: Orchestrator,
  ctx: DurableOrchestrationContext,
  input: string | undefined,
): Promise<unknown> {
  return orchestrator(ctx, deserializePayload(input, "input"));
}

function executionInfo(
  started: ExecutionStartedEvent,
  request: Pick<OrchestratorRequest, "instanceId" | "executionId">,
): ExecutionInfo {
  const instance = started.orchestrationInstance;
  return {
    instanceId: request.instanceId || (instance?.instanceId ?? ""),
    executionId: instance?.executionId ?? request.executionId ?? "",
    name: started.name,
    parentInstanceId: started.parentInstance?.orchestrationInstance?.instanceId,
  };
}
