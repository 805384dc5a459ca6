import { create } from "@bufbuild/protobuf";
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
  await replay.run();
  return replay.response();
}

// Lets every queued microtask run. User continuations after a settled task are microtasks (a
// chain of any length), and Node drains the whole microtask queue before it runs the next
// macrotask, so once this resolves the orchestrator has gone as far as the settled tasks allow.
// Draining after each completing event, before the next one is applied, makes the order user
// code observes (Promise.race, whenAny, interleaved branches) equal to history order.
function macrotaskBoundary(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class OrchestrationReplay {
  readonly #request: OrchestratorRequest;
  readonly #registry: TaskRegistry;
  readonly #logger: Logger;
  readonly #state = new ExecutionState();
  #started = false;
  #outcome: TaskOutcome<unknown> | undefined;
  #completion: { readonly action: OrchestratorAction; readonly exclusive: boolean } | undefined;
  /** Events after the one being applied; carried over if the execution continues as new. */
  #unapplied: readonly HistoryEvent[] = [];
  /** Events held back while the execution is suspended; `undefined` when it is not. */
  #suspended: HistoryEvent[] | undefined;

  constructor(request: OrchestratorRequest, registry: TaskRegistry, logger: Logger) {
    this.#request = request;
    this.#registry = registry;
    this.#logger = logger;
  }

  async run(): Promise<void> {
    const { pastEvents, newEvents } = this.#request;
    try {
      const history = [...pastEvents, ...newEvents];
      for (const [index, event] of history.entries()) {
        if (this.#completion !== undefined) return;
        this.#state.isReplaying = index < pastEvents.length;
        this.#unapplied = history.slice(index + 1);
        await this.#apply(event);
      }
      this.#unapplied = [];
      if (!this.#started) this.#logger.warn("history has no executionStarted event; nothing ran");
    } catch (err) {
      this.#logger.error("orchestrator episode failed inside the engine", { error: err });
      this.#finish({ status: "FAILED", failure: failureOf(err) }, true);
    }
  }

  response(): OrchestratorResponse {
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
      instanceId: this.#request.instanceId,
      actions,
      customStatus,
    });
  }

  async #apply(event: HistoryEvent): Promise<void> {
    if (this.#completion !== undefined) return;
    const kind = event.eventType.case;
    if (kind === "executionResumed") return this.#resume();
    if (this.#suspended !== undefined && kind !== "executionTerminated") {
      this.#suspended.push(event);
      return;
    }
    this.#state.scope.takeSettled();
    const startedUserCode = this.#dispatch(event);
    if (this.#completion !== undefined) return;
    if (startedUserCode || this.#state.scope.takeSettled()) await this.#drain();
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
    const ctx = new DurableOrchestrationContext(this.#state, executionInfo(started, this.#request));
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
            ...this.#unapplied.filter((e) => e.eventType.case === "eventRaised"),
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
  request: OrchestratorRequest,
): ExecutionInfo {
  const instance = started.orchestrationInstance;
  return {
    instanceId: request.instanceId || (instance?.instanceId ?? ""),
    executionId: instance?.executionId ?? request.executionId ?? "",
    name: started.name,
    parentInstanceId: started.parentInstance?.orchestrationInstance?.instanceId,
  };
}
