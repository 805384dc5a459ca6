import { create } from "@bufbuild/protobuf";
import {
  eventRaisedEvent,
  eventSentEvent,
  executionCompletedEvent,
  executionStartedEvent,
  executionTerminatedEvent,
  msOfTimestamp,
  subOrchestrationCompletedEvent,
  subOrchestrationCreatedEvent,
  subOrchestrationFailedEvent,
  taskScheduledEvent,
  timerCreatedEvent,
  timerFiredEvent,
  toWireFailure,
} from "@durabletask/api";
import {
  type CompleteOrchestrationAction,
  type CreateSubOrchestrationAction,
  type HistoryEvent,
  type OrchestratorAction,
  ParentInstanceInfoSchema,
  type TaskFailureDetails,
  OrchestrationStatus as WireStatus,
} from "@durabletask/api/proto";
import type { OrchestrationRuntimeState } from "./runtime-state.js";
import { childTraceContext } from "./tracing.js";

/** How applying an episode's actions ended. */
export type ApplyOutcome =
  | { readonly kind: "applied" }
  | { readonly kind: "continuedAsNew"; readonly action: CompleteOrchestrationAction };

/** Default id of a sub-orchestration created without one: `<parent id>:<sequence as 4 hex>`. */
export function defaultChildInstanceId(parentInstanceId: string, actionId: number): string {
  return `${parentInstanceId}:${actionId.toString(16).padStart(4, "0")}`;
}

/**
 * Records an episode's actions in `state`: history events for the orchestrator's decisions and
 * the outbox (activities, timers, messages, sub-orchestrations). Actions are applied in id order;
 * once the orchestration completes, later actions are ignored (no work is scheduled for a
 * completed instance). Continue-as-new is returned to the caller, which starts a new execution.
 */
export function applyActions(
  state: OrchestrationRuntimeState,
  actions: readonly OrchestratorAction[],
  nowMs: number,
): ApplyOutcome {
  const ordered = [...actions].sort((a, b) => a.id - b.id);
  const completion = ordered.find((a) => a.orchestratorActionType.case === "completeOrchestration");
  const value = completion?.orchestratorActionType.value as CompleteOrchestrationAction | undefined;
  const continuing = value?.orchestrationStatus === WireStatus.CONTINUED_AS_NEW;
  for (const action of ordered) {
    if (state.isCompleted) break;
    if (
      action === completion ||
      (completion !== undefined && isSkippedOnCompletion(action, continuing))
    ) {
      continue;
    }
    applyAction(state, action, nowMs);
  }
  if (completion === undefined || value === undefined || state.isCompleted)
    return { kind: "applied" };
  if (continuing) {
    return { kind: "continuedAsNew", action: value };
  }
  completeExecution(state, completion.id, value, nowMs);
  return { kind: "applied" };
}

/**
 * What an episode that completes the orchestration does not schedule: timers (nobody is left to
 * wait for them, e.g. the loser of a whenAny race), and when it continues as new, any work of
 * the ending execution. Activities and sub-orchestrations started and not awaited in the final
 * episode of a completing orchestration still run: they are fire-and-forget side effects.
 */
function isSkippedOnCompletion(action: OrchestratorAction, continuing: boolean): boolean {
  const kind = action.orchestratorActionType.case;
  if (kind === "createTimer") return true;
  return continuing && (kind === "scheduleTask" || kind === "createSubOrchestration");
}

function applyAction(
  state: OrchestrationRuntimeState,
  action: OrchestratorAction,
  nowMs: number,
): void {
  const a = action.orchestratorActionType;
  switch (a.case) {
    case "scheduleTask": {
      const v = a.value;
      const e = taskScheduledEvent(
        action.id,
        nowMs,
        v.name,
        v.input,
        v.version,
        childTraceContext(state.startEvent) ?? v.parentTraceContext,
        v.tags,
      );
      state.addEvent(e);
      state.activities.push(e);
      return;
    }
    case "createTimer": {
      const fireAtMs = msOfTimestamp(a.value.fireAt) ?? nowMs;
      state.addEvent(timerCreatedEvent(action.id, nowMs, fireAtMs));
      state.timers.push({ event: timerFiredEvent(fireAtMs, action.id, fireAtMs), fireAtMs });
      return;
    }
    case "createSubOrchestration":
      createSubOrchestration(state, action.id, a.value, nowMs);
      return;
    case "sendEvent": {
      const target = a.value.instance?.instanceId ?? "";
      state.addEvent(eventSentEvent(action.id, nowMs, target, a.value.name, a.value.data));
      if (target !== "") {
        state.messages.push({
          targetInstanceId: target,
          event: eventRaisedEvent(nowMs, a.value.name, a.value.data),
        });
      }
      return;
    }
    case "terminateOrchestration":
      state.messages.push({
        targetInstanceId: a.value.instanceId,
        event: executionTerminatedEvent(nowMs, a.value.reason, a.value.recurse),
      });
      return;
    default:
      failUnsupported(state, action, nowMs);
  }
}

