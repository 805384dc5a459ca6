import { isTerminalStatus } from "@durabletask/api";
import type { OrchestrationCommit, OrchestrationWorkItem } from "../backend.js";
import { deleteInstancesWhere, terminalStatusList } from "./delete-instances.js";
import type { SqlStatement, SqlValue } from "./driver.js";
import { leaseHeld, nextVisibleStatement } from "./orchestration-statements.js";
import { encodeEvent, encodeFailure, eventKind } from "./rows.js";
import {
  instanceColumns,
  instanceRow,
  type StartedInstance,
  startedInstance,
  startVisibleAt,
} from "./start-event.js";
import { chunks, placeholderList, valuesStatements } from "./values.js";

/**
 * What a statement of a commit batch is for, so the caller can read the outcome: `release`
 * (0 changes: lease lost), `message` / `childStart` / `conflict` (rows queued for other
 * instances or the parent), `nextVisible` (the earliest remaining inbox row of the instance),
 * `handOff` (activity tasks of this commit leased for this process's activity worker).
 */
export type CommitRole =
  | "write"
  | "message"
  | "childStart"
  | "conflict"
  | "release"
  | "nextVisible"
  | "handOff";

/** A statement of a commit batch with its {@link CommitRole}. */
export interface CommitStatement extends SqlStatement {
  readonly role: CommitRole;
}

/** The episode being committed: instance id, lease token, and the new execution id. */
interface Episode {
  readonly id: string;
  readonly token: string;
  readonly executionId: string;
  readonly nowMs: number;
  /** Arguments of {@link leaseHeld}. */
  readonly lease: readonly SqlValue[];
}

/** Appends `statements` to `out` with role `r`. */
export function addWithRole(
  out: CommitStatement[],
  r: CommitRole,
  statements: readonly SqlStatement[],
): void {
  for (const { sql, args } of statements) out.push({ sql, args, role: r });
}

const insertHistory = (values: string) =>
  `INSERT INTO History (InstanceID, SequenceNumber, EventPayload)
   SELECT ?, v.column1, v.column2 FROM (VALUES ${values}) AS v WHERE ${leaseHeld}`;

function historyStatements(e: Episode, base: number, commit: OrchestrationCommit): SqlStatement[] {
  const out: SqlStatement[] = [];
  if (commit.resetHistory) {
    out.push({
      sql: `DELETE FROM History WHERE InstanceID = CAST(? AS TEXT) AND ${leaseHeld}`,
      args: [e.id, ...e.lease],
    });
  }
  const rows = commit.appendHistory.map((event, i) => [base + i, encodeEvent(event)]);
  out.push(...valuesStatements(rows, insertHistory, [e.id], e.lease));
  return out;
}

// SQLite rewrites an index entry whenever its column is assigned, even to the value it holds,
// so the indexed columns (RuntimeStatus, CreatedTime) are assigned by a statement that matches
// only when one of them changes (with ExecutionID: a new execution changes it and CreatedTime).
// Most episodes change neither, and each index rewritten is a page more in the commit.
const updateKeys = `UPDATE Instances SET RuntimeStatus = ?, CreatedTime = ?, ExecutionID = ?
  WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT)
    AND (RuntimeStatus IS NOT ? OR CreatedTime IS NOT ? OR ExecutionID IS NOT ?)`;

function updateKeysStatement(e: Episode, commit: OrchestrationCommit): SqlStatement {
  const { runtimeStatus: status, createdAtMs: created, executionId: execution } = commit.instance;
  return {
    sql: updateKeys,
    args: [status, created, execution, e.id, e.token, status, created, execution],
  };
}

