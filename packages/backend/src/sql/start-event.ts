import {
  assertInstanceId,
  assertName,
  eventTimeMs,
  invalidArgument,
  msOfTimestamp,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type { SqlValue } from "./driver.js";
import { encodeEvent, encodeTags } from "./rows.js";

/** What an `executionStarted` event says about the instance it creates. */
export interface StartedInstance {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly version: string | undefined;
  readonly input: string | undefined;
  readonly parentInstanceId: string | undefined;
  readonly createdAtMs: number;
  readonly scheduledStartMs: number | undefined;
  readonly tags: string | null;
  readonly payload: Uint8Array;
}

/**
 * The instance an `executionStarted` event creates. Throws `InvalidArgument` (naming `field`)
 * unless the event is an `executionStarted` with an instance id, execution id, name and timestamp.
 */
export function startedInstance(event: HistoryEvent, field: string): StartedInstance {
  if (event?.eventType?.case !== "executionStarted") {
    throw invalidArgument(
      field,
      `must be an executionStarted event, got ${event?.eventType?.case}`,
    );
  }
  if (event.timestamp === undefined) throw invalidArgument(`${field}.timestamp`, "is required");
  const started = event.eventType.value;
  const instance = started.orchestrationInstance;
  assertInstanceId(instance?.instanceId, `${field}.orchestrationInstance.instanceId`);
  assertName(instance?.executionId, `${field}.orchestrationInstance.executionId`);
  assertName(started.name, `${field}.name`);
  return {
    instanceId: instance.instanceId,
    executionId: instance.executionId,
    name: started.name,
    version: started.version,
    input: started.input,
    parentInstanceId: started.parentInstance?.orchestrationInstance?.instanceId || undefined,
    createdAtMs: eventTimeMs(event),
    scheduledStartMs: msOfTimestamp(started.scheduledStartTimestamp),
    tags: encodeTags(started.tags),
    payload: encodeEvent(event),
  };
}

/** When the start event becomes visible: its scheduled start, or now. */
export function startVisibleAt(started: StartedInstance, nowMs: number): number {
  return started.scheduledStartMs ?? nowMs;
}

/**
 * The ten values of a new PENDING instance row, in the column order of {@link instanceColumns}
 * (without the status).
 */
export function instanceRow(started: StartedInstance, nowMs: number): SqlValue[] {
  return [
    started.instanceId,
    started.executionId,
    started.name,
    started.version ?? null,
    started.createdAtMs,
    nowMs,
    started.scheduledStartMs ?? null,
    started.input ?? null,
    started.parentInstanceId ?? null,
    started.tags,
  ];
}

/** The columns {@link instanceRow} fills, with RuntimeStatus last. */
export const instanceColumns =
  "InstanceID, ExecutionID, Name, Version, CreatedTime, LastUpdatedTime, ScheduledStartTime, Input, ParentInstanceID, Tags, RuntimeStatus";
