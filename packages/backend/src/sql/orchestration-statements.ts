import type { SqlStatement, SqlValue } from "./driver.js";

/** The lease condition every write of an episode carries; args: instance id, lock token. */
export const leaseHeld =
  "EXISTS (SELECT 1 FROM Instances WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT))";

// Whether inbox row E can be delivered to instance I now: it belongs to no execution or to the
// current one; a suspended instance only wakes up for resume and terminate; an instance whose
// start is scheduled in the future waits for it unless it is terminated (then it is handed out
// at once, its start claimed early, and it ends TERMINATED).
const deliverable = `E.VisibleTime <= :now
      AND (E.ExecutionID IS NULL OR E.ExecutionID = I.ExecutionID)
      AND (I.RuntimeStatus <> 'SUSPENDED' OR E.EventKind IN ('executionResumed', 'executionTerminated'))
      AND (E.EventKind = 'executionTerminated' OR NOT EXISTS (
        SELECT 1 FROM Inbox AS S
        WHERE S.InstanceID = E.InstanceID AND S.EventKind = 'executionStarted' AND S.VisibleTime > :now))`;

// Some parameters, given plainly, make SQLite re-plan the statement at every execution (the
// value may change the plan: a LIMIT, an equality on an indexed column with several candidate
// indexes); as an expression they do not. Measured on the lock step's statements: 50-60 µs
// → 4-18 µs (lockInstances, LIMIT) and 80 µs → 15 µs (claimEvents, LockedBy).
// Instances to lease, oldest deliverable event first. Two sources: unclaimed rows of unleased
// instances (walked in visible-time order on the partial index of unclaimed rows, stopping after
// :limit distinct instances, so the cost does not grow with the backlog or the number of
// in-flight episodes), and
// instances whose lease expired while they held claimed rows (a crashed or stuck worker).
const lockInstances = `UPDATE Instances SET LockedBy = :token, LockExpiration = :expires
  WHERE InstanceID IN (
    SELECT InstanceID FROM (
      SELECT DISTINCT E.InstanceID FROM Inbox AS E JOIN Instances AS I ON I.InstanceID = E.InstanceID
      WHERE E.LockedBy IS NULL AND (I.LockExpiration IS NULL OR I.LockExpiration <= :now)
        AND ${deliverable}
      ORDER BY E.VisibleTime, E.SequenceNumber
      LIMIT CAST(:limit AS INTEGER))
    UNION
    SELECT InstanceID FROM (
      SELECT I.InstanceID FROM Instances AS I
      WHERE I.LockExpiration <= :now AND EXISTS (
        SELECT 1 FROM Inbox AS E WHERE E.InstanceID = I.InstanceID AND E.LockedBy IS NOT NULL AND ${deliverable})
      LIMIT CAST(:limit AS INTEGER))
    LIMIT CAST(:limit AS INTEGER))
  RETURNING InstanceID`;

// Instances a lock would hand out now: unleased (or lease expired) with a deliverable event.
const countReadyInstances = `SELECT COUNT(DISTINCT E.InstanceID) FROM Inbox AS E
  JOIN Instances AS I ON I.InstanceID = E.InstanceID
  WHERE E.LockedBy IS NULL AND (I.LockExpiration IS NULL OR I.LockExpiration <= :now)
    AND ${deliverable}`;

const countReadyTasks = "SELECT COUNT(*) FROM ActivityTasks WHERE VisibleTime <= :now";

/** Counts ready orchestration instances and ready activity tasks (two single-row results). */
export function countReadyStatements(nowMs: number): SqlStatement[] {
  return [named(countReadyInstances, { now: nowMs }), named(countReadyTasks, { now: nowMs })];
}

/** Statement texts with `:name` placeholders (module constants), compiled once each. */
const compiled = new Map<string, { readonly text: string; readonly names: readonly string[] }>();

/** A statement with `:name` placeholders compiled to positional `?` arguments. */
function named(sql: string, values: Readonly<Record<string, SqlValue>>): SqlStatement {
  let statement = compiled.get(sql);
  if (statement === undefined) {
    const names: string[] = [];
    const text = sql.replace(/:([a-z]+)/g, (_match, name: string) => {
      names.push(name);
      return "?";
    });
    statement = { text, names };
    compiled.set(sql, statement);
  }
  const args = statement.names.map((name) => {
    const value = values[name];
    if (value === undefined) throw new TypeError(`no value for :${name}`);
    return value;
  });
  return { sql: statement.text, args };
}

