import { create } from "@bufbuild/protobuf";
import {
  DurableTaskError,
  deserializePayload,
  type FailureDetails,
  failureOf,
  serializePayload,
  toWireFailure,
} from "@durabletask/api";
import {
  type ActivityRequest,
  type ActivityResponse,
  ActivityResponseSchema,
} from "@durabletask/api/proto";
import type { Activity, ActivityContext } from "./activity-context.js";
import type { TaskRegistry } from "./registry.js";
import type { TaskOutcome } from "./task.js";

/**
 * Runs the activity `request` names (or the wildcard one) and reports its result or failure.
 * Failures of the activity (not registered, bad input, thrown error, unserializable result)
 * come back as `failureDetails`.
 *
 * @throws {@link DurableTaskError} `Aborted` when `signal` fires before the activity finishes:
 *   its outcome is then unknown and the call must be delivered again.
 * @internal
 */
export async function runActivity(
  registry: TaskRegistry,
  request: ActivityRequest,
  signal: AbortSignal,
): Promise<ActivityResponse> {
  const activity = registry.getActivity(request.name);
  if (activity === undefined) {
    const errorMessage = `No activity named '${request.name}' is registered`;
    return respond(request, { failure: { errorType: "ActivityNotRegistered", errorMessage } });
  }
  if (signal.aborted) throw abortedError(signal);
  const instanceId = request.orchestrationInstance?.instanceId ?? "";
  const ctx: ActivityContext = { instanceId, taskId: request.taskId, name: request.name, signal };
  const outcome = await untilAborted(invoke(activity, ctx, request.input), signal);
  if (!outcome.ok) return respond(request, { failure: failureOf(outcome.error) });
  try {
    return respond(request, { result: serializePayload(outcome.value, "result") });
  } catch (err) {
    return respond(request, { failure: failureOf(err) });
  }
}

function respond(
  request: ActivityRequest,
  outcome: { readonly result?: string | undefined; readonly failure?: FailureDetails },
): ActivityResponse {
  return create(ActivityResponseSchema, {
    instanceId: request.orchestrationInstance?.instanceId ?? "",
    taskId: request.taskId,
    result: outcome.result,
    failureDetails: outcome.failure === undefined ? undefined : toWireFailure(outcome.failure),
  });
}

async function invoke(
  activity: Activity,
  ctx: ActivityContext,
  input: string | undefined,
): Promise<TaskOutcome<unknown>> {
  try {
    const value: unknown = await activity(ctx, deserializePayload(input, "input"));
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  }
}

// An activity that ignores its signal must not hold the worker's shutdown hostage: the call is
// given up as soon as the signal fires (the activity's own promise is left to settle unobserved).
async function untilAborted<T>(
  work: Promise<TaskOutcome<T>>,
  signal: AbortSignal,
): Promise<TaskOutcome<T>> {
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function abortedError(signal: AbortSignal): DurableTaskError {
  return new DurableTaskError("Aborted", "the activity call was aborted", { cause: signal.reason });
}
