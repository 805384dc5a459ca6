import { create } from "@bufbuild/protobuf";
import { type FailureDetails, timestampOfMs, toWireFailure } from "@durabletask/api";
import {
  CompleteOrchestrationActionSchema,
  CreateSubOrchestrationActionSchema,
  CreateTimerActionSchema,
  type HistoryEvent,
  OrchestrationInstanceSchema,
  OrchestrationStatus,
  type OrchestratorAction,
  OrchestratorActionSchema,
  ScheduleTaskActionSchema,
  SendEventActionSchema,
} from "@durabletask/api/proto";

/** The `orchestratorActionType` oneof of an action. @internal */
export type ActionType = OrchestratorAction["orchestratorActionType"];

/** The kinds of action the orchestrator can emit. @internal */
export type ActionKind = NonNullable<ActionType["case"]>;

/** Wraps an action payload with its sequence number. @internal */
export function action(id: number, type: ActionType): OrchestratorAction {
  return create(OrchestratorActionSchema, { id, orchestratorActionType: type });
}

/** Fields of a ScheduleTask action. @internal */
export interface ScheduleTaskInit {
  readonly name: string;
  readonly input: string | undefined;
  readonly version: string | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
}

/** A ScheduleTask action payload. @internal */
export function scheduleTask(init: ScheduleTaskInit): ActionType {
  const { name, input, version } = init;
  const value = create(ScheduleTaskActionSchema, { name, input, version, tags: { ...init.tags } });
  return { case: "scheduleTask", value };
}

/** A CreateSubOrchestration action payload. @internal */
export function createSubOrchestration(
  instanceId: string,
  name: string,
  input: string | undefined,
  version: string | undefined,
): ActionType {
  const value = create(CreateSubOrchestrationActionSchema, { instanceId, name, input, version });
  return { case: "createSubOrchestration", value };
}

/** A CreateTimer action payload. @internal */
export function createTimer(fireAtMs: number): ActionType {
  const value = create(CreateTimerActionSchema, { fireAt: timestampOfMs(fireAtMs) });
  return { case: "createTimer", value };
}

/** A SendEvent action payload. @internal */
export function sendEvent(instanceId: string, name: string, data: string | undefined): ActionType {
  const instance = create(OrchestrationInstanceSchema, { instanceId });
  return { case: "sendEvent", value: create(SendEventActionSchema, { instance, name, data }) };
}

/** How an orchestration execution ends. @internal */
export type Completion =
  | { readonly status: "COMPLETED" | "TERMINATED"; readonly result: string | undefined }
  | {
      readonly status: "CONTINUED_AS_NEW";
      readonly result: string | undefined;
      readonly carryoverEvents: readonly HistoryEvent[];
    }
  | { readonly status: "FAILED"; readonly failure: FailureDetails };

/** A CompleteOrchestration action payload. @internal */
export function completeOrchestration(completion: Completion): ActionType {
  const value = create(CompleteOrchestrationActionSchema, {
    orchestrationStatus: OrchestrationStatus[completion.status],
    result: "result" in completion ? completion.result : undefined,
    carryoverEvents: "carryoverEvents" in completion ? [...completion.carryoverEvents] : [],
    failureDetails: "failure" in completion ? toWireFailure(completion.failure) : undefined,
  });
  return { case: "completeOrchestration", value };
}

/** The name an action refers to (activity, sub-orchestration or event), if any. @internal */
export function actionName(type: ActionType): string | undefined {
  switch (type.case) {
    case "scheduleTask":
    case "createSubOrchestration":
    case "sendEvent":
      return type.value.name;
    default:
      return undefined;
  }
}

/** A short description of an action for error messages, e.g. `a call to activity 'A'`. @internal */
export function describeAction(type: ActionType): string {
  switch (type.case) {
    case "scheduleTask":
      return `a call to activity '${type.value.name}'`;
    case "createSubOrchestration":
      return `a call to sub-orchestrator '${type.value.name}'`;
    case "createTimer":
      return "a timer";
    case "sendEvent":
      return `sending event '${type.value.name}'`;
    default:
      return `a ${type.case ?? "unknown"} action`;
  }
}