// The instances one lock step just leased are found by their lease: its expiry (on the
// LockExpiration index; no index on LockedBy, which every lease and release would rewrite: one
// WAL page per episode's lock and one per its commit) and its token.
function leasedBy(alias: string): string {
  return `${alias}LockExpiration = CAST(? AS INTEGER) AND ${alias}LockedBy = CAST(? AS TEXT)`;
}

// Every deliverable visible event of the instances just locked, including rows an earlier,
// expired lease had claimed.
const claimEvents = `UPDATE Inbox SET DequeueCount = DequeueCount + 1, LockedBy = ?
  WHERE SequenceNumber IN (
    SELECT E.SequenceNumber FROM Inbox AS E JOIN Instances AS I ON I.InstanceID = E.InstanceID
    WHERE ${leasedBy("I.")}
      AND (E.VisibleTime <= ? OR (E.EventKind = 'executionStarted' AND EXISTS (
        SELECT 1 FROM Inbox AS T
        WHERE T.InstanceID = E.InstanceID AND T.EventKind = 'executionTerminated' AND T.VisibleTime <= ?)))
      AND (E.ExecutionID IS NULL OR E.ExecutionID = I.ExecutionID))
  RETURNING InstanceID, SequenceNumber, VisibleTime, DequeueCount, EventPayload`;

const readHistory = `SELECT InstanceID, SequenceNumber, EventPayload FROM History
  WHERE InstanceID IN (SELECT InstanceID FROM Instances WHERE ${leasedBy("")})
  ORDER BY InstanceID, SequenceNumber`;

// With known histories: for a listed instance only the rows from its last known event on (that
// row proves the known prefix is still what the database holds).
function readHistoryTail(known: number): string {
  const values = Array.from({ length: known }, () => "(?, ?)").join(", ");
  return `WITH Known (InstanceID, KnownCount) AS (VALUES ${values})
  SELECT H.InstanceID, H.SequenceNumber, H.EventPayload
  FROM (SELECT I.InstanceID, COALESCE(CAST(K.KnownCount AS INTEGER) - 1, 0) AS FirstRow
      FROM Instances AS I LEFT JOIN Known AS K ON K.InstanceID = I.InstanceID
      WHERE ${leasedBy("I.")}) AS L
    JOIN History AS H ON H.InstanceID = L.InstanceID AND H.SequenceNumber >= L.FirstRow
  ORDER BY H.InstanceID, H.SequenceNumber`;
}

// One instance, if it is unleased (or its lease expired) and has a deliverable event: the lock
// step of lockInstances for an instance the caller just gave work.
const lockInstance = `UPDATE Instances SET LockedBy = :token, LockExpiration = :expires
  WHERE InstanceID IN (
    SELECT I.InstanceID FROM Instances AS I
    WHERE I.InstanceID = CAST(:id AS TEXT) AND (I.LockExpiration IS NULL OR I.LockExpiration <= :now)
      AND EXISTS (
        SELECT 1 FROM Inbox AS E
        WHERE E.InstanceID = I.InstanceID AND (E.LockedBy IS NULL OR I.LockExpiration IS NOT NULL)
          AND ${deliverable}))
  RETURNING InstanceID`;

// The lease of a create's first episode, run before the create commits: only on the row this
// create made (its execution, PENDING, never leased, no history) whose one waiting event is its
// start, so the episode's work item (no history, the start event) is what the database holds.
const leaseCreated = `UPDATE Instances SET LockedBy = :token, LockExpiration = :expires
  WHERE InstanceID = CAST(:id AS TEXT) AND ExecutionID = CAST(:execution AS TEXT)
    AND RuntimeStatus = 'PENDING' AND LockedBy IS NULL
    AND NOT EXISTS (SELECT 1 FROM History WHERE InstanceID = CAST(:id AS TEXT))
    AND NOT EXISTS (SELECT 1 FROM Inbox
      WHERE InstanceID = CAST(:id AS TEXT) AND EventKind <> 'executionStarted')
  RETURNING InstanceID`;

const claimStart = `UPDATE Inbox SET DequeueCount = DequeueCount + 1, LockedBy = :token
  WHERE InstanceID = CAST(:id AS TEXT) AND EventKind = 'executionStarted'
    AND EXISTS (SELECT 1 FROM Instances
      WHERE InstanceID = CAST(:id AS TEXT) AND LockedBy = CAST(:token AS TEXT))`;

/**
 * After a create's statements: leases the instance under `token` and claims its start event,
 * only if that create made it and nothing else happened to it. Results: lease (a row: leased),
 * claim.
 */
