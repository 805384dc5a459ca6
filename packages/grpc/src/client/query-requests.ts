import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  assertDate,
  describe,
  invalidArgument,
  isOrchestrationStatus,
  isTerminalStatus,
  type OrchestrationStatus,
  toWireStatus,
} from "@durabletask/api";
import type { OrchestrationStatus as WireStatus } from "@durabletask/api/proto";
import type { InstanceIdQuery, InstanceQuery, PurgeFilter } from "@durabletask/backend";
import type { RequestOf } from "./sidecar-stub.js";

const maxPageSize = 1000;

/**
 * The `QueryInstances` request of an {@link InstanceQuery}, validated like the in-process client
 * (`InvalidArgument` naming the field). Payloads are fetched unless `fetchPayloads: false`, as
 * in process.
 */
export function instanceQueryRequest(query: InstanceQuery = {}): RequestOf<"queryInstances"> {
  assertObject(query, "query");
  return {
    query: {
      runtimeStatus: wireStatuses(query.statuses, "statuses", () => true),
      createdTimeFrom: timestampOf(query.createdFrom, "createdFrom"),
      createdTimeTo: timestampOf(query.createdTo, "createdTo"),
      instanceIdPrefix: optionalString(query.instanceIdPrefix, "instanceIdPrefix"),
      maxInstanceCount: pageSizeOf(query.pageSize),
      continuationToken: optionalString(query.continuationToken, "continuationToken"),
      fetchInputsAndOutputs: optionalBoolean(query.fetchPayloads, "fetchPayloads") ?? true,
    },
  };
}

/** The `ListInstanceIds` request of an {@link InstanceIdQuery}, validated. */
export function instanceIdQueryRequest(query: InstanceIdQuery = {}): RequestOf<"listInstanceIds"> {
  assertObject(query, "query");
  return {
    runtimeStatus: wireStatuses(query.statuses, "statuses", () => true),
    completedTimeFrom: timestampOf(query.completedFrom, "completedFrom"),
    completedTimeTo: timestampOf(query.completedTo, "completedTo"),
    pageSize: pageSizeOf(query.pageSize),
    lastInstanceKey: optionalString(query.lastInstanceKey, "lastInstanceKey"),
  };
}

/**
 * The `PurgeInstances` request of a {@link PurgeFilter}, validated: like the in-process client,
 * only terminal statuses are accepted (an empty list means every terminal status).
 */
export function purgeFilterRequest(filter: PurgeFilter): RequestOf<"purgeInstances"> {
  assertObject(filter, "filter");
  return {
    request: {
      case: "purgeInstanceFilter",
      value: {
        createdTimeFrom: timestampOf(filter.createdFrom, "createdFrom"),
        createdTimeTo: timestampOf(filter.createdTo, "createdTo"),
        runtimeStatus: wireStatuses(filter.statuses, "statuses", isTerminalStatus),
      },
    },
  };
}

function assertObject(value: unknown, field: string): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArgument(field, `must be an object, got ${describe(value)}`);
  }
}

function wireStatuses(
  value: unknown,
  field: string,
  allowed: (status: OrchestrationStatus) => boolean,
): WireStatus[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw invalidArgument(field, `must be an array, got ${describe(value)}`);
  }
  for (const status of value) {
    if (!isOrchestrationStatus(status) || !allowed(status)) {
      throw invalidArgument(field, `has an unsupported status ${String(status)}`);
    }
  }
  return [...new Set(value as OrchestrationStatus[])].map(toWireStatus);
}

function timestampOf(value: unknown, field: string): Timestamp | undefined {
  if (value === undefined) return undefined;
  assertDate(value, field);
  return timestampFromMs(value.getTime());
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw invalidArgument(field, `must be a string, got ${describe(value)}`);
  }
  return value === "" ? undefined : value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") {
    throw invalidArgument(field, `must be a boolean, got ${describe(value)}`);
  }
  return value;
}

function pageSizeOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxPageSize) {
    throw invalidArgument(
      "pageSize",
      `must be an integer from 1 to ${maxPageSize}, got ${describe(value)}`,
    );
  }
  return value;
}
