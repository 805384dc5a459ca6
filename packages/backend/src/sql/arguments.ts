import {
  assertDate,
  assertInstanceId,
  assertNonNegativeMs,
  describe,
  invalidArgument,
  isOrchestrationStatus,
  isTerminalStatus,
  type OrchestrationStatus,
  terminalStatuses,
} from "@durabletask/api";
import type { HistoryEvent } from "@durabletask/api/proto";
import type {
  ActivityWorkItem,
  InstanceIdQuery,
  InstanceQuery,
  OrchestrationCommit,
  OrchestrationWorkItem,
  PurgeFilter,
} from "../backend.js";
import type { InstanceFilter } from "./query-statements.js";

/** Default and largest page size of instance queries. */
export const defaultPageSize = 100;
export const maxPageSize = 1000;

/** Throws `InvalidArgument` unless `value` is an integer ≥ 1. */
export function assertCount(value: unknown, field: string): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalidArgument(field, `must be an integer ≥ 1, got ${describe(value)}`);
  }
}

/** Throws `InvalidArgument` unless `event` is a history event of one of `kinds` (any if empty). */
export function assertEvent(
  event: unknown,
  field: string,
  kinds: readonly string[] = [],
): asserts event is HistoryEvent {
  const kind = (event as HistoryEvent | undefined)?.eventType?.case;
  if (typeof kind !== "string")
    throw invalidArgument(field, `must be a history event, got ${describe(event)}`);
  if (kinds.length > 0 && !kinds.includes(kind)) {
    throw invalidArgument(field, `must be one of ${kinds.join(", ")}, got ${kind}`);
  }
}

/** Throws `InvalidArgument` unless the work item names an instance and a lock token. */
export function assertOrchestrationItem(item: OrchestrationWorkItem): void {
  assertInstanceId(item?.instanceId, "item.instanceId");
  if (typeof item.lockToken !== "string")
    throw invalidArgument("item.lockToken", "must be a string");
  if (!Array.isArray(item.history)) throw invalidArgument("item.history", "must be an array");
}

/** Throws `InvalidArgument` unless the work item has a sequence number and a lock token. */
export function assertActivityItem(item: ActivityWorkItem): void {
  if (typeof item?.sequenceNumber !== "number") {
    throw invalidArgument(
      "item.sequenceNumber",
      `must be a number, got ${describe(item?.sequenceNumber)}`,
    );
  }
  if (typeof item.lockToken !== "string")
    throw invalidArgument("item.lockToken", "must be a string");
}

/** Throws `InvalidArgument` for a commit whose instance row cannot be stored. */
export function assertCommit(commit: OrchestrationCommit): void {
  const u = commit?.instance;
  if (!isOrchestrationStatus(u?.runtimeStatus)) {
    throw invalidArgument(
      "commit.instance.runtimeStatus",
      `must be a status, got ${describe(u?.runtimeStatus)}`,
    );
  }
  if (typeof u.executionId !== "string" || u.executionId === "") {
    throw invalidArgument("commit.instance.executionId", "must be a non-empty string");
  }
  assertNonNegativeMs(u.createdAtMs, "commit.instance.createdAtMs");
  assertNonNegativeMs(u.lastUpdatedAtMs, "commit.instance.lastUpdatedAtMs");
  for (const [i, t] of commit.timers.entries()) {
    assertNonNegativeMs(t.fireAtMs, `commit.timers[${i}].fireAtMs`);
  }
  for (const [i, m] of commit.messages.entries()) {
    assertInstanceId(m.targetInstanceId, `commit.messages[${i}].targetInstanceId`);
  }
}

function statuses(value: unknown, field: string, allowed: (s: OrchestrationStatus) => boolean) {
  if (value === undefined) return undefined;
  if (!Array.isArray(value))
    throw invalidArgument(field, `must be an array, got ${describe(value)}`);
  for (const s of value) {
    if (!isOrchestrationStatus(s) || !allowed(s))
      throw invalidArgument(field, `has an unsupported status ${String(s)}`);
  }
  return [...new Set(value as OrchestrationStatus[])];
}

function ms(value: Date | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  assertDate(value, field);
  return value.getTime();
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw invalidArgument(field, `must be a string, got ${describe(value)}`);
  return value;
}

/** The page size of a query: 1–1000, default 100. */
export function pageSizeOf(value: unknown): number {
  if (value === undefined) return defaultPageSize;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxPageSize) {
    throw invalidArgument(
      "pageSize",
      `must be an integer from 1 to ${maxPageSize}, got ${describe(value)}`,
    );
  }
  return value;
}

/** The filter of {@link InstanceQuery}, validated. */
export function queryFilter(query: InstanceQuery): InstanceFilter {
  return {
    statuses: statuses(query.statuses, "statuses", () => true),
    createdFromMs: ms(query.createdFrom, "createdFrom"),
    createdToMs: ms(query.createdTo, "createdTo"),
    instanceIdPrefix: optionalString(query.instanceIdPrefix, "instanceIdPrefix") || undefined,
    afterInstanceId: optionalString(query.continuationToken, "continuationToken") || undefined,
  };
}

/** The filter of {@link InstanceIdQuery}, validated. */
export function idQueryFilter(query: InstanceIdQuery): InstanceFilter {
  return {
    statuses: statuses(query.statuses, "statuses", () => true),
    completedFromMs: ms(query.completedFrom, "completedFrom"),
    completedToMs: ms(query.completedTo, "completedTo"),
    afterInstanceId: optionalString(query.lastInstanceKey, "lastInstanceKey") || undefined,
  };
}

/** The filter of {@link PurgeFilter}, validated: terminal statuses only (default all of them). */
export function purgeFilter(filter: PurgeFilter): InstanceFilter {
  const s = statuses(filter.statuses, "statuses", isTerminalStatus);
  return {
    statuses: s === undefined || s.length === 0 ? terminalStatuses : s,
    createdFromMs: ms(filter.createdFrom, "createdFrom"),
    createdToMs: ms(filter.createdTo, "createdTo"),
  };
}
