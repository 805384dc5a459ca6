import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  assertDate,
  assertInstanceId,
  assertName,
  type OrchestrationStatus,
  serializePayload,
  toWireStatus,
} from "@durabletask/api";
import {
  activeTraceContext,
  orchestratorNameOf,
  reusePolicyOf,
  type ScheduleOptions,
  tagsOf,
} from "@durabletask/backend";
import type { RequestOf } from "./sidecar-stub.js";

/** A validated `StartInstance` request and how to treat an `InstanceExists` answer. */
export interface CreateInstancePlan {
  readonly instanceId: string;
  readonly request: RequestOf<"startInstance">;
  /**
   * For a reuse policy with action `"ignore"`: the statuses of an existing instance that make
   * `InstanceExists` a success (the sidecar protocol cannot express "ignore").
   */
  readonly ignoreStatuses?: readonly OrchestrationStatus[] | undefined;
}

/**
 * Validates the arguments of `scheduleNewOrchestration` exactly as the in-process client does
 * (`InvalidArgument` naming the field) and builds the wire request. The reuse policy maps as
 * follows: `"terminate"` → `orchestrationIdReusePolicy.replaceableStatus`; `"error"` → no policy
 * (the sidecar rejects every taken id, which is what "error" means for listed and unlisted
 * statuses alike); `"ignore"` → no policy plus {@link CreateInstancePlan.ignoreStatuses}.
 */
export function createInstanceRequest(
  orchestrator: unknown,
  options: ScheduleOptions = {},
): CreateInstancePlan {
  const name = orchestratorNameOf(orchestrator);
  const instanceId = options.instanceId ?? crypto.randomUUID();
  assertInstanceId(instanceId, "instanceId");
  if (options.startAt !== undefined) assertDate(options.startAt, "startAt");
  if (options.version !== undefined) assertName(options.version, "version");
  const policy = reusePolicyOf(options.reusePolicy);
  const input = serializePayload(options.input, "input");
  const request: RequestOf<"startInstance"> = {
    instanceId,
    name,
    version: options.version,
    input,
    scheduledStartTimestamp:
      options.startAt === undefined ? undefined : timestampFromMs(options.startAt.getTime()),
    orchestrationIdReusePolicy:
      policy?.action === "terminate"
        ? { replaceableStatus: policy.statuses.map(toWireStatus) }
        : undefined,
    tags: tagsOf(options.tags),
    // The caller's active span becomes the parent of the sidecar's create_orchestration span.
    parentTraceContext: activeTraceContext(),
  };
  const ignoreStatuses = policy?.action === "ignore" ? policy.statuses : undefined;
  return { instanceId, request, ignoreStatuses };
}
