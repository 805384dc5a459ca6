import Database from "better-sqlite3";
import type { Figures } from "./modes/bench-mode.js";
import type { Synchronous } from "./modes/sqlite-mode.js";

/** Rows per transaction of the batched figure. */
export const batchSize = 100;

/**
 * What SQLite itself sustains on a fresh WAL file at `synchronous`, through better-sqlite3 with
 * no engine on top: `small_tx_per_s` (BEGIN IMMEDIATE; one INSERT; one UPDATE; COMMIT — the
 * shape of an engine commit, each paying the commit's sync cost) and `batched_rows_per_s` (100
 * INSERTs per transaction). Each figure runs for about `durationMs`.
 */
export function measureStorageCeiling(
  path: string,
  synchronous: Synchronous,
  durationMs: number,
): Figures {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(
      "CREATE TABLE Items (Id INTEGER PRIMARY KEY, Name TEXT NOT NULL, Payload TEXT, Version INTEGER NOT NULL DEFAULT 0)",
    );
    return {
      small_tx_per_s: smallTransactionsPerSecond(db, durationMs),
      batched_rows_per_s: batchedRowsPerSecond(db, durationMs),
    };
  } finally {
    db.close();
  }
}

function smallTransactionsPerSecond(db: Database.Database, durationMs: number): number {
  const insert = db.prepare("INSERT INTO Items (Name, Payload) VALUES (?, ?)");
  const update = db.prepare("UPDATE Items SET Version = Version + 1 WHERE Id = ?");
  const tx = db.transaction((i: number) => {
    const { lastInsertRowid } = insert.run(`item-${i}`, `{"input":"payload ${i}"}`);
    update.run(lastInsertRowid);
  });
  return ratePerSecond(durationMs, (i) => {
    tx.immediate(i);
    return 1;
  });
}

function batchedRowsPerSecond(db: Database.Database, durationMs: number): number {
  const insert = db.prepare("INSERT INTO Items (Name, Payload) VALUES (?, ?)");
  const tx = db.transaction((first: number) => {
    for (let i = first; i < first + batchSize; i++)
      insert.run(`row-${i}`, `{"input":"payload ${i}"}`);
  });
  return ratePerSecond(durationMs, (i) => {
    tx.immediate(i * batchSize);
    return batchSize;
  });
}

/** Calls `step(i)` for about `durationMs` and returns the units it reported per second. */
function ratePerSecond(durationMs: number, step: (i: number) => number): number {
  const start = performance.now();
  let units = 0;
  let elapsed = 0;
  for (let i = 0; elapsed < durationMs; i++) {
    units += step(i);
    elapsed = performance.now() - start;
  }
  return (units * 1000) / elapsed;
}