function createSubOrchestration(
  state: OrchestrationRuntimeState,
  actionId: number,
  v: CreateSubOrchestrationAction,
  nowMs: number,
): void {
  const childId =
    v.instanceId === "" ? defaultChildInstanceId(state.instanceId, actionId) : v.instanceId;
  const parentTraceContext = childTraceContext(state.startEvent) ?? v.parentTraceContext;
  state.addEvent(
    subOrchestrationCreatedEvent(actionId, nowMs, {
      instanceId: childId,
      name: v.name,
      input: v.input,
      version: v.version,
      parentTraceContext,
      tags: v.tags,
    }),
  );
  const parentInstance = create(ParentInstanceInfoSchema, {
    taskScheduledId: actionId,
    name: state.name,
    version: state.startEvent?.version,
    orchestrationInstance: { instanceId: state.instanceId, executionId: state.executionId },
  });
  const startEvent = executionStartedEvent(
    {
      name: v.name,
      instanceId: childId,
      executionId: crypto.randomUUID(),
      input: v.input,
      version: v.version,
      parentInstance,
      parentTraceContext,
      tags: v.tags,
    },
    nowMs,
  );
  const conflict = failure(
    "InstanceExists",
    `Sub-orchestration '${v.name}' could not be started: an instance with id '${childId}' already exists and is not in a terminal state.`,
  );
  state.subOrchestrations.push({
    startEvent,
    conflictEvent: subOrchestrationFailedEvent(nowMs, actionId, conflict),
  });
}

function failUnsupported(
  state: OrchestrationRuntimeState,
  action: OrchestratorAction,
  nowMs: number,
): void {
  const kind = action.orchestratorActionType.case ?? "unknown";
  const details = failure(
    "UnsupportedAction",
    `The orchestrator returned an action this engine does not support: '${kind}' (id ${action.id}).`,
  );
  finish(state, action.id, WireStatus.FAILED, undefined, details, nowMs);
}

/** Ends the execution with a CompleteOrchestration action (not continue-as-new). */
function completeExecution(
  state: OrchestrationRuntimeState,
  actionId: number,
  action: CompleteOrchestrationAction,
  nowMs: number,
): void {
  let status = action.orchestrationStatus;
  let details = action.failureDetails;
  if (
    status === WireStatus.CANCELED ||
    status === WireStatus.PENDING ||
    status === WireStatus.RUNNING
  ) {
    // Only terminal statuses may end an execution; anything else is reported as a failure
    // rather than leaving an instance that claims to run with nothing scheduled.
    details = failure(
      "InvalidCompletionStatus",
      `The orchestrator completed with status ${WireStatus[status]}.`,
    );
    status = WireStatus.FAILED;
  }
  if (status === WireStatus.FAILED && details === undefined) {
    details = failure(
      "OrchestrationFailed",
      action.result ?? "The orchestration failed without details.",
    );
  }
  finish(state, actionId, status, action.result, details, nowMs);
}

/**
 * Appends the completion and notifies the parent. A terminated child is reported to its parent as
 * a failure with details (durabletask-go sends none, which SDKs read as success).
 */
export function finish(
  state: OrchestrationRuntimeState,
  eventId: number,
  status: WireStatus,
  result: string | undefined,
  details: TaskFailureDetails | undefined,
  nowMs: number,
): void {
  state.addEvent(executionCompletedEvent(eventId, nowMs, status, result, details));
  const parent = state.startEvent?.parentInstance;
  const parentId = parent?.orchestrationInstance?.instanceId;
  if (parent === undefined || parentId === undefined || parentId === "") return;
  let event: HistoryEvent;
  if (status === WireStatus.COMPLETED) {
    event = subOrchestrationCompletedEvent(nowMs, parent.taskScheduledId, result);
  } else {
    const reported =
      details ??
      failure(
        status === WireStatus.TERMINATED ? "OrchestrationTerminated" : "OrchestrationFailed",
        status === WireStatus.TERMINATED
          ? `Sub-orchestration '${state.instanceId}' was terminated${result ? `: ${result}` : "."}`
          : `Sub-orchestration '${state.instanceId}' ended with status ${WireStatus[status]}.`,
      );
    event = subOrchestrationFailedEvent(nowMs, parent.taskScheduledId, reported);
  }
  state.messages.push({
    targetInstanceId: parentId,
    event,
    targetExecutionId: parent.orchestrationInstance?.executionId,
  });
}

/** Wire failure details with a type and message. */
export function failure(errorType: string, errorMessage: string): TaskFailureDetails {
  return toWireFailure({ errorType, errorMessage });
}
