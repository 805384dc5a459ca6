import type { OrchestrationStatus } from "@durabletask/api";
import { deleteInstancesWhere } from "./delete-instances.js";
import type { SqlStatement, SqlValue } from "./driver.js";
import { metadataColumns } from "./rows.js";
import { placeholderList } from "./values.js";

/** One part of a WHERE clause: a constant SQL fragment and its arguments. */
interface Condition {
  readonly sql: string;
  readonly args: readonly SqlValue[];
}

/** Instance filters, already validated (times in epoch ms). */
export interface InstanceFilter {
  readonly statuses?: readonly OrchestrationStatus[] | undefined;
  readonly createdFromMs?: number | undefined;
  readonly createdToMs?: number | undefined;
  readonly completedFromMs?: number | undefined;
  readonly completedToMs?: number | undefined;
  readonly instanceIdPrefix?: string | undefined;
  /** Only ids after this one (the previous page's last id). */
  readonly afterInstanceId?: string | undefined;
}

function conditions(filter: InstanceFilter): Condition[] {
  const out: Condition[] = [];
  const add = (value: SqlValue | undefined, sql: string, count = 1): void => {
    if (value !== undefined) out.push({ sql, args: Array.from({ length: count }, () => value) });
  };
  const statuses = filter.statuses ?? [];
  if (statuses.length > 0) {
    out.push({ sql: `RuntimeStatus IN (${placeholderList(statuses.length)})`, args: statuses });
  }
  add(filter.createdFromMs, "CreatedTime >= ?");
  add(filter.createdToMs, "CreatedTime <= ?");
  add(filter.completedFromMs, "CompletedTime >= ?");
  add(filter.completedToMs, "CompletedTime <= ?");
  // A range start lets the primary key seek; substr() compares whole characters, unlike LIKE
  // (case-insensitive, with wildcards).
  add(filter.instanceIdPrefix, "InstanceID >= ? AND substr(InstanceID, 1, length(?)) = ?", 3);
  add(filter.afterInstanceId, "InstanceID > ?");
  return out;
}

function where(filter: InstanceFilter): Condition {
  const parts = conditions(filter);
  if (parts.length === 0) return { sql: "1 = 1", args: [] };
  return { sql: parts.map((c) => c.sql).join(" AND "), args: parts.flatMap((c) => c.args) };
}

/** One page of metadata rows ordered by id; `limit` is the page size plus one. */
export function queryInstancesStatement(
  filter: InstanceFilter,
  fetchPayloads: boolean,
  limit: number,
): SqlStatement {
  const w = where(filter);
  return {
    sql: `SELECT ${metadataColumns(fetchPayloads)} FROM Instances WHERE ${w.sql} ORDER BY InstanceID LIMIT ?`,
    args: [...w.args, limit],
  };
}

/** One page of instance ids in order; `limit` is the page size plus one. */
export function listInstanceIdsStatement(filter: InstanceFilter, limit: number): SqlStatement {
  const w = where(filter);
  return {
    sql: `SELECT InstanceID FROM Instances WHERE ${w.sql} ORDER BY InstanceID LIMIT ?`,
    args: [...w.args, limit],
  };
}

/** Deletes the matching instances (one batch); the last result returns their ids. */
export function purgeInstancesStatements(filter: InstanceFilter): SqlStatement[] {
  const w = where(filter);
  return deleteInstancesWhere(w.sql, w.args);
}
