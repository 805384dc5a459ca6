import { create } from "@bufbuild/protobuf";
import {
  eventRaisedEvent,
  executionStartedEvent,
  executionSuspendedEvent,
  executionTerminatedEvent,
  orchestratorStartedEvent,
} from "@durabletask/api";
import {
  type OrchestratorAction,
  OrchestratorActionSchema,
  ParentInstanceInfoSchema,
  OrchestrationStatus as WireStatus,
} from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import { applyActions, OrchestrationRuntimeState } from "../src/index.js";

const t0 = Date.UTC(2026, 0, 1);

function started(parent = false) {
  return executionStartedEvent(
    {
      name: "Orch",
      instanceId: "abc",
      executionId: "exec-1",
      input: '"in"',
      parentInstance: parent
        ? create(ParentInstanceInfoSchema, {
            taskScheduledId: 7,
            name: "Parent",
            orchestrationInstance: { instanceId: "parent", executionId: "parent-exec" },
          })
        : undefined,
    },
    t0,
  );
}

function action(
  id: number,
  value: OrchestratorAction["orchestratorActionType"],
): OrchestratorAction {
  return create(OrchestratorActionSchema, { id, orchestratorActionType: value });
}

function complete(id: number, status: WireStatus, result?: string): OrchestratorAction {
  return action(id, {
    case: "completeOrchestration",
    value: {
      $typeName: "CompleteOrchestrationAction",
      orchestrationStatus: status,
      result,
      carryoverEvents: [],
      tags: {},
    },
  });
}