// The rest of the instance row, and the lease released with it (the last write of a commit:
// 0 changes means the lease was lost, and then nothing before it applied either). Undefined
// input, parent and custom status (bound as NULL) keep the stored values.
const updateAndRelease = `UPDATE Instances SET Name = ?, Version = ?,
    Input = COALESCE(?, Input), ParentInstanceID = COALESCE(?, ParentInstanceID),
    LastUpdatedTime = ?, CompletedTime = ?, Output = ?, FailureDetails = ?,
    CustomStatus = COALESCE(?, CustomStatus), LockedBy = NULL, LockExpiration = NULL
  WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT)`;

function updateAndReleaseStatement(e: Episode, commit: OrchestrationCommit): SqlStatement {
  const u = commit.instance;
  return {
    sql: updateAndRelease,
    args: [
      u.name,
      u.version ?? null,
      u.input ?? null,
      u.parentInstanceId ?? null,
      u.lastUpdatedAtMs,
      u.completedAtMs ?? null,
      u.output ?? null,
      encodeFailure(u.failureDetails),
      u.customStatus ?? null,
      e.id,
      e.token,
    ],
  };
}

// A terminal instance keeps no inbox rows: events that arrived during its last episode are
// dropped, as events sent to it afterwards are. Otherwise only execution-scoped rows (timers,
// results for the old execution) are cancelled; plain events carry over to the next execution.
function cancelStatements(e: Episode, commit: OrchestrationCommit): SqlStatement[] {
  const terminal = isTerminalStatus(commit.instance.runtimeStatus);
  if (!terminal && !commit.cancelPendingWork) return [];
  const scope = terminal ? "" : " AND ExecutionID IS NOT NULL";
  return [
    {
      sql: `DELETE FROM ActivityTasks WHERE InstanceID = CAST(? AS TEXT) AND ${leaseHeld}`,
      args: [e.id, ...e.lease],
    },
    {
      sql: `DELETE FROM Inbox WHERE InstanceID = CAST(? AS TEXT)${scope} AND ${leaseHeld}`,
      args: [e.id, ...e.lease],
    },
  ];
}

const insertActivities = (values: string) =>
  `INSERT INTO ActivityTasks (InstanceID, ExecutionID, VisibleTime, EventPayload)
   SELECT ?, ?, ?, v.column1 FROM (VALUES ${values}) AS v WHERE ${leaseHeld}`;

const insertLeasedActivities = (values: string) =>
  `INSERT INTO ActivityTasks (InstanceID, ExecutionID, VisibleTime, DequeueCount, LockedBy, EventPayload)
   SELECT ?, ?, ?, 1, ?, v.column1 FROM (VALUES ${values}) AS v WHERE ${leaseHeld}
   RETURNING SequenceNumber, InstanceID, ExecutionID, DequeueCount, EventPayload`;

// Tasks handed off to this process are inserted already leased (VisibleTime is then the lease's
// expiry, as for a task a lock step leased), so no second statement rewrites them and their
// index entries; RETURNING gives the rows a lock step returns.
function activityStatements(
  out: CommitStatement[],
  e: Episode,
  commit: OrchestrationCommit,
  handOff?: ActivityHandOff,
): void {
  const rows = commit.activities.map((event) => [encodeEvent(event)]);
  const leased = Math.min(handOff?.count ?? 0, rows.length);
  if (handOff === undefined || leased <= 0) {
    addWithRole(
      out,
      "write",
      valuesStatements(rows, insertActivities, [e.id, e.executionId, e.nowMs], e.lease),
    );
    return;
  }
  const { token, expiresAtMs } = handOff;
  const head = leased === rows.length ? rows : rows.slice(0, leased);
  addWithRole(
    out,
    "handOff",
    valuesStatements(
      head,
      insertLeasedActivities,
      [e.id, e.executionId, expiresAtMs, token],
      e.lease,
    ),
  );
  if (leased === rows.length) return;
  addWithRole(
    out,
    "write",
    valuesStatements(rows.slice(leased), insertActivities, [e.id, e.executionId, e.nowMs], e.lease),
  );
}