export function leaseCreatedStatements(
  instanceId: string,
  executionId: string,
  token: string,
  expiresAtMs: number,
): SqlStatement[] {
  const values = { token, expires: expiresAtMs, id: instanceId, execution: executionId };
  return [named(leaseCreated, values), named(claimStart, values)];
}

/** The whole history of one instance: `EventPayload` in order. */
export function fullHistoryStatement(instanceId: string): SqlStatement {
  return {
    sql: "SELECT EventPayload FROM History WHERE InstanceID = CAST(? AS TEXT) ORDER BY SequenceNumber",
    args: [instanceId],
  };
}

function historyReadStatement(
  token: string,
  expiresAtMs: number,
  known: readonly [string, number][],
): SqlStatement {
  if (known.length === 0) return { sql: readHistory, args: [expiresAtMs, token] };
  return { sql: readHistoryTail(known.length), args: [...known.flat(), expiresAtMs, token] };
}

/**
 * Locks up to `maxCount` instances under `token`, claims their events and reads their history
 * (one batch). `known` lists `[instance id, events known]` of cached histories: for those only
 * the rows from the last known one on are read. Results: locked ids; claimed `InstanceID,
 * SequenceNumber, VisibleTime, DequeueCount, EventPayload`; history `InstanceID, SequenceNumber,
 * EventPayload` in order.
 */
export function lockOrchestrationStatements(
  token: string,
  maxCount: number,
  nowMs: number,
  expiresAtMs: number,
  known: readonly [string, number][] = [],
): SqlStatement[] {
  const lock = named(lockInstances, { token, expires: expiresAtMs, now: nowMs, limit: maxCount });
  return lockStep(lock, token, nowMs, expiresAtMs, known);
}

/** `lock`, then the claim of the leased instances' events and the read of their histories. */
function lockStep(
  lock: SqlStatement,
  token: string,
  nowMs: number,
  expiresAtMs: number,
  known: readonly [string, number][],
): SqlStatement[] {
  return [
    lock,
    { sql: claimEvents, args: [token, expiresAtMs, token, nowMs, nowMs] },
    historyReadStatement(token, expiresAtMs, known),
  ];
}

/**
 * Locks `instanceId` under `token` if it is free and has deliverable events, claims them and
 * reads its history: the results of {@link lockOrchestrationStatements}, for one instance.
 */
export function lockInstanceStatements(
  instanceId: string,
  token: string,
  nowMs: number,
  expiresAtMs: number,
  known: readonly [string, number][] = [],
): SqlStatement[] {
  const lock = named(lockInstance, { token, expires: expiresAtMs, id: instanceId, now: nowMs });
  return lockStep(lock, token, nowMs, expiresAtMs, known);
}

const releaseLease = `UPDATE Instances SET LockedBy = NULL, LockExpiration = NULL
  WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT)`;

/** Releases the lease; 0 changes means it was lost. Put it after every guarded write. */
export function releaseLeaseStatement(instanceId: string, token: string): SqlStatement {
  return { sql: releaseLease, args: [instanceId, token] };
}

/** The earliest visible time of the instance's remaining inbox rows (NULL when none). */
export function nextVisibleStatement(instanceId: string): SqlStatement {
  return {
    sql: "SELECT MIN(VisibleTime) FROM Inbox WHERE InstanceID = CAST(? AS TEXT)",
    args: [instanceId],
  };
}

const unclaimEvents = `UPDATE Inbox SET LockedBy = NULL, VisibleTime = ?
  WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT) AND ${leaseHeld}`;

/**
 * Returns the claimed events to the inbox, visible at `visibleAtMs`, and releases the lease
 * (one batch). Results: unclaim; release (0 changes: lease lost); next visible time.
 */
export function abandonOrchestrationStatements(
  instanceId: string,
  token: string,
  visibleAtMs: number,
): SqlStatement[] {
  return [
    { sql: unclaimEvents, args: [visibleAtMs, instanceId, token, instanceId, token] },
    releaseLeaseStatement(instanceId, token),
    nextVisibleStatement(instanceId),
  ];
}

/** Extends the lease to `expiresAtMs`; 0 changes means it was lost. */
export function renewOrchestrationStatement(
  instanceId: string,
  token: string,
  expiresAtMs: number,
): SqlStatement {
  return {
    sql: "UPDATE Instances SET LockExpiration = ? WHERE InstanceID = CAST(? AS TEXT) AND LockedBy = CAST(? AS TEXT)",
    args: [expiresAtMs, instanceId, token],
  };
}
