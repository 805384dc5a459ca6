import {
  DurableTaskError,
  describeEvent,
  deserializePayload,
  eventTimeMs,
  type FailureDetails,
  fromWireFailure,
  type Logger,
} from "@durabletask/api";
import type { HistoryEvent, TaskFailureDetails } from "@durabletask/api/proto";
import { type ActionKind, actionName, describeAction } from "./actions.js";
import type { ExecutionState, PendingKind, PendingTask } from "./execution-state.js";

/**
 * Applies one history event that is not about the execution's lifecycle: the clock, the
 * matching of recorded actions against the ones the code produced, task completions and
 * external events. Lifecycle events (start, suspend, resume, terminate) and bookkeeping events
 * are ignored here.
 *
 * @throws {@link DurableTaskError} `NonDeterminism` when history records an action that the
 *   orchestrator did not produce at that sequence number.
 * @internal
 */
export function applyHistoryEvent(
  state: ExecutionState,
  event: HistoryEvent,
  logger: Logger,
): void {
  const e = event.eventType;
  switch (e.case) {
    case "orchestratorStarted":
      state.currentTimeMs = eventTimeMs(event);
      break;
    case "taskScheduled":
    case "subOrchestrationInstanceCreated":
    case "eventSent":
      matchAction(state, event, e.case, e.value.name);
      break;
    case "timerCreated":
      matchAction(state, event, e.case, undefined);
      break;
    case "eventRaised":
      state.events.deliver(event, e.value);
      break;
    default:
      applyCompletion(state, event, logger);
  }
}

function applyCompletion(state: ExecutionState, event: HistoryEvent, logger: Logger): void {
  const e = event.eventType;
  const take = (id: number, kind: PendingKind) => takePending(state, id, kind, event, logger);
  switch (e.case) {
    case "taskCompleted":
      resolveWith(take(e.value.taskScheduledId, "activity"), e.value.result);
      break;
    case "taskFailed":
      rejectWith(take(e.value.taskScheduledId, "activity"), e.value.failureDetails);
      break;
    case "subOrchestrationInstanceCompleted":
      resolveWith(take(e.value.taskScheduledId, "subOrchestration"), e.value.result);
      break;
    case "subOrchestrationInstanceFailed":
      rejectWith(take(e.value.taskScheduledId, "subOrchestration"), e.value.failureDetails);
      break;
    case "timerFired":
      take(e.value.timerId, "timer")?.task.resolve(undefined);
      break;
    default:
      break;
  }
}

const recordedKind: Record<string, ActionKind> = {
  taskScheduled: "scheduleTask",
  subOrchestrationInstanceCreated: "createSubOrchestration",
  eventSent: "sendEvent",
  timerCreated: "createTimer",
};

const recordedWhat: Record<string, (name: string | undefined) => string> = {
  taskScheduled: (name) => `a call to activity '${name}'`,
  subOrchestrationInstanceCreated: (name) => `a call to sub-orchestrator '${name}'`,
  eventSent: (name) => `sending event '${name}'`,
  timerCreated: () => "a timer",
};

// History records the action the orchestrator produced at sequence number `eventId` in an
// earlier episode; the replayed code must have produced the same kind (and name) again.
function matchAction(
  state: ExecutionState,
  event: HistoryEvent,
  recorded: keyof typeof recordedKind,
  name: string | undefined,
): void {
  const id = event.eventId;
  const expected = recordedKind[recorded];
  const action = state.actions.get(id)?.orchestratorActionType;
  if (action !== undefined && action.case === expected && actionName(action) === name) {
    state.actions.delete(id);
    return;
  }
  const what = `${describeEvent(event)} records ${recordedWhat[recorded]?.(name)}`;
  const instead =
    action === undefined
      ? "the orchestrator did not schedule anything with that sequence number"
      : `the orchestrator now produced ${describeAction(action)} with that sequence number`;
  throw new DurableTaskError(
    "NonDeterminism",
    `Non-deterministic orchestrator: history event ${what} at sequence number ${id}, but ${instead}. ` +
      "Orchestrator code must make the same calls in the same order on every replay.",
  );
}

function takePending(
  state: ExecutionState,
  id: number,
  kind: PendingKind,
  event: HistoryEvent,
  logger: Logger,
): PendingTask | undefined {
  const pending = state.tasks.get(id);
  if (pending === undefined || pending.kind !== kind) {
    const fields = { event: describeEvent(event), taskId: id, pendingKind: pending?.kind };
    logger.debug("ignoring a completion event that matches no waiting task", fields);
    return undefined;
  }
  state.tasks.delete(id);
  return pending;
}

function resolveWith(pending: PendingTask | undefined, result: string | undefined): void {
  if (pending === undefined) return;
  try {
    pending.task.resolve(deserializePayload(result, `result of ${label(pending)}`));
  } catch (err) {
    pending.task.reject(err);
  }
}

function rejectWith(pending: PendingTask | undefined, wire: TaskFailureDetails | undefined): void {
  if (pending === undefined) return;
  const failureDetails: FailureDetails =
    wire === undefined
      ? { errorType: "Unknown", errorMessage: "no failure details were recorded" }
      : fromWireFailure(wire);
  const message = `${label(pending)} failed: ${failureDetails.errorMessage}`;
  pending.task.reject(new DurableTaskError("TaskFailed", message, { failureDetails }));
}

function label(pending: PendingTask): string {
  const kind = pending.kind === "activity" ? "Activity" : "Sub-orchestration";
  return `${kind} '${pending.name}' (task ${pending.id})`;
}