const insertTimers = (values: string) =>
  `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
   SELECT ?, ?, v.column1, v.column2, v.column3 FROM (VALUES ${values}) AS v WHERE ${leaseHeld}`;

function timerStatements(e: Episode, commit: OrchestrationCommit): SqlStatement[] {
  const rows = commit.timers.map((t) => [eventKind(t.event), t.fireAtMs, encodeEvent(t.event)]);
  return valuesStatements(rows, insertTimers, [e.id, e.executionId], e.lease);
}

const insertMessages = (values: string) =>
  `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
   SELECT v.column1, v.column2, v.column3, ?, v.column4
   FROM (VALUES ${values}) AS v JOIN Instances AS T ON T.InstanceID = v.column1
   WHERE (v.column2 IS NULL OR T.ExecutionID = v.column2) AND ${leaseHeld}`;

// Dropped unless the target exists and (when scoped) runs that execution. Terminal targets do
// get messages: the engine forwards a recursive terminate through a completed instance.
function messageStatements(e: Episode, commit: OrchestrationCommit): SqlStatement[] {
  const rows = commit.messages.map((m) => [
    m.targetInstanceId,
    m.targetExecutionId ?? null,
    eventKind(m.event),
    encodeEvent(m.event),
  ]);
  return valuesStatements(rows, insertMessages, [e.nowMs], e.lease);
}

/** The parsed children of a commit, validated. */
export function childrenOf(commit: OrchestrationCommit): StartedInstance[] {
  return commit.subOrchestrations.map((s, i) =>
    startedInstance(s.startEvent, `subOrchestrations[${i}].startEvent`),
  );
}

function replaceTerminalChildren(e: Episode, children: readonly StartedInstance[]): SqlStatement[] {
  return chunks(children).flatMap((chunk) =>
    deleteInstancesWhere(
      `InstanceID IN (${placeholderList(chunk.length)}) AND RuntimeStatus IN ${terminalStatusList} AND ${leaseHeld}`,
      [...chunk.map((c) => c.instanceId), ...e.lease],
    ),
  );
}

const insertChildren = (values: string) =>
  `INSERT INTO Instances (${instanceColumns})
   SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8,
     v.column9, v.column10, 'PENDING'
   FROM (VALUES ${values}) AS v WHERE ${leaseHeld}
   ON CONFLICT (InstanceID) DO NOTHING`;

function createChildren(e: Episode, children: readonly StartedInstance[]): SqlStatement[] {
  const rows = children.map((c) => instanceRow(c, e.nowMs));
  return valuesStatements(rows, insertChildren, [], e.lease);
}

const insertChildStarts = (values: string) =>
  `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
   SELECT v.column1, NULL, 'executionStarted', v.column3, v.column4
   FROM (VALUES ${values}) AS v JOIN Instances AS C
     ON C.InstanceID = v.column1 AND C.ExecutionID = v.column2 AND C.RuntimeStatus = 'PENDING'
   WHERE NOT EXISTS (
       SELECT 1 FROM Inbox AS X WHERE X.InstanceID = v.column1 AND X.EventKind = 'executionStarted')
     AND ${leaseHeld}`;

function queueChildStarts(e: Episode, children: readonly StartedInstance[]): SqlStatement[] {
  const rows = children.map((c) => [
    c.instanceId,
    c.executionId,
    startVisibleAt(c, e.nowMs),
    c.payload,
  ]);
  return valuesStatements(rows, insertChildStarts, [], e.lease);
}

const insertConflicts = (values: string) =>
  `INSERT INTO Inbox (InstanceID, ExecutionID, EventKind, VisibleTime, EventPayload)
   SELECT ?, ?, v.column3, ?, v.column4
   FROM (VALUES ${values}) AS v JOIN Instances AS C ON C.InstanceID = v.column1
   WHERE C.ExecutionID <> v.column2 AND ${leaseHeld}`;

