import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DurableTaskError,
  type FailureDetails,
  fromWireFailure,
  isOrchestrationStatus,
  type OrchestrationMetadata,
  type OrchestrationStatus,
  toWireFailure,
} from "@durabletask/api";
import {
  type HistoryEvent,
  HistoryEventSchema,
  TaskFailureDetailsSchema,
} from "@durabletask/api/proto";
import type { SqlValue } from "./driver.js";

/** Protobuf bytes of a history event, as stored in `EventPayload` columns. */
export function encodeEvent(event: HistoryEvent): Uint8Array {
  return toBinary(HistoryEventSchema, event);
}

/** The history event stored in an `EventPayload` column. */
export function decodeEvent(value: SqlValue | undefined): HistoryEvent {
  return fromBinary(HistoryEventSchema, bytes(value, "EventPayload"));
}

/** The `EventKind` column value of an event: its `eventType` case. */
export function eventKind(event: HistoryEvent): string {
  return event.eventType.case ?? "unknown";
}

/** Protobuf `TaskFailureDetails` bytes, or NULL. */
export function encodeFailure(details: FailureDetails | undefined): Uint8Array | null {
  return details === undefined ? null : toBinary(TaskFailureDetailsSchema, toWireFailure(details));
}

function decodeFailure(value: SqlValue | undefined): FailureDetails | undefined {
  if (value === null || value === undefined) return undefined;
  return fromWireFailure(fromBinary(TaskFailureDetailsSchema, bytes(value, "FailureDetails")));
}

function corrupt(column: string, value: SqlValue | undefined): DurableTaskError {
  const kind = value === null ? "null" : typeof value;
  return new DurableTaskError("Internal", `unexpected ${kind} in column ${column}`);
}

/** An INTEGER column as a number (drivers may return bigint). */
export function int(value: SqlValue | undefined, column: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw corrupt(column, value);
}

/** A nullable INTEGER column. */
export function optionalInt(value: SqlValue | undefined, column: string): number | undefined {
  return value === null || value === undefined ? undefined : int(value, column);
}

/** A TEXT column. */
export function text(value: SqlValue | undefined, column: string): string {
  if (typeof value === "string") return value;
  throw corrupt(column, value);
}

/** A nullable TEXT column. */
export function optionalText(value: SqlValue | undefined, column: string): string | undefined {
  return value === null || value === undefined ? undefined : text(value, column);
}

/** A BLOB column. */
export function bytes(value: SqlValue | undefined, column: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw corrupt(column, value);
}

/** A `RuntimeStatus` column. */
export function status(value: SqlValue | undefined): OrchestrationStatus {
  if (isOrchestrationStatus(value)) return value;
  throw corrupt("RuntimeStatus", value);
}

function optionalDate(value: SqlValue | undefined, column: string): Date | undefined {
  const ms = optionalInt(value, column);
  return ms === undefined ? undefined : new Date(ms);
}

function tags(value: SqlValue | undefined): Readonly<Record<string, string>> | undefined {
  const json = optionalText(value, "Tags");
  return json === undefined ? undefined : (JSON.parse(json) as Record<string, string>);
}

/** Tags as stored in the `Tags` column: JSON text, NULL when there are none. */
export function encodeTags(value: Readonly<Record<string, string>>): string | null {
  return Object.keys(value).length === 0 ? null : JSON.stringify(value);
}

/**
 * The columns {@link metadataOfRow} reads, in order. Payload columns (input, output, custom
 * status) are selected as NULL when the caller asked for metadata without payloads.
 */
export function metadataColumns(fetchPayloads: boolean): string {
  const payloads = fetchPayloads ? "Input, Output, CustomStatus" : "NULL, NULL, NULL";
  return `InstanceID, Name, RuntimeStatus, CreatedTime, LastUpdatedTime, CompletedTime, ScheduledStartTime, ExecutionID, Version, ParentInstanceID, ${payloads}, FailureDetails, Tags`;
}

/** An instance row (selected with {@link metadataColumns}) as metadata. */
export function metadataOfRow(row: readonly SqlValue[]): OrchestrationMetadata {
  return {
    instanceId: text(row[0], "InstanceID"),
    name: text(row[1], "Name"),
    runtimeStatus: status(row[2]),
    createdAt: new Date(int(row[3], "CreatedTime")),
    lastUpdatedAt: new Date(int(row[4], "LastUpdatedTime")),
    completedAt: optionalDate(row[5], "CompletedTime"),
    scheduledStartAt: optionalDate(row[6], "ScheduledStartTime"),
    executionId: text(row[7], "ExecutionID"),
    version: optionalText(row[8], "Version"),
    parentInstanceId: optionalText(row[9], "ParentInstanceID"),
    // JSON text is never empty: an empty stored input means "no input".
    serializedInput: optionalText(row[10], "Input") || undefined,
    serializedOutput: optionalText(row[11], "Output"),
    serializedCustomStatus: optionalText(row[12], "CustomStatus"),
    failureDetails: decodeFailure(row[13]),
    tags: tags(row[14]),
  };
}
