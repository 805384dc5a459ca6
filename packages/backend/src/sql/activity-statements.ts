import type { HistoryEvent } from "@durabletask/api/proto";
import { terminalStatusList } from "./delete-instances.js";
import type { SqlStatement } from "./driver.js";
import { leaseHeld } from "./orchestration-statements.js";
import { encodeEvent, eventKind } from "./rows.js";

// A leased task's VisibleTime is its lease expiry, so "visible" also covers expired leases.
const lockTasks = `UPDATE ActivityTasks SET LockedBy = ?, VisibleTime = ?, DequeueCount = DequeueCount + 1
  WHERE SequenceNumber IN (
    SELECT SequenceNumber FROM ActivityTasks WHERE VisibleTime <= ?
    ORDER BY VisibleTime, SequenceNumber LIMIT CAST(? AS INTEGER))
  RETURNING SequenceNumber, InstanceID, ExecutionID, DequeueCount, EventPayload`;

/**
 * Leases up to `maxCount` visible tasks under `token` until `expiresAtMs`. Returns
 * `SequenceNumber, InstanceID, ExecutionID, DequeueCount, EventPayload` rows.
 */
export function lockActivitiesStatement(
  token: string,
  maxCount: number,
  nowMs: number,
  expiresAtMs: number,
): SqlStatement {
  return { sql: lockTasks, args: [token, expiresAtMs, nowMs, maxCount] };
}

// The newest unleased tasks of an instance, while its episode's lease holds: the tasks the
// episode's commit just scheduled, leased in the same transaction.
const handOffTasks = `UPDATE ActivityTasks SET LockedBy = ?, VisibleTime = ?, DequeueCount = DequeueCount + 1
  WHERE SequenceNumber IN (
    SELECT SequenceNumber FROM ActivityTasks
    WHERE InstanceID = CAST(? AS TEXT) AND LockedBy IS NULL AND VisibleTime <= ?
    ORDER BY SequenceNumber DESC LIMIT CAST(? AS INTEGER))
    AND ${leaseHeld}
  RETURNING SequenceNumber, InstanceID, ExecutionID, DequeueCount, EventPayload`;

/**
 * Leases up to `maxCount` of the newest visible unleased tasks of `instanceId` under `token`,
 * if `leaseToken` still holds the instance (rows as {@link lockActivitiesStatement}'s).
 */
export function handOffActivitiesStatement(
  instanceId: string,
  leaseToken: string,
  token: string,
  maxCount: number,
  nowMs: number,
  expiresAtMs: number,
): SqlStatement {
  return {
    sql: handOffTasks,
    args: [token, expiresAtMs, instanceId, nowMs, maxCount, instanceId, leaseToken],
  };
}

// Delivered only while the task is still leased by the caller and its execution is the
// instance's current, non-terminal one.
const deliverResult = `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
  SELECT T.InstanceID, T.ExecutionID, ?, ?, ?
  FROM ActivityTasks AS T JOIN Instances AS I
    ON I.InstanceID = T.InstanceID AND I.ExecutionID = T.ExecutionID
  WHERE T.SequenceNumber = CAST(? AS INTEGER) AND T.LockedBy = CAST(? AS TEXT)
    AND I.RuntimeStatus NOT IN ${terminalStatusList}`;

const deleteTask =
  "DELETE FROM ActivityTasks WHERE SequenceNumber = CAST(? AS INTEGER) AND LockedBy = CAST(? AS TEXT)";

/**
 * Delivers an activity's result and deletes its task (one batch). The last statement's changes
 * are 0 when the lease was lost; the first's are 0 also when the result was stale.
 */
export function completeActivityStatements(
  sequenceNumber: number,
  token: string,
  result: HistoryEvent,
  nowMs: number,
): SqlStatement[] {
  return [
    {
      sql: deliverResult,
      args: [eventKind(result), nowMs, encodeEvent(result), sequenceNumber, token],
    },
    { sql: deleteTask, args: [sequenceNumber, token] },
  ];
}

/** Releases the task, visible again at `visibleAtMs`; 0 changes means the lease was lost. */
export function abandonActivityStatement(
  sequenceNumber: number,
  token: string,
  visibleAtMs: number,
): SqlStatement {
  return {
    sql: "UPDATE ActivityTasks SET LockedBy = NULL, VisibleTime = ? WHERE SequenceNumber = CAST(? AS INTEGER) AND LockedBy = CAST(? AS TEXT)",
    args: [visibleAtMs, sequenceNumber, token],
  };
}

/** Extends the task's lease to `expiresAtMs`; 0 changes means it was lost. */
export function renewActivityStatement(
  sequenceNumber: number,
  token: string,
  expiresAtMs: number,
): SqlStatement {
  return {
    sql: "UPDATE ActivityTasks SET VisibleTime = ? WHERE SequenceNumber = CAST(? AS INTEGER) AND LockedBy = CAST(? AS TEXT)",
    args: [expiresAtMs, sequenceNumber, token],
  };
}
