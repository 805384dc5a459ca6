import { create } from "@bufbuild/protobuf";
import {
  type HistoryEvent,
  HistoryEventSchema,
  type ParentInstanceInfo,
  type TaskFailureDetails,
  type TraceContext,
  type OrchestrationStatus as WireStatus,
} from "./gen/orchestrator_service_pb.js";
import { timestampOfMs } from "./time.js";

/** The kinds of history event, as the `case` of `HistoryEvent.eventType`. */
export type HistoryEventKind = NonNullable<HistoryEvent["eventType"]["case"]>;

/** The payload of a history event of kind `K`. */
export type HistoryEventOf<K extends HistoryEventKind> = Extract<
  HistoryEvent["eventType"],
  { case: K }
>["value"];

function event(eventId: number, atMs: number, eventType: HistoryEvent["eventType"]): HistoryEvent {
  return create(HistoryEventSchema, { eventId, timestamp: timestampOfMs(atMs), eventType });
}

/** Fields of {@link executionStartedEvent}. */
export interface ExecutionStartedInit {
  readonly name: string;
  readonly instanceId: string;
  readonly executionId: string;
  readonly input?: string | undefined;
  readonly version?: string | undefined;
  readonly parentInstance?: ParentInstanceInfo | undefined;
  readonly scheduledStartMs?: number | undefined;
  readonly parentTraceContext?: TraceContext | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

/** The event that starts an execution (event id -1, as every runtime-generated event). */
export function executionStartedEvent(init: ExecutionStartedInit, atMs: number): HistoryEvent {
  return event(-1, atMs, {
    case: "executionStarted",
    value: {
      $typeName: "ExecutionStartedEvent",
      name: init.name,
      version: init.version,
      input: init.input,
      orchestrationInstance: {
        $typeName: "OrchestrationInstance",
        instanceId: init.instanceId,
        executionId: init.executionId,
      },
      parentInstance: init.parentInstance,
      scheduledStartTimestamp:
        init.scheduledStartMs === undefined ? undefined : timestampOfMs(init.scheduledStartMs),
      parentTraceContext: init.parentTraceContext,
      tags: { ...init.tags },
    },
  });
}

/** The event that ends an execution with `status`. */
export function executionCompletedEvent(
  eventId: number,
  atMs: number,
  status: WireStatus,
  result?: string,
  failureDetails?: TaskFailureDetails,
): HistoryEvent {
  return event(eventId, atMs, {
    case: "executionCompleted",
    value: {
      $typeName: "ExecutionCompletedEvent",
      orchestrationStatus: status,
      result,
      failureDetails,
    },
  });
}

/** A request to terminate an instance (optionally its sub-orchestrations too). */
export function executionTerminatedEvent(
  atMs: number,
  output?: string,
  recurse = false,
): HistoryEvent {
  return event(-1, atMs, {
    case: "executionTerminated",
    value: { $typeName: "ExecutionTerminatedEvent", input: output, recurse },
  });
}

/** A request to suspend an instance. */
export function executionSuspendedEvent(atMs: number, reason?: string): HistoryEvent {
  return event(-1, atMs, {
    case: "executionSuspended",
    value: { $typeName: "ExecutionSuspendedEvent", input: reason },
  });
}

/** A request to resume a suspended instance. */
export function executionResumedEvent(atMs: number, reason?: string): HistoryEvent {
  return event(-1, atMs, {
    case: "executionResumed",
    value: { $typeName: "ExecutionResumedEvent", input: reason },
  });
}

/** An external event delivered to an instance. */
export function eventRaisedEvent(atMs: number, name: string, input?: string): HistoryEvent {
  return event(-1, atMs, {
    case: "eventRaised",
    value: { $typeName: "EventRaisedEvent", name, input },
  });
}

/** The start of an episode; its timestamp is the orchestration's deterministic clock. */
export function orchestratorStartedEvent(atMs: number): HistoryEvent {
  return event(-1, atMs, {
    case: "orchestratorStarted",
    value: { $typeName: "OrchestratorStartedEvent" },
  });
}

/** The end of an episode. */
export function orchestratorCompletedEvent(atMs: number): HistoryEvent {
  return event(-1, atMs, {
    case: "orchestratorCompleted",
    value: { $typeName: "OrchestratorCompletedEvent" },
  });
}

/** An activity that the orchestrator scheduled with sequence number `eventId`. */
export function taskScheduledEvent(
  eventId: number,
  atMs: number,
  name: string,
  input?: string,
  version?: string,
  parentTraceContext?: TraceContext,
  tags?: Readonly<Record<string, string>>,
): HistoryEvent {
  return event(eventId, atMs, {
    case: "taskScheduled",
    value: {
      $typeName: "TaskScheduledEvent",
      name,
      input,
      version,
      parentTraceContext,
      tags: { ...tags },
    },
  });
}

/** The successful result of activity `taskScheduledId`. */
export function taskCompletedEvent(
  atMs: number,
  taskScheduledId: number,
  result?: string,
): HistoryEvent {
  return event(-1, atMs, {
    case: "taskCompleted",
    value: { $typeName: "TaskCompletedEvent", taskScheduledId, result },
  });
}

/** The failure of activity `taskScheduledId`. */
export function taskFailedEvent(
  atMs: number,
  taskScheduledId: number,
  failureDetails: TaskFailureDetails,
): HistoryEvent {
  return event(-1, atMs, {
    case: "taskFailed",
    value: { $typeName: "TaskFailedEvent", taskScheduledId, failureDetails },
  });
}

/** A durable timer created with sequence number `eventId`. */
export function timerCreatedEvent(eventId: number, atMs: number, fireAtMs: number): HistoryEvent {
  return event(eventId, atMs, {
    case: "timerCreated",
    value: { $typeName: "TimerCreatedEvent", fireAt: timestampOfMs(fireAtMs) },
  });
}

/** Timer `timerId` fired. */
export function timerFiredEvent(atMs: number, timerId: number, fireAtMs: number): HistoryEvent {
  return event(-1, atMs, {
    case: "timerFired",
    value: { $typeName: "TimerFiredEvent", timerId, fireAt: timestampOfMs(fireAtMs) },
  });
}

/** A sub-orchestration created with sequence number `eventId`. */
export function subOrchestrationCreatedEvent(
  eventId: number,
  atMs: number,
  init: {
    instanceId: string;
    name: string;
    input?: string | undefined;
    version?: string | undefined;
    parentTraceContext?: TraceContext | undefined;
    tags?: Readonly<Record<string, string>> | undefined;
  },
): HistoryEvent {
  return event(eventId, atMs, {
    case: "subOrchestrationInstanceCreated",
    value: {
      $typeName: "SubOrchestrationInstanceCreatedEvent",
      instanceId: init.instanceId,
      name: init.name,
      input: init.input,
      version: init.version,
      parentTraceContext: init.parentTraceContext,
      tags: { ...init.tags },
    },
  });
}

/** Sub-orchestration `taskScheduledId` completed with `result`. */
export function subOrchestrationCompletedEvent(
  atMs: number,
  taskScheduledId: number,
  result?: string,
): HistoryEvent {
  return event(-1, atMs, {
    case: "subOrchestrationInstanceCompleted",
    value: { $typeName: "SubOrchestrationInstanceCompletedEvent", taskScheduledId, result },
  });
}

/** Sub-orchestration `taskScheduledId` failed (or was terminated). */
export function subOrchestrationFailedEvent(
  atMs: number,
  taskScheduledId: number,
  failureDetails: TaskFailureDetails,
): HistoryEvent {
  return event(-1, atMs, {
    case: "subOrchestrationInstanceFailed",
    value: { $typeName: "SubOrchestrationInstanceFailedEvent", taskScheduledId, failureDetails },
  });
}

/** An event the orchestrator sent to `instanceId` with sequence number `eventId`. */
export function eventSentEvent(
  eventId: number,
  atMs: number,
  instanceId: string,
  name: string,
  input?: string,
): HistoryEvent {
  return event(eventId, atMs, {
    case: "eventSent",
    value: { $typeName: "EventSentEvent", instanceId, name, input },
  });
}

/** Epoch milliseconds of an event's timestamp (0 when missing). */
export function eventTimeMs(e: HistoryEvent): number {
  const ts = e.timestamp;
  return ts === undefined ? 0 : Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

/** A short human summary of an event, e.g. `taskCompleted#3`, for logs and errors. */
export function describeEvent(e: HistoryEvent): string {
  const kind = e.eventType.case ?? "unknown";
  const v = e.eventType.value as
    | { taskScheduledId?: number; timerId?: number; name?: string }
    | undefined;
  if (v?.taskScheduledId !== undefined) return `${kind}#${v.taskScheduledId}`;
  if (v?.timerId !== undefined) return `${kind}#${v.timerId}`;
  if (e.eventId >= 0) return `${kind}#${e.eventId}`;
  if (typeof v?.name === "string" && v.name !== "") return `${kind}(${v.name})`;
  return kind;
}
