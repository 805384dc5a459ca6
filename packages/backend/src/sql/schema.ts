import type { SqlStatement } from "./driver.js";

/** The schema version this module writes and understands. */
export const schemaVersion = 1;

/**
 * The task hub schema. Times are INTEGER epoch milliseconds, payloads protobuf BLOBs, runtime
 * statuses the short names (`RUNNING`, `COMPLETED`, …). Only portable types and constructs are
 * used so that a Postgres port can keep the same shape (INTEGER PRIMARY KEY → identity column).
 */
const tables: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS Meta (
    Key TEXT NOT NULL PRIMARY KEY,
    Value TEXT NOT NULL
  )`,
  // One row per instance id. LockedBy/LockExpiration are the orchestration lease.
  `CREATE TABLE IF NOT EXISTS Instances (
    InstanceID TEXT NOT NULL PRIMARY KEY,
    ExecutionID TEXT NOT NULL,
    Name TEXT NOT NULL,
    Version TEXT NULL,
    RuntimeStatus TEXT NOT NULL,
    CreatedTime INTEGER NOT NULL,
    LastUpdatedTime INTEGER NOT NULL,
    CompletedTime INTEGER NULL,
    ScheduledStartTime INTEGER NULL,
    Input TEXT NULL,
    Output TEXT NULL,
    CustomStatus TEXT NULL,
    FailureDetails BLOB NULL,
    ParentInstanceID TEXT NULL,
    Tags TEXT NULL,
    LockedBy TEXT NULL,
    LockExpiration INTEGER NULL
  )`,
  "CREATE INDEX IF NOT EXISTS IX_Instances_RuntimeStatus ON Instances (RuntimeStatus, CreatedTime)",
  "CREATE INDEX IF NOT EXISTS IX_Instances_CreatedTime ON Instances (CreatedTime)",
  // Dropped after version 1 without a version change (code that knows it works without it, and
  // recreates it when it opens the database): leases are found by LockExpiration + LockedBy.
  "DROP INDEX IF EXISTS IX_Instances_LockedBy",
  "CREATE INDEX IF NOT EXISTS IX_Instances_LockExpiration ON Instances (LockExpiration) WHERE LockExpiration IS NOT NULL",
  `CREATE TABLE IF NOT EXISTS History (
    InstanceID TEXT NOT NULL,
    SequenceNumber INTEGER NOT NULL,
    EventPayload BLOB NOT NULL,
    PRIMARY KEY (InstanceID, SequenceNumber)
  )`,
  // New events per instance, durable timers included (rows with a future VisibleTime).
  // ExecutionID scopes a row to one execution (activity results, timers, sub-orchestration
  // results); NULL rows belong to whatever execution is current. LockedBy is the lease token of
  // the episode that claimed the row.
  `CREATE TABLE IF NOT EXISTS Inbox (
    SequenceNumber INTEGER PRIMARY KEY,
    InstanceID TEXT NOT NULL,
    ExecutionID TEXT NULL,
    EventKind TEXT NOT NULL,
    VisibleTime INTEGER NOT NULL,
    DequeueCount INTEGER NOT NULL DEFAULT 0,
    LockedBy TEXT NULL,
    EventPayload BLOB NOT NULL
  )`,
  // Unclaimed rows by visible time: the lock step walks this in order and stops after a few, so
  // its cost does not grow with the rows that in-flight episodes have claimed.
  "CREATE INDEX IF NOT EXISTS IX_Inbox_Ready ON Inbox (VisibleTime, SequenceNumber) WHERE LockedBy IS NULL",
  "CREATE INDEX IF NOT EXISTS IX_Inbox_InstanceID ON Inbox (InstanceID, SequenceNumber)",
  // The start rows alone: the lock step asks, for every row it considers, whether the
  // instance's start is still in the future. Without this it scanned all of the instance's
  // rows each time (quadratic in a fan-out's waiting results). Added after version 1 without a
  // version change: IF NOT EXISTS adds it to an existing version-1 database when it is opened,
  // and code that does not know it works unchanged.
  "CREATE INDEX IF NOT EXISTS IX_Inbox_Starts ON Inbox (InstanceID, VisibleTime) WHERE EventKind = 'executionStarted'",
  // The activity queue. VisibleTime is when a task may next be leased: the enqueue time, the end
  // of an abandon delay, or while leased the lease's expiry. SequenceNumber is a plain rowid, as
  // in Inbox: a number may come back once its task is gone, and nothing depends on it not doing
  // so (every lease carries a token of its own), while AUTOINCREMENT wrote its counter table's
  // page in every commit that scheduled an activity. Databases created with AUTOINCREMENT keep
  // it and work the same.
  `CREATE TABLE IF NOT EXISTS ActivityTasks (
    SequenceNumber INTEGER PRIMARY KEY,
    InstanceID TEXT NOT NULL,
    ExecutionID TEXT NOT NULL,
    VisibleTime INTEGER NOT NULL,
    DequeueCount INTEGER NOT NULL DEFAULT 0,
    LockedBy TEXT NULL,
    EventPayload BLOB NOT NULL
  )`,
  "CREATE INDEX IF NOT EXISTS IX_ActivityTasks_VisibleTime ON ActivityTasks (VisibleTime, SequenceNumber)",
  "CREATE INDEX IF NOT EXISTS IX_ActivityTasks_InstanceID ON ActivityTasks (InstanceID)",
];

function statement(sql: string): SqlStatement {
  return { sql, args: [] };
}

/**
 * Creates the schema if missing (idempotent) and reads back the stored schema version; the last
 * result's single row holds it.
 */
export function createSchemaStatements(): SqlStatement[] {
  return [
    ...tables.map(statement),
    {
      sql: "INSERT INTO Meta (Key, Value) VALUES ('SchemaVersion', ?) ON CONFLICT (Key) DO NOTHING",
      args: [String(schemaVersion)],
    },
    statement("SELECT Value FROM Meta WHERE Key = 'SchemaVersion'"),
  ];
}

const tableNames = ["Instances", "History", "Inbox", "ActivityTasks", "Meta"] as const;

/**
 * Counts the task hub's tables (first result, one row), then drops them all. Zero tables counted
 * means there was no task hub.
 */
export function dropSchemaStatements(): SqlStatement[] {
  return [
    statement(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('Instances', 'History', 'Inbox', 'ActivityTasks', 'Meta')",
    ),
    ...tableNames.map((name) => statement(`DROP TABLE IF EXISTS ${name}`)),
  ];
}
