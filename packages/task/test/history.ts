import { create } from "@bufbuild/protobuf";
import {
  DurableTaskError,
  executionStartedEvent,
  msOfTimestamp,
  orchestratorStartedEvent,
} from "@durabletask/api";
import {
  type HistoryEvent,
  OrchestrationStatus,
  type OrchestratorAction,
  OrchestratorRequestSchema,
  type OrchestratorResponse,
  ParentInstanceInfoSchema,
  TaskFailureDetailsSchema,
} from "@durabletask/api/proto";
import { expect } from "vitest";
import {
  createTaskExecutor,
  createTaskRegistry,
  type OrchestrationContext,
  type Orchestrator,
  type TaskRegistry,
} from "../src/index.js";

/** Start of the test clock: 2024-01-01T00:00:00Z. */
export const t0 = Date.parse("2024-01-01T00:00:00.000Z");
export const instanceId = "abc";

/** `orchestratorStarted` at `t0 + offsetMs`. */
export function startedAt(offsetMs = 0): HistoryEvent {
  return orchestratorStartedEvent(t0 + offsetMs);
}

/** `executionStarted` of orchestrator `name` with JSON `input`. */
export function executionStarted(
  name: string,
  input?: unknown,
  parentInstanceId?: string,
): HistoryEvent {
  const parentInstance =
    parentInstanceId === undefined
      ? undefined
      : create(ParentInstanceInfoSchema, {
          taskScheduledId: 0,
          orchestrationInstance: { instanceId: parentInstanceId },
        });
  return executionStartedEvent(
    {
      name,
      instanceId,
      executionId: "exec-1",
      input: input === undefined ? undefined : JSON.stringify(input),
      parentInstance,
    },
    t0,
  );
}

/** The first events of every history: the clock and the start of orchestrator `name`. */
export function begin(name = "orch", input?: unknown): HistoryEvent[] {
  return [startedAt(0), executionStarted(name, input)];
}

/** Wire failure details. */
export function failure(errorMessage: string, errorType = "Error", isNonRetriable = false) {
  return create(TaskFailureDetailsSchema, { errorType, errorMessage, isNonRetriable });
}

/** A registry holding `orchestrator` as "orch" plus anything `extra` adds. */
export function registryWith(orchestrator: Orchestrator<never, unknown>): TaskRegistry {
  return createTaskRegistry().addOrchestrator("orch", orchestrator);
}

/** Runs one episode of `orchestrator` (or of a whole registry) over `past` + `next`. */
export function run(
  orchestratorOrRegistry: Orchestrator<never, unknown> | TaskRegistry,
  past: HistoryEvent[],
  next: HistoryEvent[],
): Promise<OrchestratorResponse> {
  const registry =
    typeof orchestratorOrRegistry === "function"
      ? registryWith(orchestratorOrRegistry)
      : orchestratorOrRegistry;
  const request = create(OrchestratorRequestSchema, {
    instanceId,
    pastEvents: past,
    newEvents: next,
  });
  return createTaskExecutor({ registry }).executeOrchestrator(request);
}

/** A plain summary of an action, for `toEqual`. */
export function summarize(a: OrchestratorAction): Record<string, unknown> {
  const t = a.orchestratorActionType;
  switch (t.case) {
    case "scheduleTask":
      return { id: a.id, kind: t.case, name: t.value.name, input: parse(t.value.input) };
    case "createTimer":
      return { id: a.id, kind: t.case, fireAtMs: msOfTimestamp(t.value.fireAt) };
    case "createSubOrchestration":
      return {
        id: a.id,
        kind: t.case,
        name: t.value.name,
        instanceId: t.value.instanceId,
        input: parse(t.value.input),
      };
    case "sendEvent":
      return {
        id: a.id,
        kind: t.case,
        instanceId: t.value.instance?.instanceId,
        name: t.value.name,
        data: parse(t.value.data),
      };
    case "completeOrchestration":
      return { id: a.id, kind: t.case, ...completionFields(t.value) };
    default:
      return { id: a.id, kind: t.case };
  }
}

function completionFields(
  c: Extract<
    OrchestratorAction["orchestratorActionType"],
    { case: "completeOrchestration" }
  >["value"],
): Record<string, unknown> {
  return {
    status: OrchestrationStatus[c.orchestrationStatus],
    result: c.result,
    ...(c.failureDetails === undefined
      ? {}
      : { errorType: c.failureDetails.errorType, errorMessage: c.failureDetails.errorMessage }),
  };
}

/** Summaries of every action of a response. */
export function actionsOf(response: OrchestratorResponse): Record<string, unknown>[] {
  return response.actions.map(summarize);
}

/** The CompleteOrchestration action of a response, summarized (fails the test if absent). */
export function completionOf(response: OrchestratorResponse): Record<string, unknown> {
  const complete = response.actions.find(
    (a) => a.orchestratorActionType.case === "completeOrchestration",
  );
  expect(complete, "response has a CompleteOrchestration action").toBeDefined();
  return summarize(complete as OrchestratorAction);
}

function parse(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}

/** Runs an episode in which the orchestrator hands out its context and then waits forever. */
export async function captureContext(): Promise<OrchestrationContext> {
  let captured: OrchestrationContext | undefined;
  await run(
    async (ctx) => {
      captured = ctx;
      await ctx.waitForExternalEvent("never");
    },
    [],
    begin(),
  );
  if (captured === undefined) throw new Error("the orchestrator did not run");
  return captured;
}

/** Asserts that `fn` throws `InvalidArgument` whose message starts with `field`; returns it. */
export function expectInvalid(fn: () => unknown, field: string): DurableTaskError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(
    DurableTaskError.is(thrown, "InvalidArgument"),
    `expected InvalidArgument, got ${String(thrown)}`,
  ).toBe(true);
  expect((thrown as Error).message.startsWith(`${field}:`), (thrown as Error).message).toBe(true);
  return thrown as DurableTaskError;
}
