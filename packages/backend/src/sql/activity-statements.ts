import type { HistoryEvent } from "@durabletask/api/proto";
import type { ActivityWorkItem } from "../backend.js";
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

// `Instances` rows that can take an episode of an activity result alone now (parameters:
// instance id, execution id, now): unleased, RUNNING the task's execution, and no other event
// waiting (those go first, through the inbox). Both the read before such an episode and the
// lease its commit takes ask this.
const takesResult = `Instances.InstanceID = CAST(? AS TEXT) AND Instances.ExecutionID = CAST(? AS TEXT)
  AND Instances.RuntimeStatus = 'RUNNING' AND Instances.LockedBy IS NULL
  AND NOT EXISTS (SELECT 1 FROM Inbox AS E
    WHERE E.InstanceID = Instances.InstanceID AND E.VisibleTime <= CAST(? AS INTEGER))`;

// Rows only when the instance can take the episode (its history is never empty then), so a
// declined attempt reads no history.
const historyIfFree = `SELECT SequenceNumber, EventPayload FROM History
  WHERE InstanceID = CAST(? AS TEXT) AND SequenceNumber >= CAST(? AS INTEGER)
    AND EXISTS (SELECT 1 FROM Instances WHERE ${takesResult})
  ORDER BY SequenceNumber`;

/**
 * Reads what an episode of `executionId`'s activity result starts from (one statement): the
 * `SequenceNumber, EventPayload` rows of the history from `fromSequence` on, or no rows when the
 * instance cannot take the episode now.
 */
export function peekInstanceStatement(
  instanceId: string,
  executionId: string,
  fromSequence: number,
  nowMs: number,
): SqlStatement {
  return { sql: historyIfFree, args: [instanceId, fromSequence, instanceId, executionId, nowMs] };
}

// The lease of an episode run without one, taken inside its commit: only while the instance can
// take it (as above), holds the creation time the commit writes (so the commit need not write
// its indexed columns), its history has exactly `historyLength` rows (history is append-only
// within an execution), and the task is still leased by the caller. No expiry is set: the same
// transaction releases it.
const leaseIfUnchanged = `UPDATE Instances SET LockedBy = CAST(? AS TEXT)
  WHERE ${takesResult} AND Instances.CreatedTime = CAST(? AS INTEGER)
    AND NOT EXISTS (SELECT 1 FROM History
      WHERE History.InstanceID = Instances.InstanceID AND SequenceNumber >= CAST(? AS INTEGER))
    AND EXISTS (SELECT 1 FROM ActivityTasks
      WHERE SequenceNumber = CAST(? AS INTEGER) AND LockedBy = CAST(? AS TEXT))`;

// The task goes with the episode's commit, only when that commit took the lease.
const deleteTaskIfLeased = `${deleteTask} AND ${leaseHeld}`;

/**
 * The statements that go before an episode's commit when it consumes an activity's result
 * (its lease `episodeToken`, over a history of `historyLength` events): take the lease if the
 * instance is unchanged (and created at `createdAtMs`, the time its commit writes) and the task
 * still leased by the caller, and delete the task if it was taken. Results: lease (1 change:
 * the commit applies; 0: nothing of the batch applies, and the result must be delivered on its
 * own), delete.
 */
export function completeActivityWithEpisodeStatements(
  item: Pick<ActivityWorkItem, "sequenceNumber" | "lockToken" | "instanceId" | "executionId">,
  episodeToken: string,
  historyLength: number,
  createdAtMs: number,
  nowMs: number,
): SqlStatement[] {
  const { sequenceNumber, lockToken, instanceId, executionId } = item;
  return [
    {
      sql: leaseIfUnchanged,
      args: [
        episodeToken,
        instanceId,
        executionId,
        nowMs,
        createdAtMs,
        historyLength,
        sequenceNumber,
        lockToken,
      ],
    },
    {
      sql: deleteTaskIfLeased,
      args: [sequenceNumber, lockToken, instanceId, episodeToken],
    },
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
