import { fromBinary } from "@bufbuild/protobuf";
import { HistoryEventSchema } from "@durabletask/api/proto";
import Database from "better-sqlite3";

const statuses = [
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "TERMINATED",
  "SUSPENDED",
  "CANCELED",
];
const terminal = new Set(["COMPLETED", "FAILED", "TERMINATED", "CANCELED"]);

type Row = Record<string, unknown>;

/**
 * The rules a task hub database must satisfy whatever happened to it (bad input, crashes, storage
 * faults), each violation as one line naming the rule and the rows; empty means consistent.
 *
 * - `PRAGMA integrity_check` is `ok` and the schema version is the one the backend writes.
 * - Every Inbox, History and ActivityTasks row belongs to an Instances row.
 * - A lease has an expiry (`LockedBy` and `LockExpiration` are set together); claimed inbox rows
 *   belong to a leased instance.
 * - History sequence numbers run 0, 1, 2, … per instance; every event decodes; a non-empty
 *   history holds exactly one ExecutionStarted, of the instance's id and execution id.
 * - Statuses are known ones; terminal instances have a completion time and, once they have
 *   history, an ExecutionCompleted event; non-terminal ones have neither.
 *
 * Opens `path` read-only (a SQLite file, or a libSQL `file:` database), so it can run beside a
 * stopped engine without changing anything.
 */
export function checkTaskHubFile(path: string): string[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string): Row[] => db.prepare(sql).all() as Row[];
    return checkTaskHub(all);
  } finally {
    db.close();
  }
}

/** {@link checkTaskHubFile} over any way to run a query that returns rows as objects. */
export function checkTaskHub(all: (sql: string) => Row[]): string[] {
  const problems: string[] = [];
  const integrity = all("PRAGMA integrity_check").map((row) => String(Object.values(row)[0]));
  if (integrity.join() !== "ok") problems.push(`integrity_check: ${integrity.join("; ")}`);
  const version = all("SELECT Value FROM Meta WHERE Key = 'SchemaVersion'")[0]?.Value;
  if (version !== "1") problems.push(`Meta: schema version ${String(version)}, expected 1`);

  for (const table of ["Inbox", "History", "ActivityTasks"]) {
    const orphans = all(
      `SELECT DISTINCT InstanceID FROM ${table} AS T
       WHERE NOT EXISTS (SELECT 1 FROM Instances AS I WHERE I.InstanceID = T.InstanceID)`,
    );
    for (const row of orphans) {
      problems.push(`${table}: rows of instance '${String(row.InstanceID)}' with no Instances row`);
    }
  }
  for (const row of all(
    "SELECT InstanceID FROM Instances WHERE (LockedBy IS NULL) <> (LockExpiration IS NULL)",
  )) {
    problems.push(`Instances: '${String(row.InstanceID)}' has a lease without an expiry or v.v.`);
  }
  for (const row of all(
    `SELECT DISTINCT E.InstanceID FROM Inbox AS E JOIN Instances AS I ON I.InstanceID = E.InstanceID
     WHERE E.LockedBy IS NOT NULL AND I.LockedBy IS NULL`,
  )) {
    problems.push(`Inbox: claimed rows of '${String(row.InstanceID)}', which has no lease`);
  }

  const instances = new Map<string, Row>();
  for (const row of all(
    "SELECT InstanceID, ExecutionID, RuntimeStatus, CompletedTime FROM Instances",
  )) {
    const id = String(row.InstanceID);
    instances.set(id, row);
    const status = String(row.RuntimeStatus);
    if (!statuses.includes(status)) problems.push(`Instances: '${id}' has status ${status}`);
    if (terminal.has(status) !== (row.CompletedTime !== null)) {
      problems.push(
        `Instances: '${id}' is ${status} with CompletedTime ${String(row.CompletedTime)}`,
      );
    }
  }

  const histories = new Map<string, { sequence: number[]; kinds: string[]; started: Row[] }>();
  for (const row of all(
    "SELECT InstanceID, SequenceNumber, EventPayload FROM History ORDER BY InstanceID, SequenceNumber",
  )) {
    const id = String(row.InstanceID);
    let history = histories.get(id);
    if (history === undefined) {
      history = { sequence: [], kinds: [], started: [] };
      histories.set(id, history);
    }
    history.sequence.push(Number(row.SequenceNumber));
    try {
      const event = fromBinary(HistoryEventSchema, row.EventPayload as Uint8Array);
      history.kinds.push(event.eventType.case ?? "unknown");
      if (event.eventType.case === "executionStarted") {
        const started = event.eventType.value;
        history.started.push({
          instanceId: started.orchestrationInstance?.instanceId,
          executionId: started.orchestrationInstance?.executionId,
        });
      }
    } catch (error) {
      problems.push(`History: '${id}' #${String(row.SequenceNumber)} does not decode: ${error}`);
    }
  }
  for (const [id, history] of histories) {
    const gap = history.sequence.findIndex((n, i) => n !== i);
    if (gap >= 0) {
      problems.push(`History: '${id}' sequence numbers ${history.sequence.join(",")} have a gap`);
    }
    const instance = instances.get(id);
    if (instance === undefined) continue;
    const [started, ...more] = history.started;
    if (started === undefined || more.length > 0) {
      problems.push(`History: '${id}' has ${history.started.length} ExecutionStarted events`);
    } else if (started.instanceId !== id || started.executionId !== instance.ExecutionID) {
      problems.push(
        `History: '${id}' started as ${String(started.instanceId)}/${String(started.executionId)}, row says execution ${String(instance.ExecutionID)}`,
      );
    }
    const completed = history.kinds.filter((kind) => kind === "executionCompleted").length;
    const status = String(instance.RuntimeStatus);
    if (completed !== (terminal.has(status) ? 1 : 0)) {
      problems.push(`History: '${id}' is ${status} with ${completed} ExecutionCompleted events`);
    }
  }
  return problems;
}
