import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  type OrchestratorRequest,
  OrchestratorRequestSchema,
  type OrchestratorResponse,
} from "@durabletask/api/proto";

/**
 * History tails: how this package's sidecar and gRPC worker avoid sending an instance's whole
 * history with every episode. The Durable Task protocol sends `pastEvents` in full each time, so
 * an orchestration of n steps costs O(n²) to encode, send, decode and check.
 *
 * - A worker that keeps histories opts in per `GetWorkItems` call with the metadata header
 *   {@link historyTailsHeader} (`1`). Streams without it (the official SDKs) always get full
 *   histories.
 * - To such a stream the sidecar may send an orchestration request whose `pastEvents` start at
 *   position `from` of the history, with `from` in the request property
 *   {@link historyTailFromProperty}. It does so only for an execution whose earlier request
 *   (of at least `from + 1` past events) went to the same stream, and `from` is one less than
 *   that request's past events: the first event sent is one the worker already holds, which it
 *   compares with its own copy.
 * - A worker that does not hold the first `from + 1` events of that execution, or whose copy of
 *   event `from` differs, answers `requiresHistory` (the protocol's field for "send me the
 *   history"). The sidecar then sends the same episode again with the full history, under a new
 *   completion token.
 *
 * A committed history only grows within an execution, so a worker's copy of its first events
 * stays valid; the execution id and the compared event rule out another execution's history.
 */
export const historyTailsHeader = "durabletask-history-tails";

/** The request property carrying the history position of the first past event sent. */
export const historyTailFromProperty = "durabletask.historyTailFrom";

/** Histories shorter than this are always sent whole (a tail would save little). */
export const minHeldPastEvents = 32;

/** Whether `response` ends its execution (completes, fails, continues as new): nothing to hold. */
export function endsExecution(response: OrchestratorResponse): boolean {
  return response.actions.some((a) => a.orchestratorActionType.case === "completeOrchestration");
}

/** The history position of `request`'s first past event; `undefined` for a full history. */
export function tailFromOf(request: OrchestratorRequest): number | undefined {
  const kind = request.properties[historyTailFromProperty]?.kind;
  if (kind?.case !== "numberValue") return undefined;
  const from = kind.value;
  return Number.isSafeInteger(from) && from >= 0 ? from : Number.NaN;
}

/** `request` with only the past events from position `from` on. */
export function withHistoryTail(request: OrchestratorRequest, from: number): OrchestratorRequest {
  return create(OrchestratorRequestSchema, {
    ...request,
    pastEvents: request.pastEvents.slice(from),
    properties: {
      ...request.properties,
      [historyTailFromProperty]: create(ValueSchema, {
        kind: { case: "numberValue", value: from },
      }),
    },
  });
}
