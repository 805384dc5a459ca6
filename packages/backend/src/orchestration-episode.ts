import { create } from "@bufbuild/protobuf";
import {
  describeEvent,
  type Executor,
  executionStartedEvent,
  executionTerminatedEvent,
  type FailureDetails,
  type Logger,
  orchestratorStartedEvent,
  toWireFailure,
} from "@durabletask/api";
import {
  type CompleteOrchestrationAction,
  type HistoryEvent,
  OrchestratorRequestSchema,
  OrchestrationStatus as WireStatus,
} from "@durabletask/api/proto";
import { applyActions, finish } from "./apply-actions.js";
import type { OrchestrationCommit, OrchestrationWorkItem } from "./backend.js";
import { OrchestrationRuntimeState } from "./runtime-state.js";
import { orchestrationTraceContext } from "./tracing.js";

/** Continue-as-new loops without new events are capped, as durabletask-go does. */
const maxContinueAsNewPerEpisode = 20;

/** What an episode needs besides the work item. */
export interface EpisodeContext {
  readonly executor: Executor;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signal?: AbortSignal | undefined;
  /** Called with each execution that continued as new during the episode (for tracing). */
  readonly onContinuedAsNew?: ((ended: OrchestrationRuntimeState) => void) | undefined;
}

/**
 * Runs one episode of an orchestration work item and returns what to commit. Events for a
 * completed instance are dropped (a recursive terminate is still forwarded to its children).
 * Throws only when the episode could not be run at all (the caller then abandons the item).
 */
export async function runEpisode(
  item: OrchestrationWorkItem,
  ctx: EpisodeContext,
): Promise<OrchestrationCommit> {
  let state = new OrchestrationRuntimeState(item.instanceId, item.history);
  const nowMs = ctx.now();
  const terminate = item.newEvents.find((e) => e.eventType.case === "executionTerminated");
  if (state.isCompleted) {
    ctx.logger.debug("instance already completed; dropping events", {
      instanceId: item.instanceId,
      events: item.newEvents.map(describeEvent),
    });
    forwardTermination(state, terminate, nowMs);
    return state.toCommit(nowMs);
  }
  state.addEvent(orchestratorStartedEvent(nowMs));
  addNewEvents(state, item.newEvents, ctx.logger);
  if (!state.isStarted) {
    // Only events that arrived before the start: keep them for when the instance starts.
    throw new Error(`instance '${item.instanceId}' has events but has not started yet`);
  }
  if (terminate !== undefined) {
    // A terminate wins over everything else in its batch (a result that arrived with it, or a
    // start that was scheduled for later): the orchestrator does not run again.
    enforceTermination(state, terminate, nowMs, ctx.logger);
    return state.toCommit(nowMs);
  }
  for (let generation = 0; ; generation++) {
    const request = create(OrchestratorRequestSchema, {
      instanceId: item.instanceId,
      executionId: state.executionId,
      orchestrationTraceContext: orchestrationTraceContext(state.startEvent, state.startedAt),
    });
    // Assigned rather than passed to create(), which would visit every event of a long history.
    request.pastEvents = state.oldEvents as HistoryEvent[];
    request.newEvents = [...state.newEvents];
    const response = await ctx.executor.executeOrchestrator(request, { signal: ctx.signal });
    if (response.customStatus !== undefined) state.customStatus = response.customStatus;
    const outcome = applyActions(state, response.actions, nowMs);
    if (outcome.kind === "applied") break;
    if (generation >= maxContinueAsNewPerEpisode) {
      throw new Error(
        `instance '${item.instanceId}' continued-as-new ${generation} times in one episode`,
      );
    }
    ctx.onContinuedAsNew?.(state);
    state = continueAsNew(state, outcome.action, nowMs);
  }
  return state.toCommit(nowMs);
}

/**
 * The commit that ends an instance as FAILED with `details` without running its orchestrator
 * (a poison work item): the claimed events go into history, then `executionCompleted`; a parent
 * is told like for any failure. `undefined` when the instance has not started or has completed
 * (there is nothing to fail).
 */
export function failedEpisode(
  item: OrchestrationWorkItem,
  details: FailureDetails,
  ctx: Pick<EpisodeContext, "logger" | "now">,
): OrchestrationCommit | undefined {
  const state = new OrchestrationRuntimeState(item.instanceId, item.history);
  if (state.isCompleted) return undefined;
  const nowMs = ctx.now();
  state.addEvent(orchestratorStartedEvent(nowMs));
  addNewEvents(state, item.newEvents, ctx.logger);
  if (!state.isStarted) return undefined;
  finish(state, -1, WireStatus.FAILED, undefined, toWireFailure(details), nowMs);
  return state.toCommit(nowMs);
}

function addNewEvents(
  state: OrchestrationRuntimeState,
  events: readonly HistoryEvent[],
  logger: Logger,
): void {
  for (const e of events) {
    if (!state.addEvent(e)) {
      logger.warn("dropping duplicate event", {
        instanceId: state.instanceId,
        event: describeEvent(e),
      });
    }
  }
}

/** A new execution of the same orchestration, with the new input and any carried-over events. */
function continueAsNew(
  previous: OrchestrationRuntimeState,
  action: CompleteOrchestrationAction,
  nowMs: number,
): OrchestrationRuntimeState {
  const start = previous.startEvent;
  const next = OrchestrationRuntimeState.continueAsNew(previous);
  // Messages the previous execution sent before continuing still go out.
  next.messages.push(...previous.messages);
  next.addEvent(orchestratorStartedEvent(nowMs));
  next.addEvent(
    executionStartedEvent(
      {
        name: start?.name ?? previous.name,
        instanceId: previous.instanceId,
        executionId: crypto.randomUUID(),
        input: action.result,
        version: action.newVersion ?? start?.version,
        parentInstance: start?.parentInstance,
        parentTraceContext: start?.parentTraceContext,
        tags: start?.tags,
      },
      nowMs,
    ),
  );
  for (const e of action.carryoverEvents) next.addEvent(e);
  return next;
}

/** Ends the instance as TERMINATED with the request's output; a recursive one reaches every child. */
function enforceTermination(
  state: OrchestrationRuntimeState,
  terminate: HistoryEvent | undefined,
  nowMs: number,
  logger: Logger,
): void {
  if (terminate?.eventType.case !== "executionTerminated") return;
  if (!state.isCompleted) {
    logger.info("orchestration terminated", { instanceId: state.instanceId });
    finish(state, -1, WireStatus.TERMINATED, terminate.eventType.value.input, undefined, nowMs);
  }
  forwardTermination(state, terminate, nowMs);
}

function forwardTermination(
  state: OrchestrationRuntimeState,
  terminate: HistoryEvent | undefined,
  nowMs: number,
): void {
  if (terminate?.eventType.case !== "executionTerminated" || !terminate.eventType.value.recurse)
    return;
  const { input } = terminate.eventType.value;
  for (const child of state.childInstanceIds()) {
    state.messages.push({
      targetInstanceId: child,
      event: executionTerminatedEvent(nowMs, input, true),
    });
  }
}
