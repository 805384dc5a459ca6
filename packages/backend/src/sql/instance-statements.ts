import type { HistoryEvent } from "@durabletask/api/proto";
import type { ReusePolicy } from "../backend.js";
import { deleteInstancesWhere, terminalStatusList } from "./delete-instances.js";
import type { SqlStatement } from "./driver.js";
import { encodeEvent, eventKind, metadataColumns } from "./rows.js";
import {
  instanceColumns,
  instanceRow,
  type StartedInstance,
  startVisibleAt,
} from "./start-event.js";
import { placeholderList } from "./values.js";

const insertInstance = `INSERT INTO Instances (${instanceColumns})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING')
  ON CONFLICT (InstanceID) DO NOTHING`;

// Only when the row is the one just created (same execution, still PENDING) and its start event
// is not queued yet, so a retried create of the same execution never queues a second start.
const insertStartEvent = `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
  SELECT ?, NULL, 'executionStarted', ?, ?
  WHERE EXISTS (SELECT 1 FROM Instances WHERE InstanceID = CAST(? AS TEXT) AND ExecutionID = CAST(? AS TEXT) AND RuntimeStatus = 'PENDING')
    AND NOT EXISTS (SELECT 1 FROM Inbox WHERE InstanceID = CAST(? AS TEXT) AND EventKind = 'executionStarted')`;

const selectInstanceState =
  "SELECT RuntimeStatus, ExecutionID FROM Instances WHERE InstanceID = CAST(? AS TEXT)";

/**
 * Creates an instance (one batch). With a `"terminate"` reuse policy, the state of an existing
 * instance of another execution whose status is in the policy is deleted first. The last result
 * holds the row's `RuntimeStatus, ExecutionID` afterwards: the new execution id means created.
 */
export function createInstanceStatements(
  started: StartedInstance,
  policy: ReusePolicy | undefined,
  nowMs: number,
): SqlStatement[] {
  const id = started.instanceId;
  const statements: SqlStatement[] = [];
  if (policy?.action === "terminate" && policy.statuses.length > 0) {
    const condition = `InstanceID = CAST(? AS TEXT) AND ExecutionID <> CAST(? AS TEXT) AND RuntimeStatus IN (${placeholderList(policy.statuses.length)})`;
    statements.push(
      ...deleteInstancesWhere(condition, [id, started.executionId, ...policy.statuses]),
    );
  }
  statements.push(
    { sql: insertInstance, args: instanceRow(started, nowMs) },
    {
      sql: insertStartEvent,
      args: [id, startVisibleAt(started, nowMs), started.payload, id, started.executionId, id],
    },
    { sql: selectInstanceState, args: [id] },
  );
  return statements;
}

const insertEvent = `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
  SELECT ?, NULL, ?, ?, ?
  WHERE EXISTS (SELECT 1 FROM Instances WHERE InstanceID = CAST(? AS TEXT) AND RuntimeStatus NOT IN ${terminalStatusList})`;

/**
 * Queues an event for a non-terminal instance (one batch); the last result holds the instance's
 * `RuntimeStatus`, no row if there is no such instance.
 */
export function addEventStatements(
  instanceId: string,
  event: HistoryEvent,
  nowMs: number,
): SqlStatement[] {
  return [
    {
      sql: insertEvent,
      args: [instanceId, eventKind(event), nowMs, encodeEvent(event), instanceId],
    },
    { sql: selectInstanceState, args: [instanceId] },
  ];
}

/** Selects one instance's metadata row. */
export function metadataStatement(instanceId: string, fetchPayloads: boolean): SqlStatement {
  return {
    sql: `SELECT ${metadataColumns(fetchPayloads)} FROM Instances WHERE InstanceID = CAST(? AS TEXT)`,
    args: [instanceId],
  };
}

/** Whether the instance exists (a row or none), then its history, oldest first. */
export function historyStatements(instanceId: string): SqlStatement[] {
  return [
    { sql: "SELECT 1 FROM Instances WHERE InstanceID = CAST(? AS TEXT)", args: [instanceId] },
    {
      sql: "SELECT EventPayload FROM History WHERE InstanceID = CAST(? AS TEXT) ORDER BY SequenceNumber",
      args: [instanceId],
    },
  ];
}

/**
 * Deletes a terminal instance's rows (one batch); the second-to-last result has a row when it
 * was deleted, the last result holds the `RuntimeStatus` of an instance that was not.
 */
export function purgeInstanceStatements(instanceId: string): SqlStatement[] {
  return [
    ...deleteInstancesWhere(
      `InstanceID = CAST(? AS TEXT) AND RuntimeStatus IN ${terminalStatusList}`,
      [instanceId],
    ),
    { sql: selectInstanceState, args: [instanceId] },
  ];
}
