import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  fromWireStatus,
  invalidArgument,
  msOfTimestamp,
  type OrchestrationMetadata,
  type OrchestrationStatus,
  toWireFailure,
  toWireStatus,
} from "@durabletask/api";
import {
  type OrchestrationState,
  OrchestrationStateSchema,
  type OrchestrationStatus as WireStatus,
} from "@durabletask/api/proto";

/**
 * The wire form of an instance's metadata. CANCELED is reported as FAILED: neither JS SDK can
 * decode it (this engine never produces it anyway).
 */
export function toOrchestrationState(
  m: OrchestrationMetadata,
  withPayloads: boolean,
): OrchestrationState {
  const status: OrchestrationStatus = m.runtimeStatus === "CANCELED" ? "FAILED" : m.runtimeStatus;
  return create(OrchestrationStateSchema, {
    instanceId: m.instanceId,
    name: m.name,
    version: m.version,
    orchestrationStatus: toWireStatus(status),
    scheduledStartTimestamp: ts(m.scheduledStartAt),
    createdTimestamp: ts(m.createdAt),
    lastUpdatedTimestamp: ts(m.lastUpdatedAt),
    completedTimestamp: ts(m.completedAt),
    input: withPayloads ? m.serializedInput : undefined,
    output: withPayloads ? m.serializedOutput : undefined,
    customStatus: withPayloads ? m.serializedCustomStatus : undefined,
    failureDetails: m.failureDetails === undefined ? undefined : toWireFailure(m.failureDetails),
    executionId: m.executionId,
    parentInstanceId: m.parentInstanceId,
    tags: { ...m.tags },
  });
}

function ts(date: Date | undefined): Timestamp | undefined {
  return date === undefined ? undefined : timestampFromMs(date.getTime());
}

/** Status names of wire statuses; `InvalidArgument` naming `field` for unknown numbers. */
export function statusesOf(
  values: readonly WireStatus[],
  field: string,
): OrchestrationStatus[] | undefined {
  if (values.length === 0) return undefined;
  return values.map((value, i) => {
    const status = fromWireStatus(value);
    if (status === undefined)
      throw invalidArgument(`${field}[${i}]`, `unknown orchestration status ${value}`);
    return status;
  });
}

/** A Date of an optional timestamp; the Unix epoch and absent values both mean "not set". */
export function dateOf(value: Timestamp | undefined): Date | undefined {
  const ms = msOfTimestamp(value);
  return ms === undefined || ms === 0 ? undefined : new Date(ms);
}