// A child id held by a non-terminal instance of another execution: tell the parent instead.
function queueConflicts(
  e: Episode,
  commit: OrchestrationCommit,
  children: readonly StartedInstance[],
): SqlStatement[] {
  const rows = children.map((c, i) => {
    const conflict = commit.subOrchestrations[i]?.conflictEvent;
    if (conflict === undefined) throw new TypeError("subOrchestrations changed while committing");
    return [c.instanceId, c.executionId, eventKind(conflict), encodeEvent(conflict)];
  });
  return valuesStatements(rows, insertConflicts, [e.id, e.executionId, e.nowMs], e.lease);
}

/**
 * Activity tasks of a commit to lease at once for this process: its first `count` tasks, under
 * `token` until `expiresAtMs`.
 */
export interface ActivityHandOff {
  readonly token: string;
  readonly count: number;
  readonly expiresAtMs: number;
}

/**
 * What the caller knows of the instance beyond the work item (an episode run without a lease,
 * whose commit's conditions establish it): its work item claimed no inbox rows; its row holds
 * RUNNING, `executionId` and `createdAtMs`.
 */
export interface KnownInstance {
  readonly claimedNothing?: boolean;
  readonly stored?: {
    readonly executionId: string;
    readonly createdAtMs: number;
  };
}

function keysUnchanged(commit: OrchestrationCommit, known: KnownInstance): boolean {
  const { runtimeStatus, executionId, createdAtMs } = commit.instance;
  return (
    known.stored !== undefined &&
    runtimeStatus === "RUNNING" &&
    executionId === known.stored.executionId &&
    createdAtMs === known.stored.createdAtMs
  );
}

function deleteClaimedStatement(e: Episode): SqlStatement {
  return {
    sql: `DELETE FROM Inbox WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT) AND ${leaseHeld}`,
    args: [e.id, e.token, ...e.lease],
  };
}

/**
 * The one batch that applies an episode: every write is guarded by the lease, the instance row's
 * last update releases it (its `release` result has 0 changes when the lease was lost, and then
 * nothing else was applied), and a final read reports the instance's next visible inbox row.
 * With `handOff`, the activity tasks it schedules are also leased for this process. What `known`
 * establishes is not written again: no claimed rows to delete, index columns that hold already.
 */
export function commitStatements(
  item: OrchestrationWorkItem,
  commit: OrchestrationCommit,
  children: readonly StartedInstance[],
  nowMs: number,
  handOff?: ActivityHandOff,
  known: KnownInstance = {},
): CommitStatement[] {
  const e: Episode = {
    id: item.instanceId,
    token: item.lockToken,
    executionId: commit.instance.executionId,
    nowMs,
    lease: [item.instanceId, item.lockToken],
  };
  const base = commit.resetHistory ? 0 : item.history.length;
  const out: CommitStatement[] = [];
  addWithRole(out, "write", historyStatements(e, base, commit));
  addWithRole(out, "write", cancelStatements(e, commit));
  activityStatements(out, e, commit, handOff);
  if (commit.timers.length > 0) addWithRole(out, "write", timerStatements(e, commit));
  if (children.length > 0) {
    addWithRole(out, "write", replaceTerminalChildren(e, children));
    addWithRole(out, "write", createChildren(e, children));
    addWithRole(out, "childStart", queueChildStarts(e, children));
    addWithRole(out, "conflict", queueConflicts(e, commit, children));
  }
  if (commit.messages.length > 0) addWithRole(out, "message", messageStatements(e, commit));
  if (!known.claimedNothing) addWithRole(out, "write", [deleteClaimedStatement(e)]);
  if (!keysUnchanged(commit, known)) addWithRole(out, "write", [updateKeysStatement(e, commit)]);
  addWithRole(out, "release", [updateAndReleaseStatement(e, commit)]);
  addWithRole(out, "nextVisible", [nextVisibleStatement(e.id)]);
  return out;
}