describe("OrchestrationRuntimeState", () => {
  it("is PENDING before start and RUNNING after, with name and created time", () => {
    const state = new OrchestrationRuntimeState("abc", []);
    expect(state.runtimeStatus).toBe("PENDING");
    state.addEvent(orchestratorStartedEvent(t0));
    state.addEvent(started());
    expect(state.runtimeStatus).toBe("RUNNING");
    expect(state.name).toBe("Orch");
    expect(state.instanceUpdate(t0 + 5)).toMatchObject({
      createdAtMs: t0,
      input: '"in"',
      executionId: "exec-1",
    });
  });

  it("records completion status, output and completed time", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    applyActions(state, [complete(0, WireStatus.COMPLETED, '"done"')], t0 + 10);
    expect(state.runtimeStatus).toBe("COMPLETED");
    const update = state.instanceUpdate(t0 + 10);
    expect(update).toMatchObject({
      output: '"done"',
      completedAtMs: t0 + 10,
      runtimeStatus: "COMPLETED",
    });
    expect(update.input).toBeUndefined();
  });

  it("notifies the parent of a completed sub-orchestration", () => {
    const state = new OrchestrationRuntimeState("abc", [started(true)]);
    applyActions(state, [complete(0, WireStatus.COMPLETED, "42")], t0);
    expect(state.messages).toHaveLength(1);
    const [message] = state.messages;
    expect(message?.targetInstanceId).toBe("parent");
    expect(message?.targetExecutionId).toBe("parent-exec");
    expect(message?.event.eventType.case).toBe("subOrchestrationInstanceCompleted");
    expect(message?.event.eventType.value).toMatchObject({ taskScheduledId: 7, result: "42" });
  });

  it("reports a terminated sub-orchestration to the parent as a failure with details", () => {
    const state = new OrchestrationRuntimeState("abc", [started(true)]);
    applyActions(state, [complete(0, WireStatus.TERMINATED, '"stop"')], t0);
    const event = state.messages[0]?.event;
    expect(event?.eventType.case).toBe("subOrchestrationInstanceFailed");
    const value = event?.eventType.value as { failureDetails?: { errorType: string } };
    expect(value.failureDetails?.errorType).toBe("OrchestrationTerminated");
  });

  it("turns a CreateTimer action into a TimerCreated event and a pending TimerFired", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    const fireAt = {
      $typeName: "google.protobuf.Timestamp" as const,
      seconds: BigInt((t0 + 1000) / 1000),
      nanos: 0,
    };
    applyActions(
      state,
      [action(3, { case: "createTimer", value: { $typeName: "CreateTimerAction", fireAt } })],
      t0,
    );
    expect(state.newEvents.map((e) => [e.eventType.case, e.eventId])).toEqual([
      ["timerCreated", 3],
    ]);
    expect(state.timers).toHaveLength(1);
    expect(state.timers[0]?.fireAtMs).toBe(t0 + 1000);
    expect(state.timers[0]?.event.eventType.value).toMatchObject({ timerId: 3 });
  });

  it("turns a ScheduleTask action into TaskScheduled history and a pending activity", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    const traceContext = {
      $typeName: "TraceContext" as const,
      traceParent: "00-abc-def-01",
      spanID: "",
    };
    applyActions(
      state,
      [
        action(0, {
          case: "scheduleTask",
          value: {
            $typeName: "ScheduleTaskAction",
            name: "Act",
            input: "1",
            tags: {},
            parentTraceContext: traceContext,
          },
        }),
      ],
      t0,
    );
    expect(state.activities).toHaveLength(1);
    expect(state.activities[0]?.eventId).toBe(0);
    expect(state.activities[0]?.eventType.value).toMatchObject({
      name: "Act",
      input: "1",
      parentTraceContext: { traceParent: "00-abc-def-01" },
    });
  });

  it("creates a sub-orchestration with parent info, a new execution id and a default child id", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    applyActions(
      state,
      [
        action(5, {
          case: "createSubOrchestration",
          value: {
            $typeName: "CreateSubOrchestrationAction",
            instanceId: "",
            name: "Child",
            input: "2",
            tags: {},
          },
        }),
      ],
      t0,
    );
    expect(state.newEvents[0]?.eventType.value).toMatchObject({
      instanceId: "abc:0005",
      name: "Child",
    });
    const start = state.subOrchestrations[0]?.startEvent.eventType;
    expect(start?.case).toBe("executionStarted");
    const value = start?.value as {
      orchestrationInstance?: { instanceId: string; executionId?: string };
      parentInstance?: { taskScheduledId: number; orchestrationInstance?: { instanceId: string } };
    };
    expect(value.orchestrationInstance?.instanceId).toBe("abc:0005");
    expect(value.orchestrationInstance?.executionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(value.parentInstance).toMatchObject({
      taskScheduledId: 5,
      orchestrationInstance: { instanceId: "abc" },
    });
    expect(state.subOrchestrations[0]?.conflictEvent.eventType.case).toBe(
      "subOrchestrationInstanceFailed",
    );
  });

  it("records a sent event in history and queues it to the target", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    applyActions(
      state,
      [
        action(1, {
          case: "sendEvent",
          value: {
            $typeName: "SendEventAction",
            instance: { $typeName: "OrchestrationInstance", instanceId: "other" },
            name: "ping",
            data: "1",
          },
        }),
      ],
      t0,
    );
    expect(state.newEvents[0]?.eventType.case).toBe("eventSent");
    expect(state.messages[0]).toMatchObject({ targetInstanceId: "other" });
    expect(state.messages[0]?.event.eventType.value).toMatchObject({ name: "ping", input: "1" });
  });

  it("returns continue-as-new to the caller and ignores pending scheduling actions", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    const outcome = applyActions(
      state,
      [
        action(0, {
          case: "scheduleTask",
          value: { $typeName: "ScheduleTaskAction", name: "Lost", tags: {} },
        }),
        complete(1, WireStatus.CONTINUED_AS_NEW, "5"),
      ],
      t0,
    );
    expect(outcome.kind).toBe("continuedAsNew");
    expect(state.activities).toHaveLength(0);
  });

  it("refuses duplicate start and completion events", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    expect(state.addEvent(started())).toBe(false);
    applyActions(state, [complete(0, WireStatus.COMPLETED)], t0);
    applyActions(state, [complete(1, WireStatus.FAILED)], t0);
    expect(state.runtimeStatus).toBe("COMPLETED");
    expect(state.newEvents.filter((e) => e.eventType.case === "executionCompleted")).toHaveLength(
      1,
    );
  });

  it("reports completion before suspension (terminated while suspended is TERMINATED)", () => {
    const state = new OrchestrationRuntimeState("abc", [started(), executionSuspendedEvent(t0)]);
    expect(state.runtimeStatus).toBe("SUSPENDED");
    state.addEvent(executionTerminatedEvent(t0));
    applyActions(state, [complete(0, WireStatus.TERMINATED)], t0);
    expect(state.runtimeStatus).toBe("TERMINATED");
  });

  it("lists each child once even when retries recreate it", () => {
    const created = (id: number) =>
      create(OrchestratorActionSchema, {
        id,
        orchestratorActionType: {
          case: "createSubOrchestration",
          value: {
            $typeName: "CreateSubOrchestrationAction",
            instanceId: "kid",
            name: "K",
            tags: {},
          },
        },
      });
    const state = new OrchestrationRuntimeState("abc", [started()]);
    applyActions(state, [created(0), created(2)], t0);
    state.addEvent(eventRaisedEvent(t0, "x"));
    expect(state.childInstanceIds()).toEqual(["kid"]);
  });

  it("fails the orchestration on an action it does not support", () => {
    const state = new OrchestrationRuntimeState("abc", [started()]);
    applyActions(state, [create(OrchestratorActionSchema, { id: 4 })], t0);
    expect(state.runtimeStatus).toBe("FAILED");
    expect(state.instanceUpdate(t0).failureDetails?.errorType).toBe("UnsupportedAction");
  });
});
